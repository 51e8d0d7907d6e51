"""FHIR R4 Bulk Data export (NDJSON) -> the tabular layout, streamed to Parquet.

Each ``*.ndjson`` file holds one resource type (the Bulk Data convention; file names do not
matter, the ``resourceType`` of the first line decides).  Encounters are read first, because an
encounter's ``diagnosis`` with ``rank`` 1 marks its principal diagnosis.  What cannot become a
row (bad JSON, ``entered-in-error``, ``not-done``) is counted with its reason; what can is
written as text, and the engine checks dates and code systems like any tabular input.

Mapping (FHIR R4 element -> layout column):
  Patient            id, birthDate, gender -> patients
  Encounter          id, subject, period.start, class.code (or a type coding in
                     ``urn:backtriage:audit:setting``), participant[0].individual,
                     serviceProvider (or location[0].location) -> encounters;
                     hospitalization.dischargeDisposition ``hosp`` -> an extra hospice row
  Condition          subject, encounter, onsetDateTime | onsetPeriod.start | recordedDate,
                     code.coding -> diagnoses (principal when an Encounter ranks it 1)
  Procedure          performedDateTime | performedPeriod.start -> procedures
  ImagingStudy       started, procedureCode -> procedures
  ServiceRequest     occurrenceDateTime | authoredOn, code -> procedures (an order counts as
                     imaging: exports often hold orders without the performed study)
  MedicationRequest  authoredOn, medicationCodeableConcept,
                     dispenseRequest.expectedSupplyDuration (days) -> medications
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from backtriage.audit.codes import FHIR_SYSTEM_URIS
from backtriage.audit.layout import TABLE_BY_NAME

SETTING_SYSTEM = "urn:backtriage:audit:setting"

#: Encounter.class codes (HL7 v3 ActCode) -> our settings.
CLASS_TO_SETTING: dict[str, str] = {
    "AMB": "outpatient",
    "EMER": "ed",
    "VR": "telehealth",
    "OBSENC": "observation",
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "PRENC": "outpatient",
    "HH": "other",
    "SS": "other",
}

#: Statuses that mean "this did not happen" (FHIR R4 value sets of each resource).
VOID_STATUSES: frozenset[str] = frozenset(
    {"entered-in-error", "not-done", "cancelled", "revoked", "refuted"}
)

RESOURCE_TABLE: dict[str, str] = {
    "Patient": "patients",
    "Encounter": "encounters",
    "Condition": "diagnoses",
    "Procedure": "procedures",
    "ImagingStudy": "procedures",
    "ServiceRequest": "procedures",
    "MedicationRequest": "medications",
}
REFERENCE_ONLY: frozenset[str] = frozenset({"Practitioner", "Organization", "Location"})
BATCH_ROWS = 50_000


def is_fhir_folder(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.ndjson"))


def _ref_id(ref: Any) -> str | None:
    """``{"reference": "Patient/123"}`` -> ``123``."""
    if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
        return str(ref["reference"]).rsplit("/", 1)[-1] or None
    return None


def _date(value: Any) -> str | None:
    # Keep the text: the engine decides whether it is a valid date (and counts it if not).
    return value[:10] if isinstance(value, str) else None


def _coding(concept: Any) -> tuple[str | None, str | None]:
    """(system, code) of the first coding in a known system, else of the first coding."""
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    codings = [c for c in codings if isinstance(c, dict)]
    for c in codings:
        if c.get("system") in FHIR_SYSTEM_URIS:
            return FHIR_SYSTEM_URIS[c["system"]], c.get("code")
    if codings:
        return codings[0].get("system"), codings[0].get("code")
    return None, None


def _resource_type(path: Path) -> str | None:
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    value = json.loads(line).get("resourceType")
                except (json.JSONDecodeError, AttributeError):
                    return None
                return value if isinstance(value, str) else None
    return None


def _lines(path: Path) -> Iterator[str]:
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


class _Writer:
    """Batches rows of one layout table into a Parquet file (all columns text)."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.schema = pa.schema([(c, pa.string()) for c in columns])
        import pyarrow.parquet as pq  # here: a tabular input never loads the Parquet writer

        self.writer = pq.ParquetWriter(path, self.schema)
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            data = {
                c: [None if r.get(c) is None else str(r.get(c)) for r in self.rows]
                for c in self.columns
            }
            self.writer.write_table(pa.table(data, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def convert(folder: Path, out: Path) -> dict[str, dict[str, int]]:
    """Write ``out/<table>.parquet`` from the NDJSON files in ``folder``; return counts."""
    files: dict[str, list[Path]] = {}
    counts: dict[str, Counter[str]] = {}
    for path in sorted(folder.glob("*.ndjson")):
        rtype = _resource_type(path) or "(unreadable)"
        files.setdefault(rtype, []).append(path)
    writers = {
        name: _Writer(out / f"{name}.parquet", TABLE_BY_NAME[name].columns)
        for name in ("patients", "encounters", "diagnoses", "procedures", "medications")
    }
    principal: set[str] = set()
    order = ["Encounter", *sorted(k for k in files if k != "Encounter")]
    try:
        for rtype in order:
            for path in files.get(rtype, []):
                tally = counts.setdefault(rtype, Counter())
                for line in _lines(path):
                    tally["rows"] += 1
                    try:
                        resource = json.loads(line)
                    except json.JSONDecodeError:
                        tally["rejected_bad_json"] += 1
                        continue
                    if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
                        tally["rejected_mixed_resource_type"] += 1
                        continue
                    outcome = _convert_one(rtype, resource, writers, principal)
                    tally[outcome] += 1
    finally:
        for writer in writers.values():
            writer.close()
    return {k: dict(sorted(v.items())) for k, v in sorted(counts.items())}


def _convert_one(
    rtype: str, r: dict[str, Any], writers: dict[str, _Writer], principal: set[str]
) -> str:
    if rtype in REFERENCE_ONLY:
        return "reference_only"
    if rtype not in RESOURCE_TABLE:
        return "ignored_resource_type"
    status = r.get("status")
    verification = _coding(r.get("verificationStatus"))[1]
    if status in VOID_STATUSES or verification in VOID_STATUSES:
        return "rejected_" + str(status if status in VOID_STATUSES else verification).replace(
            "-", "_"
        )
    patient = _ref_id(r.get("subject")) if rtype != "Patient" else r.get("id")
    if rtype == "Patient":
        writers["patients"].add(
            {"patient_id": r.get("id"), "birth_date": r.get("birthDate"), "sex": r.get("gender")}
        )
    elif rtype == "Encounter":
        _encounter(r, patient, writers["encounters"], principal)
    elif rtype == "Condition":
        system, code = _coding(r.get("code"))
        onset_period = r.get("onsetPeriod") or {}
        writers["diagnoses"].add(
            {
                "patient_id": patient,
                "date": _date(r.get("onsetDateTime"))
                or _date(onset_period.get("start"))
                or _date(r.get("recordedDate")),
                "code_system": system,
                "code": code,
                "encounter_id": _ref_id(r.get("encounter")),
                "principal": "true" if r.get("id") in principal else "false",
                "record_id": f"Condition/{r.get('id')}",
            }
        )
    elif rtype == "MedicationRequest":
        system, code = _coding(r.get("medicationCodeableConcept"))
        dispense = r.get("dispenseRequest") or {}
        duration = dispense.get("expectedSupplyDuration") or {}
        days = duration.get("value") if duration.get("code", "d") == "d" else None
        writers["medications"].add(
            {
                "patient_id": patient,
                "start_date": _date(r.get("authoredOn"))
                or _date((dispense.get("validityPeriod") or {}).get("start")),
                "days_supply": None if days is None else int(days),
                "code_system": system,
                "code": code,
                "record_id": f"MedicationRequest/{r.get('id')}",
            }
        )
    else:
        if rtype == "Procedure":
            concept = r.get("code")
            date = _date(r.get("performedDateTime")) or _date(
                (r.get("performedPeriod") or {}).get("start")
            )
        elif rtype == "ImagingStudy":
            concepts = r.get("procedureCode") or [{}]
            concept = concepts[0]
            date = _date(r.get("started"))
        else:
            concept = r.get("code")
            date = _date(r.get("occurrenceDateTime")) or _date(r.get("authoredOn"))
        system, code = _coding(concept)
        writers["procedures"].add(
            {
                "patient_id": patient,
                "date": date,
                "code_system": system,
                "code": code,
                "encounter_id": _ref_id(r.get("encounter")),
                "record_id": f"{rtype}/{r.get('id')}",
            }
        )
    return "converted"


def _encounter(
    r: dict[str, Any], patient: str | None, writer: _Writer, principal: set[str]
) -> None:
    setting = CLASS_TO_SETTING.get(str((r.get("class") or {}).get("code")), "other")
    for concept in r.get("type") or []:
        for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
            if coding.get("system") == SETTING_SYSTEM and coding.get("code"):
                setting = coding["code"]
    for dx in r.get("diagnosis") or []:
        if isinstance(dx, dict) and dx.get("rank") == 1:
            cid = _ref_id(dx.get("condition"))
            if cid:
                principal.add(cid)
    participants = r.get("participant") or [{}]
    period = r.get("period") or {}
    row = {
        "encounter_id": r.get("id"),
        "patient_id": patient,
        "date": _date(period.get("start")),
        "setting": setting,
        "clinician_id": _ref_id(participants[0].get("individual")),
        "site_id": _ref_id(r.get("serviceProvider"))
        or _ref_id(((r.get("location") or [{}])[0]).get("location")),
    }
    writer.add(row)
    disposition = _coding((r.get("hospitalization") or {}).get("dischargeDisposition"))[1]
    if disposition == "hosp":
        # Discharged to hospice: a hospice episode starting at discharge.
        writer.add(
            {
                **row,
                "encounter_id": f"{r.get('id')}#hospice",
                "setting": "hospice",
                "date": _date(period.get("end")) or row["date"],
            }
        )
