"""A seeded, deterministic synthetic population for demos, tests and benchmarks.

Written as the tabular layout (CSV or Parquet, see ``LAYOUT.md``) or as a FHIR R4 Bulk Data
export (one NDJSON file per resource type), from the same tables, so both give the same audit.

The rates in :data:`PARAMETERS` are illustrative, chosen to exercise every path of the measure
(a realistic-looking mix: most adults have no back-pain visit, a minority of clinicians image far
more than the rest, a few percent carry an exclusion).  They are NOT calibrated to a cited
source and must not be read as epidemiology.  Codes are taken from the audit's own code lists,
plus a few common background codes (checked against the ICD-10-CM tables of simple-icd-10-cm
1.5.0; ATC codes from the WHO ATC index).  Generation is vectorised (NumPy, Arrow): a million
patients (about ten million rows) take well under a minute.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from backtriage.audit.layout import FHIR_SYSTEM_URIS

IntArray = npt.NDArray[np.int64]

#: Illustrative rates (see the module docstring): fractions unless named otherwise.
PARAMETERS: dict[str, float] = {
    "share_under_18": 0.18,
    "background_encounters_mean": 2.2,
    "second_diagnosis_share": 0.5,
    "medications_mean": 0.9,
    "lbp_share_of_adults": 0.14,
    "lbp_prior_180d_share": 0.08,
    "lbp_prior_older_share": 0.05,
    "lbp_second_episode_share": 0.2,
    "clinician_high_imager_share": 0.15,
    "imaging_low": 0.10,
    "imaging_low_spread": 0.12,
    "imaging_high": 0.45,
    "imaging_high_spread": 0.25,
    "imaging_late_share": 0.05,
    "imaging_before_share": 0.02,
    "invalid_row_share": 0.0005,
}

#: Exclusion conditions planted among back-pain patients: share, codes, window (days).
PLANTED: tuple[tuple[str, float, tuple[str, ...], int, int], ...] = (
    ("cancer", 0.04, ("C50.911", "C61", "Z85.3", "C18.9"), -2000, 20),
    ("trauma", 0.05, ("S32.009A", "S72.001A", "S22.009A"), -150, 28),
    ("hiv", 0.005, ("B20", "Z21"), -2000, 0),
    ("organ_transplant", 0.003, ("Z94.0", "Z94.4"), -2000, 0),
    ("spinal_infection", 0.002, ("M46.26", "G06.1"), -60, 20),
    ("iv_drug_abuse", 0.01, ("F11.20", "F14.10"), -400, 0),
    ("neurologic_impairment", 0.005, ("G83.4",), -30, 10),
)
#: Red flags that do not exclude (so imaged patients can show them in the chart review).
RED_FLAGS: tuple[tuple[float, str], ...] = (
    (0.03, "R50.9"),
    (0.02, "R63.4"),
    (0.03, "M81.0"),
    (0.01, "Z79.52"),
)
LBP_CODES = ("M54.50", "M54.59", "M54.41", "M54.42", "S39.012A", "M51.26", "M54.16")
LBP_WEIGHTS = (0.55, 0.1, 0.08, 0.07, 0.1, 0.05, 0.05)
BACKGROUND_DX = ("I10", "E11.9", "J06.9", "Z00.00", "E78.5", "K21.9")
BACKGROUND_RX = ("C09AA05", "A10BA02", "C10AA05", "M01AE01")  # ramipril, metformin, ...
IMAGING_CPT = ("72100", "72110", "72131", "72148", "72148", "72100")
OFFICE_VISIT_CPT = "99213"
STEROID_ATC = "H02AB07"  # prednisone
SETTINGS = ("outpatient", "telehealth", "ed", "physiotherapy", "chiropractic", "inpatient")
SETTING_WEIGHTS = (0.68, 0.08, 0.09, 0.07, 0.05, 0.03)

Format = Literal["fhir", "csv", "parquet"]


@dataclass(frozen=True)
class Population:
    tables: dict[str, pa.Table]

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


class _Builder:
    """Collects rows of one table as column arrays."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(self, **columns: Any) -> None:
        self.parts.append(columns)

    def table(self, names: tuple[str, ...]) -> pa.Table:
        columns: dict[str, list[Any]] = {n: [] for n in names}
        for part in self.parts:
            size = max(len(v) for v in part.values() if not isinstance(v, str | bool | int))
            for name in names:
                value = part.get(name)
                if value is None:
                    columns[name].append(pa.nulls(size, pa.string()))
                elif isinstance(value, str | bool | int):
                    text = str(value).lower() if isinstance(value, bool) else str(value)
                    columns[name].append(pa.array([text] * size, pa.string()))
                else:
                    columns[name].append(_as_text(value))
        return pa.table({n: pa.chunked_array(c, pa.string()) for n, c in columns.items()})


