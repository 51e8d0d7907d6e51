"""Hand-built patient timelines: a tiny population in which each patient is one boundary case.

Day 0 (``D0``) is 2024-03-01 unless a case says otherwise; the measurement year is 2024.
``EXPECTED`` maps each patient id to (status, imaged, reason) under the HEDIS spec.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from backtriage.audit.synth import Population, write_fhir

YEAR = 2024
D0 = dt.date(2024, 3, 1)
ADULT = "1980-06-15"


def day(offset: int, base: dt.date = D0) -> str:
    return (base + dt.timedelta(days=offset)).isoformat()


class Timelines:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, str | None]]] = {
            "patients": [],
            "encounters": [],
            "diagnoses": [],
            "procedures": [],
            "medications": [],
        }
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:05d}"

    def patient(self, pid: str, birth: str = ADULT) -> Timelines:
        self.rows["patients"].append({"patient_id": pid, "birth_date": birth, "sex": "female"})
        return self

    def visit(
        self,
        pid: str,
        date: str,
        setting: str = "outpatient",
        code: str = "M54.50",
        principal: bool = True,
        clinician: str = "c1",
        site: str = "s1",
    ) -> str:
        eid = self._id("E")
        self.rows["encounters"].append(
            {
                "encounter_id": eid,
                "patient_id": pid,
                "date": date,
                "setting": setting,
                "clinician_id": clinician,
                "site_id": site,
            }
        )
        self.dx(pid, date, code, encounter=eid, principal=principal)
        return eid

    def dx(
        self,
        pid: str,
        date: str,
        code: str,
        system: str = "icd10cm",
        encounter: str | None = None,
        principal: bool = False,
    ) -> None:
        self.rows["diagnoses"].append(
            {
                "patient_id": pid,
                "date": date,
                "code_system": system,
                "code": code,
                "encounter_id": encounter,
                "principal": "true" if principal else "false",
                "record_id": self._id("D"),
            }
        )

    def procedure(self, pid: str, date: str, code: str = "72148", system: str = "cpt") -> None:
        self.rows["procedures"].append(
            {
                "patient_id": pid,
                "date": date,
                "code_system": system,
                "code": code,
                "encounter_id": None,
                "record_id": self._id("R"),
            }
        )

    def medication(self, pid: str, start: str, days: int, code: str = "H02AB07") -> None:
        self.rows["medications"].append(
            {
                "patient_id": pid,
                "start_date": start,
                "days_supply": str(days),
                "code_system": "atc",
                "code": code,
                "record_id": self._id("M"),
            }
        )

    def hospice(self, pid: str, date: str) -> None:
        self.rows["encounters"].append(
            {
                "encounter_id": self._id("H"),
                "patient_id": pid,
                "date": date,
                "setting": "hospice",
                "clinician_id": None,
                "site_id": None,
            }
        )

    def population(self) -> Population:
        columns = {
            "patients": ("patient_id", "birth_date", "sex"),
            "encounters": (
                "encounter_id",
                "patient_id",
                "date",
                "setting",
                "clinician_id",
                "site_id",
            ),
            "diagnoses": (
                "patient_id",
                "date",
                "code_system",
                "code",
                "encounter_id",
                "principal",
                "record_id",
            ),
            "procedures": (
                "patient_id",
                "date",
                "code_system",
                "code",
                "encounter_id",
                "record_id",
            ),
            "medications": (
                "patient_id",
                "start_date",
                "days_supply",
                "code_system",
                "code",
                "record_id",
            ),
        }
        return Population(
            {
                name: pa.table(
                    {c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns[name]}
                )
                for name, rows in self.rows.items()
            }
        )

    def write_csv(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in self.population().tables.items():
            pacsv.write_csv(table, folder / f"{name}.csv")
        return folder

    def write_fhir(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        write_fhir(self.population(), folder)
        return folder


DEN, EXC, NE = "denominator", "excluded", "not_eligible"
EXPECTED: dict[str, tuple[str, bool | None, str | None]] = {}


def build() -> Timelines:
    """Every boundary case of the issue, one patient each."""
    t = Timelines()

    def case(
        pid: str,
        expected: tuple[str, bool | None, str | None],
        birth: str = ADULT,
        index: str = day(0),
        setting: str = "outpatient",
        code: str = "M54.50",
        principal: bool = True,
        clinician: str = "c1",
    ) -> str:
        EXPECTED[pid] = expected
        t.patient(pid, birth)
        t.visit(pid, index, setting=setting, code=code, principal=principal, clinician=clinician)
        return pid

    # Numerator window: day 0..28 counts, day 29 and before day 0 do not.
    t.procedure(case("img_day0", (DEN, True, None)), day(0))
    t.procedure(case("img_day28", (DEN, True, None)), day(28))
    t.procedure(case("img_day29", (DEN, False, None)), day(29))
    t.procedure(case("img_before_index", (DEN, False, None)), day(-1))
    t.procedure(case("img_ct", (DEN, True, None)), day(5), "72131")
    t.procedure(case("img_not_lumbar", (DEN, False, None)), day(5), "99213")
    case("not_imaged", (DEN, False, None))
    # 180-day negative diagnosis history.
    t.dx(case("lbp_prior_180", (EXC, None, "lbp_diagnosis_prior_180d")), day(-180), "M54.59")
    t.dx(case("lbp_prior_181", (DEN, False, None)), day(-181), "M54.59")
    # Ages (HEDIS: 18 on Jan 1, 75 on Dec 31).
    case("age_17", (NE, None, "age_out_of_range"), birth="2006-01-02")
    case("age_18", (DEN, False, None), birth="2006-01-01")
    case("age_75", (DEN, False, None), birth="1949-01-01")
    case("age_76", (NE, None, "age_out_of_range"), birth="1948-12-31")
    case("age_49_cms", (DEN, False, None), birth="1974-01-02")
    case("age_50_cms", (DEN, False, None), birth="1974-01-01")
    # Exclusion windows, each edge in and out.
    for code, reason, lo, hi in (
        ("S32.009A", "trauma", -90, 28),
        ("F11.20", "iv_drug_abuse", -365, 28),
        ("G83.4", "neurologic_impairment", -365, 28),
        ("G06.1", "spinal_infection", -365, 28),
    ):
        t.dx(case(f"{reason}_in_lo", (EXC, None, reason)), day(lo), code)
        t.dx(case(f"{reason}_out_lo", (DEN, False, None)), day(lo - 1), code)
        t.dx(case(f"{reason}_in_hi", (EXC, None, reason)), day(hi), code)
        t.dx(case(f"{reason}_out_hi", (DEN, False, None)), day(hi + 1), code)
    for code, reason in (("C50.911", "cancer"), ("B20", "hiv"), ("Z94.0", "organ_transplant")):
        t.dx(case(f"{reason}_long_before", (EXC, None, reason)), day(-3000), code)
        t.dx(case(f"{reason}_in_hi", (EXC, None, reason)), day(28), code)
        t.dx(case(f"{reason}_out_hi", (DEN, False, None)), day(29), code)
    t.procedure(
        case("transplant_pcs", (EXC, None, "organ_transplant")), day(-10), "0TY00Z0", "icd10pcs"
    )
    t.dx(case("lbp_sprain_not_trauma", (DEN, False, None)), day(0), "S39.012A")
    # Prolonged corticosteroids: >= 90 days supply in days -365..-1.
    t.medication(case("steroid_90", (EXC, None, "prolonged_corticosteroids")), day(-90), 90)
    t.medication(case("steroid_89", (DEN, False, None)), day(-89), 90)  # day 0 is outside
    pid = case("steroid_split", (EXC, None, "prolonged_corticosteroids"))
    t.medication(pid, day(-365 - 10), 40)  # 30 days inside
    t.medication(pid, day(-100), 60)
    t.medication(case("steroid_old", (DEN, False, None)), day(-456), 90)
    t.medication(case("not_steroid", (DEN, False, None)), day(-200), 180, code="C09AA05")
    # A code counts only in its own system: ATC C (cardiovascular) and S (sensory organs) are
    # not ICD-10-CM cancer (C) or injury (S) codes (HCPCS: test_measure.py).
    t.medication(case("atc_c_not_cancer", (DEN, False, None)), day(-5), 30, code="C10AA01")
    t.medication(case("atc_s_not_trauma", (DEN, False, None)), day(-5), 30, code="S01AA01")
    # Hospice any time in the measurement year.
    t.hospice(case("hospice_in_year", (EXC, None, "hospice")), "2024-12-31")
    t.hospice(case("hospice_prior_year", (DEN, False, None)), "2023-12-31")
    # Two reasons: the first in specs.yaml order wins (cancer before trauma).
    pid = case("two_reasons", (EXC, None, "cancer"))
    t.dx(pid, day(-5), "S32.009A")
    t.dx(pid, day(-5), "C61")
    # Intake period (Jan 1 - Dec 3) and settings.
    case("index_jan01", (DEN, False, None), index="2024-01-01")
    case("index_dec03", (DEN, False, None), index="2024-12-03")
    case("index_dec04", (NE, None, "no_index_encounter"), index="2024-12-04")
    case("index_prior_year", (NE, None, "no_index_encounter"), index="2023-12-31")
    case("inpatient_only", (NE, None, "no_index_encounter"), setting="inpatient")
    case("physiotherapy", (DEN, False, None), setting="physiotherapy")
    case("chiropractic", (DEN, False, None), setting="chiropractic")
    case("telehealth", (DEN, False, None), setting="telehealth")
    case("secondary_dx_only", (NE, None, "no_index_encounter"), principal=False)
    case("no_lbp", (NE, None, "no_index_encounter"), code="I10")
    # Two episodes: the first in the intake period is day 0.
    pid = case("two_episodes", (DEN, False, None), index="2024-02-01")
    t.visit(pid, "2024-09-01")
    t.procedure(pid, "2024-09-05")
    pid = case(
        "episode_after_recent_one", (EXC, None, "lbp_diagnosis_prior_180d"), index="2024-02-01"
    )
    t.visit(pid, "2023-10-01")
    # A red flag on record for an imaged patient (for the chart review).
    pid = case("imaged_with_fever", (DEN, True, None), clinician="c2")
    t.dx(pid, day(-2), "R50.9")
    t.procedure(pid, day(3))
    # Invalid rows: counted as rejected, never used.
    t.dx("img_day29", "2024-02-30", "C50.911")  # bad date: would exclude if read
    t.dx("img_day29", day(1), "C50.911", system="icd9cm")  # unknown code system
    t.procedure("ghost", day(1))  # patient not in patients
    return t


#: Where the CMS166v7 spec (ages 18-49 at the start of the year) differs from HEDIS.
EXPECTED_CMS: dict[str, tuple[str, bool | None, str | None]] = {
    "age_75": (NE, None, "age_out_of_range"),
    "age_50_cms": (NE, None, "age_out_of_range"),
}

#: Third-party warnings we cannot avoid, filtered narrowly in every audit test module
#: (``pytestmark = AUDIT_WARNINGS``):
#: - ibis 12 calls DuckDB's ``fetch_arrow_table``, deprecated in DuckDB 2.x (ibis must move to
#:   ``to_arrow_table``);
#: - PySpark's collect path leaves its local result socket to the garbage collector, which
#:   pytest reports as an unraisable ResourceWarning in whichever test is running then.
AUDIT_WARNINGS = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table\\(\\) is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in.*socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]
