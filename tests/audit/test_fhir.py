from __future__ import annotations

import json
from pathlib import Path

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
    counts = convert(src, out)
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


def test_unreadable_fhir_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "Patient.ndjson").write_bytes(b'{"resourceType": "Patient"}\n\xff\xfe\n')
    with pytest.raises(AuditInputError, match="cannot read the FHIR files"):
        run_audit(tmp_path, 2024)
