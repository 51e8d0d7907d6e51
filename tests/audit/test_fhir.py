from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from backtriage.audit.fhir import convert
from backtriage.audit.run import run_audit
from backtriage.errors import AuditInputError
from tests.audit.timelines import AUDIT_WARNINGS

pytestmark = AUDIT_WARNINGS


def _write(folder: Path, name: str, resources: list[object]) -> None:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in resources]
    (folder / name).write_text("\n".join(lines) + "\n")


def test_conversion_counts_every_line(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    _write(
        src,
        "Patient.ndjson",
        [
            {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"},
            "{not json",
        ],
    )
    _write(
        src,
        "Encounter.ndjson",
        [
            {
                "resourceType": "Encounter",
                "id": "e1",
                "status": "finished",
                "class": {"code": "EMER"},
                "subject": {"reference": "Patient/p1"},
                "period": {"start": "2024-03-01T10:00:00Z", "end": "2024-03-02"},
                "hospitalization": {"dischargeDisposition": {"coding": [{"code": "hosp"}]}},
                "diagnosis": [{"condition": {"reference": "Condition/c1"}, "rank": 1}],
            }
        ],
    )
    _write(
        src,
        "Condition.ndjson",
        [
            {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/p1"},
                "encounter": {"reference": "Encounter/e1"},
                "onsetDateTime": "2024-03-01",
                "code": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]
                },
            },
            {
                "resourceType": "Condition",
                "id": "c2",
                "subject": {"reference": "Patient/p1"},
                "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
                "code": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C61"}]
                },
            },
        ],
    )
    _write(
        src,
        "ImagingStudy.ndjson",
        [
            {
                "resourceType": "ImagingStudy",
                "id": "i1",
                "status": "available",
                "subject": {"reference": "Patient/p1"},
                "started": "2024-03-05",
                "procedureCode": [
                    {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72148"}]}
                ],
            },
        ],
    )
    _write(src, "Practitioner.ndjson", [{"resourceType": "Practitioner", "id": "d1"}])
    counts = convert(src, out).counts
    assert counts["Patient"] == {"converted": 1, "rejected_bad_json": 1, "rows": 2}
    assert counts["Condition"] == {"converted": 1, "rejected_entered_in_error": 1, "rows": 2}
    assert counts["Practitioner"] == {"reference_only": 1, "rows": 1}
    encounters = pq.read_table(out / "encounters.parquet").to_pylist()
    assert [e["setting"] for e in encounters] == ["ed", "hospice"]
    assert encounters[0]["date"] == "2024-03-01"
    dx = pq.read_table(out / "diagnoses.parquet").to_pylist()
    assert dx == [
        {
            "patient_id": "p1",
            "date": "2024-03-01",
            "code_system": "icd10cm",
            "code": "M54.50",
            "encounter_id": "e1",
            "principal": "true",
            "record_id": "Condition/c1",
        }
    ]
    procedures = pq.read_table(out / "procedures.parquet").to_pylist()
    assert procedures[0]["code"] == "72148"
    assert procedures[0]["record_id"] == "ImagingStudy/i1"


def test_unreadable_fhir_file_is_a_clear_error(timelines_fhir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(timelines_fhir, folder)
    lines = (folder / "Patient.ndjson").read_bytes().count(b"\n")
    with (folder / "Patient.ndjson").open("ab") as handle:
        handle.write(b'{"resourceType": "Patient"}\n\xff\xfe\n')
    with pytest.raises(AuditInputError, match=f"Patient.ndjson: line {lines + 2} is not UTF-8"):
        run_audit(folder, 2024)


# An export as servers and Bulk Data clients write it: the boundary population (``timelines``)
# audited from variants of its FHIR files must give the same summary as the files as written.

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _same_audit(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in ("denominator", "numerator", "exclusions", "not_eligible", "by_clinician"):
        assert a[key] == b[key], key


@pytest.fixture(scope="module")
def exported(timelines_fhir: Path) -> dict[str, Any]:
    return run_audit(timelines_fhir, 2024).summary


def test_several_files_per_type_blank_lines_and_a_manifest(
    timelines_fhir: Path, exported: dict[str, Any], tmp_path: Path
) -> None:
    folder = _copy(timelines_fhir, tmp_path / "export")
    lines = (folder / "Condition.ndjson").read_text().splitlines()
    (folder / "Condition.ndjson").unlink()
    half = len(lines) // 2
    (folder / "Condition.000.ndjson").write_text("\n".join(lines[:half]) + "\n\n")
    (folder / "Condition.001.ndjson").write_text("\n" + "\n".join(lines[half:]))  # no final \n
    (folder / "Patient.ndjson").rename(folder / "1.Patient.ndjson")
    (folder / "manifest.json").write_text(json.dumps({"output": [], "error": []}))
    summary = run_audit(folder, 2024).summary
    _same_audit(summary, exported)
    assert summary["rows"] == exported["rows"]


@pytest.mark.parametrize("which", ["all", "some"])
def test_gzipped_ndjson_files_are_read(
    timelines_fhir: Path, exported: dict[str, Any], tmp_path: Path, which: str
) -> None:
    # Bulk Data clients often keep the files as the server compressed them (.ndjson.gz); left
    # unread, a folder of them was taken for a tabular one, and a mix lost its gzipped types.
    folder = _copy(timelines_fhir, tmp_path / "export")
    for path in sorted(folder.glob("*.ndjson")):
        if which == "all" or path.name.startswith(("Condition", "Procedure")):
            with gzip.open(path.with_name(path.name + ".gz"), "wb") as handle:
                handle.write(path.read_bytes())
            path.unlink()
    summary = run_audit(folder, 2024).summary
    _same_audit(summary, exported)
    assert summary["rows"] == exported["rows"]


def test_a_bad_first_line_rejects_that_line_only(
    timelines_fhir: Path, exported: dict[str, Any], tmp_path: Path
) -> None:
    # The resource type of a file was read from its first line alone: a truncated first line
    # made every other line of the file "mixed_resource_type".
    folder = _copy(timelines_fhir, tmp_path / "export")
    path = folder / "Condition.ndjson"
    path.write_text('{"resourceType": "Condition", "id": "cut\n' + path.read_text())
    summary = run_audit(folder, 2024).summary
    _same_audit(summary, exported)
    condition = summary["rows"]["fhir:Condition"]
    assert condition["rejected_bad_json"] == 1
    assert condition["rows"] == exported["rows"]["fhir:Condition"]["rows"] + 1


MALFORMED: dict[str, list[dict[str, Any]]] = {
    "Patient": [{"resourceType": "Patient", "id": {"value": "p"}, "birthDate": "1980-01-01"}],
    "Encounter": [
        # R5 writes class as a list; a participant as a bare reference text.
        {"resourceType": "Encounter", "id": "x1", "class": [{"coding": [{"code": "AMB"}]}]},
        {"resourceType": "Encounter", "id": "x2", "class": {"code": "AMB"}, "participant": ["x"]},
    ],
    "Condition": [{"resourceType": "Condition", "id": "x3", "onsetPeriod": "2024"}],
    "Procedure": [{"resourceType": "Procedure", "id": "x4", "code": {"coding": "72148"}}],
    "MedicationRequest": [
        {"resourceType": "MedicationRequest", "id": "x5", "dispenseRequest": []},
    ],
}


def test_malformed_resources_are_rejected_one_by_one(
    timelines_fhir: Path, exported: dict[str, Any], tmp_path: Path
) -> None:
    # Each of these stopped the run with a traceback (AttributeError, TypeError, ValueError).
    folder = _copy(timelines_fhir, tmp_path / "export")
    for rtype, resources in MALFORMED.items():
        with (folder / f"{rtype}.ndjson").open("a") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in resources)
    summary = run_audit(folder, 2024).summary
    _same_audit(summary, exported)
    for rtype, resources in MALFORMED.items():
        counts = summary["rows"][f"fhir:{rtype}"]
        assert counts["rejected_malformed"] == len(resources), rtype
        assert counts["rows"] == exported["rows"][f"fhir:{rtype}"]["rows"] + len(resources)


@pytest.mark.parametrize(
    ("removed", "message"),
    [
        (["Condition"], "no Condition resources"),
        (["Encounter"], "no Encounter resources"),
        (["Procedure"], "no Procedure, ImagingStudy or ServiceRequest resources"),
    ],
)
def test_an_export_without_a_needed_type_stops_the_run(
    timelines_fhir: Path, tmp_path: Path, removed: list[str], message: str
) -> None:
    # Without them every patient was "no_index_encounter", or no one was imaged (rate 100%).
    folder = _copy(timelines_fhir, tmp_path / "export")
    for rtype in removed:
        (folder / f"{rtype}.ndjson").unlink()
    (folder / "ExplanationOfBenefit.ndjson").write_text(
        json.dumps({"resourceType": "ExplanationOfBenefit", "id": "b1"}) + "\n"
    )
    with pytest.raises(AuditInputError, match=message) as caught:
        run_audit(folder, 2024)
    assert "ExplanationOfBenefit" in str(caught.value)  # what the export holds instead


def test_resources_not_read_are_named_in_a_warning(timelines_fhir: Path, tmp_path: Path) -> None:
    # Counted as ignored_resource_type only, a payer's claims looked read: the audit ran on the
    # rest without a word that what they bill was left out.
    folder = _copy(timelines_fhir, tmp_path / "export")
    before = run_audit(folder, 2024).summary
    assert not any("were not read" in w for w in before["warnings"])
    claims = [{"resourceType": "ExplanationOfBenefit", "id": f"b{i}"} for i in range(3)]
    (folder / "ExplanationOfBenefit.ndjson").write_text(
        "".join(json.dumps(c) + "\n" for c in claims)
    )
    (folder / "Coverage.ndjson").write_text(
        json.dumps({"resourceType": "Coverage", "id": "c1"}) + "\n"
    )
    summary = run_audit(folder, 2024).summary
    (warning,) = [w for w in summary["warnings"] if "were not read" in w]
    assert warning.startswith("1 Coverage, 3 ExplanationOfBenefit resources were not read")
    assert "claims (ExplanationOfBenefit) are not read yet" in warning
    assert summary["rows"]["fhir:ExplanationOfBenefit"]["ignored_resource_type"] == 3
    assert summary["denominator"] == before["denominator"]


def test_an_export_without_medication_requests_says_the_steroid_exclusion_is_not_applied(
    timelines_fhir: Path, tmp_path: Path
) -> None:
    folder = _copy(timelines_fhir, tmp_path / "export")
    (folder / "MedicationRequest.ndjson").unlink()
    summary = run_audit(folder, 2024).summary
    assert "medications" in summary["inputs_missing"]
    assert "medications" not in summary["rows"]


@pytest.mark.parametrize("where", ["error/OperationOutcome.ndjson", "OperationOutcome.ndjson"])
def test_errors_the_export_reports_are_warned_about(
    timelines_fhir: Path, exported: dict[str, Any], tmp_path: Path, where: str
) -> None:
    # The server's OperationOutcome files list what it failed to export: the audit then lacks it.
    folder = _copy(timelines_fhir, tmp_path / "export")
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "exception", "diagnostics": "Procedure export failed"}
        ],
    }
    (folder / where).parent.mkdir(exist_ok=True)
    (folder / where).write_text(json.dumps(outcome) + "\n")
    summary = run_audit(folder, 2024).summary
    _same_audit(summary, exported)
    warned = [w for w in summary["warnings"] if "OperationOutcome" in w]
    assert len(warned) == 1
    assert "1 error" in warned[0]
    assert "Procedure export failed" in warned[0]
    assert summary["rows"]["fhir:OperationOutcome"] == {"reported_by_server": 1, "rows": 1}