def _as_text(value: Any) -> pa.Array:
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return value.cast(pa.string())
    arr = np.asarray(value)
    if arr.dtype.kind == "M":
        return pa.array(arr.astype("datetime64[D]")).cast(pa.string())
    return pa.array(arr).cast(pa.string())


def _days(base: dt.date, offsets: IntArray) -> npt.NDArray[np.datetime64]:
    return np.datetime64(base.isoformat(), "D") + offsets.astype("timedelta64[D]")


def generate(patients: int, seed: int, year: int = 2024) -> Population:
    """The synthetic population: tables of the tabular layout, all text columns."""
    if patients < 1:
        raise ValueError("patients must be at least 1")
    rng = np.random.default_rng(seed)
    p = PARAMETERS
    n = patients
    year_start = dt.date(year, 1, 1)
    span = (dt.date(year, 12, 31) - year_start).days + 1

    pid = pa.array([f"P{i:08d}" for i in range(n)], pa.string())
    n_clin = max(4, n // 400)
    n_site = max(2, n_clin // 8)
    clin_ids = np.array([f"C{i:05d}" for i in range(n_clin)], dtype=object)
    site_of_clin = rng.integers(0, n_site, n_clin)
    site_ids = np.array([f"S{i:03d}" for i in range(n_site)], dtype=object)
    high = rng.random(n_clin) < p["clinician_high_imager_share"]
    propensity = np.where(
        high,
        p["imaging_high"] + rng.random(n_clin) * p["imaging_high_spread"],
        p["imaging_low"] + rng.random(n_clin) * p["imaging_low_spread"],
    )
    clinician = rng.integers(0, n_clin, n)

    under18 = rng.random(n) < p["share_under_18"]
    age = np.where(under18, rng.integers(0, 18, n), rng.integers(18, 90, n))
    birth_offset = -(age * 365 + rng.integers(0, 365, n))
    birth = _days(year_start, birth_offset)
    sex = rng.choice(np.array(["female", "male"], dtype=object), n)
    pats = _Builder()
    pats.add(patient_id=pid, birth_date=birth, sex=sex)

    enc, dx, proc, med = _Builder(), _Builder(), _Builder(), _Builder()
    enc_counter = [0]

    def new_encounter_ids(k: int) -> pa.Array:
        start = enc_counter[0]
        enc_counter[0] += k
        return pa.array([f"E{i:09d}" for i in range(start, start + k)], pa.string())

    # Background care: routine visits over the year and the year before.
    k = rng.poisson(p["background_encounters_mean"], n)
    who = np.repeat(np.arange(n), k)
    day = rng.integers(-365, span, who.size)
    eids = new_encounter_ids(who.size)
    enc.add(
        encounter_id=eids,
        patient_id=pid.take(who),
        date=_days(year_start, day),
        setting="outpatient",
        clinician_id=clin_ids[clinician[who]],
        site_id=site_ids[site_of_clin[clinician[who]]],
    )
    dx.add(
        patient_id=pid.take(who),
        date=_days(year_start, day),
        code_system="icd10cm",
        code=rng.choice(np.array(BACKGROUND_DX, dtype=object), who.size),
        encounter_id=eids,
        principal=True,
    )
    second = rng.random(who.size) < p["second_diagnosis_share"]
    dx.add(
        patient_id=pid.take(who[second]),
        date=_days(year_start, day[second]),
        code_system="icd10cm",
        code=rng.choice(np.array(BACKGROUND_DX, dtype=object), int(second.sum())),
        encounter_id=eids.filter(pa.array(second)),
        principal=False,
    )
    proc.add(
        patient_id=pid.take(who),
        date=_days(year_start, day),
        code_system="cpt",
        code=OFFICE_VISIT_CPT,
        encounter_id=eids,
    )
    k = rng.poisson(p["medications_mean"], n)
    mwho = np.repeat(np.arange(n), k)
    med.add(
        patient_id=pid.take(mwho),
        start_date=_days(year_start, rng.integers(-365, span, mwho.size)),
        days_supply=rng.choice(np.array([30, 90]), mwho.size),
        code_system="atc",
        code=rng.choice(np.array(BACKGROUND_RX, dtype=object), mwho.size),
    )

    # Back-pain episodes among adults.
    adults = np.flatnonzero(~under18)
    lbp = adults[rng.random(adults.size) < p["lbp_share_of_adults"]]
    m = lbp.size
    index_day = rng.integers(0, span, m)
    setting = rng.choice(np.array(SETTINGS, dtype=object), m, p=np.array(SETTING_WEIGHTS))
    lbp_code = rng.choice(np.array(LBP_CODES, dtype=object), m, p=np.array(LBP_WEIGHTS))
    eids = new_encounter_ids(m)
    enc.add(
        encounter_id=eids,
        patient_id=pid.take(lbp),
        date=_days(year_start, index_day),
        setting=setting,
        clinician_id=clin_ids[clinician[lbp]],
        site_id=site_ids[site_of_clin[clinician[lbp]]],
    )
    dx.add(
        patient_id=pid.take(lbp),
        date=_days(year_start, index_day),
        code_system="icd10cm",
        code=lbp_code,
        encounter_id=eids,
        principal=True,
    )
    for share, lo, hi in (
        (p["lbp_prior_180d_share"], -180, -1),
        (p["lbp_prior_older_share"], -400, -181),
        (p["lbp_second_episode_share"], 40, 200),
    ):
        sel = rng.random(m) < share
        when = index_day[sel] + rng.integers(lo, hi + 1, int(sel.sum()))
        dx.add(
            patient_id=pid.take(lbp[sel]),
            date=_days(year_start, when),
            code_system="icd10cm",
            code="M54.50",
            principal=False,
        )
    flagged = np.zeros(m, dtype=bool)
    for _reason, share, codes, lo, hi in PLANTED:
        sel = rng.random(m) < share
        flagged |= sel
        when = index_day[sel] + rng.integers(lo, hi + 1, int(sel.sum()))
        dx.add(
            patient_id=pid.take(lbp[sel]),
            date=_days(year_start, when),
            code_system="icd10cm",
            code=rng.choice(np.array(codes, dtype=object), int(sel.sum())),
            principal=False,
        )
    for share, code in RED_FLAGS:
        sel = rng.random(m) < share
        flagged |= sel
        when = index_day[sel] + rng.integers(-200, 1, int(sel.sum()))
        dx.add(
            patient_id=pid.take(lbp[sel]),
            date=_days(year_start, when),
            code_system="icd10cm",
            code=code,
            principal=False,
        )
    steroid = rng.random(m) < 0.015
    reps = 4
    swho = np.repeat(lbp[steroid], reps)
    sday = np.repeat(index_day[steroid], reps) - np.tile(
        np.arange(1, reps + 1) * 30, int(steroid.sum())
    )
    med.add(
        patient_id=pid.take(swho),
        start_date=_days(year_start, sday),
        days_supply=30,
        code_system="atc",
        code=STEROID_ATC,
    )
    hospice = rng.random(m) < 0.003
    enc.add(
        encounter_id=new_encounter_ids(int(hospice.sum())),
        patient_id=pid.take(lbp[hospice]),
        date=_days(year_start, np.minimum(index_day[hospice] + 10, span - 1)),
        setting="hospice",
    )

    # Imaging: within 28 days with the clinician's propensity (more if a flag is on record),
    # plus some late and some before the index date (neither counts).
    chance = np.minimum(1.0, propensity[clinician[lbp]] * np.where(flagged, 1.8, 1.0))
    imaged = rng.random(m) < chance
    early = rng.random(m) < 0.45
    offset = np.where(early, rng.integers(0, 4, m), rng.integers(0, 29, m))
    late = rng.random(m) < p["imaging_late_share"]
    before = rng.random(m) < p["imaging_before_share"]
    for sel, when in (
        (imaged, index_day + offset),
        (late, index_day + rng.integers(29, 60, m)),
        (before, index_day - rng.integers(1, 60, m)),
    ):
        proc.add(
            patient_id=pid.take(lbp[sel]),
            date=_days(year_start, when[sel]),
            code_system="cpt",
            code=rng.choice(np.array(IMAGING_CPT, dtype=object), int(sel.sum())),
        )

    tables = {
        "patients": pats.table(("patient_id", "birth_date", "sex")),
        "encounters": enc.table(
            ("encounter_id", "patient_id", "date", "setting", "clinician_id", "site_id")
        ),
        "diagnoses": dx.table(
            ("patient_id", "date", "code_system", "code", "encounter_id", "principal", "record_id")
        ),
        "procedures": proc.table(
            ("patient_id", "date", "code_system", "code", "encounter_id", "record_id")
        ),
        "medications": med.table(
            ("patient_id", "start_date", "days_supply", "code_system", "code", "record_id")
        ),
    }
    tables = {name: _add_record_ids(name, t) for name, t in tables.items()}
    tables = _spoil(tables, rng, p["invalid_row_share"])
    return Population(tables)


def _add_record_ids(name: str, table: pa.Table) -> pa.Table:
    if "record_id" not in table.column_names:
        return table
    prefix = {"diagnoses": "D", "procedures": "R", "medications": "M"}[name]
    ids = pa.array([f"{prefix}{i:09d}" for i in range(table.num_rows)], pa.string())
    return table.set_column(table.column_names.index("record_id"), "record_id", ids)


def _spoil(
    tables: dict[str, pa.Table], rng: np.random.Generator, share: float
) -> dict[str, pa.Table]:
    """Plant a few invalid rows so the run summary's rejection counts are exercised."""
    out = dict(tables)
    for name, column, bad in (
        ("diagnoses", "date", "2024-02-30"),
        ("diagnoses", "code_system", "icd9cm"),
        ("procedures", "patient_id", "P-UNKNOWN"),
    ):
        t = out[name]
        mask = pa.array(rng.random(t.num_rows) < share)
        i = t.column_names.index(column)
        out[name] = t.set_column(i, column, pc.if_else(mask, bad, t.column(column)))
    return out


def write(population: Population, out: Path, fmt: Format) -> list[Path]:
    """Write ``population`` to the folder ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "fhir":
        return write_fhir(population, out)
    written = []
    for name, table in population.tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            # One chunk per column: pyarrow's CSV writer repeats a row of a table whose columns
            # are chunked differently (as ``_spoil`` leaves them).
            pacsv.write_csv(table.combine_chunks(), path)
        written.append(path)
    return written


_URI = {short: uri for uri, short in FHIR_SYSTEM_URIS.items()}
_CLASS = {
    "outpatient": "AMB",
    "telehealth": "VR",
    "ed": "EMER",
    "inpatient": "IMP",
    "physiotherapy": "AMB",
    "chiropractic": "AMB",
    "hospice": "HH",
}


def write_fhir(population: Population, out: Path) -> list[Path]:
    """One NDJSON file per resource type (FHIR R4 Bulk Data layout)."""
    from backtriage.audit.fhir import SETTING_SYSTEM

    t = {name: table.to_pylist() for name, table in population.tables.items()}
    principal: dict[str, list[str]] = {}
    conditions = []
    for i, row in enumerate(t["diagnoses"]):
        cid = row["record_id"] or f"dx{i}"
        if row["principal"] == "true" and row["encounter_id"]:
            principal.setdefault(row["encounter_id"], []).append(cid)
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": cid,
            "subject": {"reference": f"Patient/{row['patient_id']}"},
            "code": {
                "coding": [
                    {
                        "system": _URI.get(row["code_system"], row["code_system"]),
                        "code": row["code"],
                    }
                ]
            },
            "recordedDate": row["date"],
        }
        if row["encounter_id"]:
            resource["encounter"] = {"reference": f"Encounter/{row['encounter_id']}"}
        conditions.append(resource)
    files: dict[str, list[dict[str, Any]]] = {
        "Patient": [
            {
                "resourceType": "Patient",
                "id": r["patient_id"],
                "birthDate": r["birth_date"],
                "gender": r["sex"],
            }
            for r in t["patients"]
        ],
        "Encounter": [],
        "Condition": conditions,
        "Procedure": [],
        "MedicationRequest": [],
    }
    for r in t["encounters"]:
        resource = {
            "resourceType": "Encounter",
            "id": r["encounter_id"],
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": _CLASS.get(r["setting"], "AMB"),
            },
            "type": [{"coding": [{"system": SETTING_SYSTEM, "code": r["setting"]}]}],
            "subject": {"reference": f"Patient/{r['patient_id']}"},
            "period": {"start": r["date"]},
        }
        if r["clinician_id"]:
            resource["participant"] = [
                {"individual": {"reference": f"Practitioner/{r['clinician_id']}"}}
            ]
        if r["site_id"]:
            resource["serviceProvider"] = {"reference": f"Organization/{r['site_id']}"}
        dxs = principal.get(r["encounter_id"], [])
        if dxs:
            resource["diagnosis"] = [
                {"condition": {"reference": f"Condition/{c}"}, "rank": 1} for c in dxs
            ]
        files["Encounter"].append(resource)
    for r in t["procedures"]:
        files["Procedure"].append(
            {
                "resourceType": "Procedure",
                "id": r["record_id"],
                "status": "completed",
                "subject": {"reference": f"Patient/{r['patient_id']}"},
                "code": {
                    "coding": [
                        {"system": _URI.get(r["code_system"], r["code_system"]), "code": r["code"]}
                    ]
                },
                "performedDateTime": r["date"],
            }
        )
    for r in t["medications"]:
        files["MedicationRequest"].append(
            {
                "resourceType": "MedicationRequest",
                "id": r["record_id"],
                "status": "completed",
                "intent": "order",
                "subject": {"reference": f"Patient/{r['patient_id']}"},
                "authoredOn": r["start_date"],
                "medicationCodeableConcept": {
                    "coding": [
                        {"system": _URI.get(r["code_system"], r["code_system"]), "code": r["code"]}
                    ]
                },
                "dispenseRequest": {
                    "expectedSupplyDuration": {
                        "value": int(r["days_supply"]),
                        "unit": "days",
                        "system": "http://unitsofmeasure.org",
                        "code": "d",
                    }
                },
            }
        )
    written = []
    for rtype, resources_ in files.items():
        path = out / f"{rtype}.ndjson"
        with path.open("w", encoding="utf-8") as handle:
            for resource in resources_:
                handle.write(json.dumps(resource, separators=(",", ":")) + "\n")
        written.append(path)
    return written
