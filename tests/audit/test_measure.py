"""The measure at every boundary of the issue, on hand-built timelines (DuckDB)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from backtriage.audit.run import AuditRun, run_audit
from tests.audit.timelines import AUDIT_WARNINGS, EXPECTED, EXPECTED_CMS, YEAR, build, day

pytestmark = AUDIT_WARNINGS

build()  # fills EXPECTED at collection time


@pytest.fixture(scope="module")
def hedis(timelines_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    return run_audit(timelines_csv, YEAR)


@pytest.fixture(scope="module")
def cms(timelines_csv: Path) -> AuditRun:
    return run_audit(timelines_csv, YEAR, spec_name="cms166v7")


def _row(run: AuditRun, pid: str) -> dict[str, object]:
    rows = run.lbp_patients[run.lbp_patients["patient_id"] == pid]
    if rows.empty:
        return {"status": "not_eligible"}
    return dict(rows.iloc[0])


def _status(run: AuditRun, pid: str, patients_file: pd.DataFrame) -> tuple[object, ...]:
    row = patients_file[patients_file["patient_id"] == pid].iloc[0]
    imaged = None if pd.isna(row["imaged"]) else bool(row["imaged"])
    reason = None if pd.isna(row["reason"]) else row["reason"]
    return (row["status"], imaged, reason)


@pytest.fixture(scope="module")
def hedis_patients(timelines_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("patients") / "patients.parquet"
    run_audit(timelines_csv, YEAR, patients_out=out)
    return pd.read_parquet(out)


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_boundary_case_hedis(pid: str, hedis: AuditRun, hedis_patients: pd.DataFrame) -> None:
    assert _status(hedis, pid, hedis_patients) == EXPECTED[pid]


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_boundary_case_cms166v7(
    pid: str, cms: AuditRun, tmp_path: Path, timelines_csv: Path
) -> None:
    expected = EXPECTED_CMS.get(pid, EXPECTED[pid])
    row = _row(cms, pid)
    assert row["status"] == expected[0]
    if expected[0] != "not_eligible":
        assert (row["reason"] if isinstance(row["reason"], str) else None) == expected[2]


def test_every_patient_has_one_row(hedis_patients: pd.DataFrame) -> None:
    assert set(hedis_patients["patient_id"]) == set(EXPECTED)
    assert hedis_patients["patient_id"].is_unique


def test_summary_counts_agree_with_patient_rows(hedis: AuditRun) -> None:
    s = hedis.summary
    expected = [v for v in EXPECTED.values() if v[0] == "denominator"]
    assert s["denominator"] == len(expected)
    assert s["numerator"] == sum(1 for v in expected if v[1])
    assert s["rate"] == pytest.approx(1 - s["numerator"] / s["denominator"], abs=1e-6)
    assert s["excluded"] == sum(1 for v in EXPECTED.values() if v[0] == "excluded")
    assert sum(s["exclusions"].values()) == s["excluded"]
    assert s["patients"] == len(EXPECTED)
    assert sum(r["denominator"] for r in s["by_clinician"]) == s["denominator"]
    assert sum(r["denominator"] for r in s["monthly_trend"]) == s["denominator"]


def test_excluded_patients_carry_the_record(hedis: AuditRun) -> None:
    row = _row(hedis, "trauma_in_lo")
    assert re.fullmatch(r"diagnosis icd10cm S32009A on 2023-12-02 \(D\d{5}\)", str(row["record"]))
    steroid = _row(hedis, "steroid_split")
    assert steroid["record"] == (
        "medications: 90 days supply of systemic corticosteroids in 2 prescription(s), "
        "the last on 2023-11-22"
    )
    hospice = _row(hedis, "hospice_in_year")
    assert re.fullmatch(r"encounter hospice on 2024-12-31 \(H\d{5}\)", str(hospice["record"]))


def test_invalid_rows_are_counted_not_used(hedis: AuditRun) -> None:
    rows = hedis.summary["rows"]
    assert rows["diagnoses"]["rejected_bad_date"] == 1
    assert rows["diagnoses"]["rejected_unknown_code_system"] == 1
    assert rows["procedures"]["rejected_missing_patient"] == 1
    for counts in rows.values():
        rejected = sum(v for k, v in counts.items() if k.startswith("rejected_"))
        assert counts["valid"] + rejected == counts["rows"]


def test_days_to_imaging_and_chart_review(hedis: AuditRun) -> None:
    assert _row(hedis, "img_day28")["days_to_imaging"] == 28
    review = {r["patient_id"]: r["text"] for r in hedis.chart_review}
    assert review["img_day0"] == "imaged at day 0, no red flag recorded"
    assert review["imaged_with_fever"] == (
        "imaged at day 3, red flag(s) recorded: fever (R509, day -2)"
    )


def test_fhir_and_tabular_give_the_same_answer(hedis: AuditRun, timelines_fhir: Path) -> None:
    fhir = run_audit(timelines_fhir, YEAR)
    columns = ["patient_id", "status", "imaged", "reason", "index_date", "days_to_imaging"]
    pd.testing.assert_frame_equal(
        hedis.lbp_patients[columns].reset_index(drop=True),
        fhir.lbp_patients[columns].reset_index(drop=True),
    )
    for key in ("denominator", "numerator", "rate", "exclusions", "by_clinician", "monthly_trend"):
        assert fhir.summary[key] == hedis.summary[key]
    assert fhir.summary["rows"]["fhir:Condition"]["converted"] == len(build().rows["diagnoses"])


def test_missing_medications_file_is_reported(tmp_path: Path) -> None:
    t = build()
    folder = t.write_csv(tmp_path / "x")
    (folder / "medications.csv").unlink()
    run = run_audit(folder, YEAR)
    assert "medications" in run.summary["inputs_missing"]
    assert _row(run, "steroid_90")["status"] == "denominator"


def test_rows_in_unused_code_systems_are_warned_about(tmp_path: Path) -> None:
    t = build()
    t.rows["medications"].append(
        {
            "patient_id": "img_day0",
            "start_date": "2024-01-01",
            "days_supply": "90",
            "code_system": "rxnorm",
            "code": "12345",
            "record_id": "rx1",
        }
    )
    run = run_audit(t.write_csv(tmp_path / "rx"), YEAR)
    assert run.summary["warnings"] == [
        "1 medications rows are coded in rxnorm, which no audit code list uses: they cannot "
        "trigger an exclusion or count as imaging (map them, or add codes to the lists)"
    ]


def test_a_code_counts_only_in_its_own_system(tmp_path: Path) -> None:
    # HCPCS C and S codes on the index day and before it are not ICD-10-CM cancer (C) or
    # injury (S) codes: the patients stay in the denominator (ATC: the timelines).
    t = build()
    t.procedure("not_imaged", day(-5), "C1713", "hcpcs")
    t.procedure("lbp_prior_181", day(0), "S9090", "hcpcs")
    run = run_audit(t.write_csv(tmp_path / "hcpcs"), YEAR)
    assert _row(run, "not_imaged")["status"] == "denominator"
    assert _row(run, "lbp_prior_181")["status"] == "denominator"
    assert "rejected_unknown_code_system" not in run.summary["rows"]["procedures"]
    assert run.summary["warnings"][0].startswith("2 procedures rows are coded in hcpcs")