def test_a_folder_of_fhir_and_tabular_files_is_an_error(
    timelines_fhir: Path, tmp_path: Path
) -> None:
    # The NDJSON files were read and patients.csv, ... silently left out.
    folder = _copy(timelines_fhir, tmp_path / "export")
    (folder / "patients.csv").write_text("patient_id,birth_date\np1,1980-01-01\n")
    with pytest.raises(
        AuditInputError, match=r"both FHIR NDJSON files and tabular files \(patients.csv\)"
    ):
        run_audit(folder, 2024)


def _patient(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": "1980-06-15"}


def _encounter(eid: str, pid: str, start: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": start},
        **more,
    }


def _ranked(cid: str, rank: int | None = 1) -> dict[str, Any]:
    entry: dict[str, Any] = {"condition": {"reference": f"Condition/{cid}"}}
    if rank is not None:
        entry["rank"] = rank
    return {"diagnosis": [entry]}


def _condition(cid: str, pid: str, code: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": ICD10CM, "code": code}]},
        **more,
    }


def _export(folder: Path, resources: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    by_type.setdefault("Procedure", [])
    for rtype, rs in by_type.items():
        _write(folder, f"{rtype}.ndjson", list(rs))
    return folder


def _statuses(folder: Path) -> dict[str, tuple[str, str | None]]:
    run = run_audit(folder, 2024)
    frame = run.lbp_patients
    return {
        row["patient_id"]: (row["status"], None if pd.isna(row["reason"]) else row["reason"])
        for row in frame.to_dict("records")
    }


def test_the_principal_diagnosis_is_dated_and_linked_by_its_encounter(tmp_path: Path) -> None:
    # Claims date a diagnosis by the visit it was coded at; FHIR's Condition has its own dates.
    resources = [
        # Ranked 1 by its encounter but without Condition.encounter: was never an index visit.
        _patient("unlinked"),
        _encounter("e1", "unlinked", "2024-03-01T09:00:00-05:00", **_ranked("c1")),
        _condition("c1", "unlinked", "M54.50", recordedDate="2024-03-01"),
        # Back pain since three weeks before the visit: the index diagnosis itself made a
        # "diagnosis in the 180 days before" and excluded its own patient.
        _patient("onset"),
        _encounter("e2", "onset", "2024-03-01", **_ranked("c2")),
        _condition(
            "c2",
            "onset",
            "M54.50",
            encounter={"reference": "Encounter/e2"},
            onsetDateTime="2024-02-09",
            recordedDate="2024-03-01",
        ),
        # An earlier back-pain visit, coded at that visit (recorded 2023-12-01): excluded,
        # though the pain started before the 180 days (onset 2023-06-01).
        _patient("earlier"),
        _encounter("e3", "earlier", "2024-03-01", **_ranked("c3")),
        _condition("c3", "earlier", "M54.50", encounter={"reference": "Encounter/e3"}),
        _encounter("e4", "earlier", "2023-12-01"),
        _condition(
            "c4",
            "earlier",
            "M54.59",
            encounter={"reference": "Encounter/e4"},
            onsetDateTime="2023-06-01",
            recordedDate="2023-12-01",
        ),
        # A problem-list cancer (no encounter) that began long ago, recorded after the
        # index: history of cancer, dated by its onset.
        _patient("history"),
        _encounter("e5", "history", "2024-03-01", **_ranked("c5")),
        _condition("c5", "history", "M54.50", encounter={"reference": "Encounter/e5"}),
        _condition(
            "c6", "history", "C50.911", onsetDateTime="2010-05-01", recordedDate="2024-06-01"
        ),
    ]
    statuses = _statuses(_export(tmp_path / "export", resources))
    assert statuses == {
        "unlinked": ("denominator", None),
        "onset": ("denominator", None),
        "earlier": ("excluded", "lbp_diagnosis_prior_180d"),
        "history": ("excluded", "cancer"),
    }


def test_encounters_that_cannot_be_index_visits_are_warned_about(tmp_path: Path) -> None:
    # The audit takes the principal diagnosis from Encounter.diagnosis rank 1; an export that
    # links diagnoses otherwise (US Core has no Encounter.diagnosis) had no index visit at all,
    # and the summary did not say why.
    reason = {"reasonCode": [{"coding": [{"system": ICD10CM, "code": "M54.50"}]}]}
    resources = [
        _patient("reason"),
        _encounter("e1", "reason", "2024-03-01", **reason),
        _patient("unranked"),
        _encounter("e2", "unranked", "2024-03-01", **_ranked("c2", rank=None)),
        _condition("c2", "unranked", "M54.50", encounter={"reference": "Encounter/e2"}),
        _patient("classless"),
        _encounter("e3", "classless", "2024-03-01", **_ranked("c3"), **{"class": {"code": "X9"}}),
        _condition("c3", "classless", "M54.50", encounter={"reference": "Encounter/e3"}),
    ]
    summary = run_audit(_export(tmp_path / "export", resources), 2024).summary
    assert summary["denominator"] == 0
    warnings = "\n".join(summary["warnings"])
    assert "1 Encounters give a reason (reasonCode or reasonReference) but no diagnosis" in warnings
    assert "1 Encounters list diagnoses but rank none of them 1" in warnings
    assert "1 Encounters have a class the audit does not map (X9: 1)" in warnings


@pytest.mark.parametrize(
    ("duration", "days"),
    [
        ({"value": 30, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}, "30"),
        ({"value": 30.0, "code": "d"}, "30"),
        ({"value": 13, "unit": "weeks", "system": "http://unitsofmeasure.org", "code": "wk"}, "91"),
        ({"value": 30, "unit": "days"}, "30"),
        # Not whole days, not a number, months (28 to 31 days), no unit: left empty, so
        # rejected as bad_days_supply (30.5 was truncated to 30, "thirty" stopped the run, and
        # a value without a unit was read as days).
        ({"value": 30.5, "code": "d"}, None),
        ({"value": "thirty", "code": "d"}, None),
        ({"value": 3, "code": "mo"}, None),
        ({"value": 30}, None),
    ],
)
def test_days_supply_is_converted_only_when_exact(
    tmp_path: Path, duration: dict[str, Any], days: str | None
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    request = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2024-01-01",
        "dispenseRequest": {"expectedSupplyDuration": duration},
    }
    _write(src, "MedicationRequest.ndjson", [request])
    convert(src, out)
    assert pq.read_table(out / "medications.parquet").to_pylist()[0]["days_supply"] == days


def test_a_versioned_reference_names_the_resource_not_its_version(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    procedure = {
        "resourceType": "Procedure",
        "id": "r1",
        "subject": {"reference": "https://ehr.example/fhir/Patient/p1/_history/2"},
        "performedDateTime": "2024-03-05",
    }
    _write(src, "Procedure.ndjson", [procedure])
    convert(src, out)
    assert pq.read_table(out / "procedures.parquet").to_pylist()[0]["patient_id"] == "p1"


def test_a_condition_ranked_by_two_encounters_is_principal_at_each(tmp_path: Path) -> None:
    # A problem-list back pain that two visits rank 1: a principal diagnosis of each visit, dated
    # by it (it has no recordedDate).
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    _write(
        src,
        "Encounter.ndjson",
        [
            _encounter("e1", "p1", "2023-06-01", **_ranked("c1")),
            _encounter("e2", "p1", "2024-03-01", **_ranked("c1")),
        ],
    )
    _write(src, "Condition.ndjson", [_condition("c1", "p1", "M54.50")])
    convert(src, out)
    rows = pq.read_table(out / "diagnoses.parquet").to_pylist()
    assert [(r["encounter_id"], r["date"], r["principal"]) for r in rows] == [
        ("e1", "2023-06-01", "true"),
        ("e2", "2024-03-01", "true"),
    ]
