"""FHIR R4 Bulk Data export (NDJSON) -> the tabular layout, streamed to Parquet.

An export is a folder of ``*.ndjson`` files, or ``*.ndjson.gz`` (Bulk Data clients often keep
what the server sent gzipped), and the ``OperationOutcome`` files in which the server reports
what it could not export (in the folder or in its ``error/`` folder).  Each file holds one
resource type (the Bulk Data convention; file names do not matter: the ``resourceType`` of its
first readable line decides).  Encounters are read first, because an encounter's ``diagnosis``
with ``rank`` 1 marks its principal diagnosis.  What cannot become a row (bad JSON, a resource of
another type, a malformed resource, ``entered-in-error``, ``not-done``) is counted with its
reason; what can is written as text, and the engine checks dates and code systems like any
tabular input.  An export without the resource types the measure needs stops the run, naming
them; what the summary should say about the rest (encounters that cannot be index visits, the
server's reported errors) are warnings.

Mapping (FHIR R4 element -> layout column):
  Patient            id, birthDate, gender -> patients
  Encounter          id, subject, period.start, class.code (or a type coding in
                     ``urn:backtriage:audit:setting``), participant[0].individual,
                     serviceProvider (or location[0].location) -> encounters;
                     hospitalization.dischargeDisposition ``hosp`` -> an extra hospice row
  Condition          subject, code.coding -> diagnoses: one row per encounter it belongs to
                     (each Encounter that ranks it 1, where it is principal, and its own
                     ``encounter``), else one row without an encounter.  Dated as a claim dates
                     a diagnosis, by the visit it was coded at: with an encounter recordedDate
                     | (the ranking encounter's period.start) | onsetDateTime |
                     onsetPeriod.start; without (a problem-list entry, dated by when it began)
                     onsetDateTime | onsetPeriod.start | recordedDate
  Procedure          performedDateTime | performedPeriod.start -> procedures
  ImagingStudy       started, procedureCode -> procedures
  ServiceRequest     occurrenceDateTime | authoredOn, code -> procedures (an order counts as
                     imaging: exports often hold orders without the performed study)
  MedicationRequest  authoredOn, medicationCodeableConcept,
                     dispenseRequest.expectedSupplyDuration (whole days, or weeks) -> medications
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyarrow as pa

from backtriage.audit.layout import FHIR_SYSTEM_URIS, TABLE_BY_NAME
from backtriage.errors import AuditInputError

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
#: The resource types the measure cannot do without: one of each group.
NEEDED: tuple[tuple[str, ...], ...] = (
    ("Patient",),
    ("Encounter",),
    ("Condition",),
    ("Procedure", "ImagingStudy", "ServiceRequest"),
)
#: The types an empty file may be named for (``Procedure.ndjson``, ``1.Procedure.ndjson``).
KNOWN_TYPES: frozenset[str] = frozenset({*RESOURCE_TABLE, *REFERENCE_ONLY, "OperationOutcome"})
NDJSON_SUFFIXES: tuple[str, ...] = (".ndjson", ".ndjson.gz")
#: Where Bulk Data clients put the server's error files (``OperationOutcome``), if not beside.
ERROR_FOLDER = "error"
#: The files whose lines hold no resource at all.
NO_RESOURCE = "(no resource)"
#: Expected supply durations in whole days: UCUM codes, and unit texts of a duration without one.
DAYS_PER_CODE: dict[str, int] = {"d": 1, "wk": 7}
DAYS_PER_UNIT: dict[str, int] = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}
BATCH_ROWS = 50_000

Row = dict[str, str | None]


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert` read: per resource type, its lines by outcome (``rows``: all of them),
    and what the run summary should warn about."""

    counts: dict[str, dict[str, int]]
    warnings: list[str]


@dataclass
class _Notes:
    """What conversion learns on the way: the principal diagnoses the encounters rank (condition
    id -> encounter id -> its date), and what it will warn about."""

    #: Most conditions are ranked by one encounter: (encounter id, date), the few others in
    #: ``principal_more`` (a dict per condition would hold 0.3 KB each: 0.7 GB at a million
    #: patients).
    principal: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    principal_more: dict[str, dict[str, str | None]] = field(default_factory=dict)
    unranked: int = 0
    reason_only: int = 0
    unmapped_classes: Counter[str] = field(default_factory=Counter)
    issues: Counter[str] = field(default_factory=Counter)
    first_issue: str | None = None

    def rank(self, condition: str, encounter: str, date: str | None) -> None:
        """Note that ``encounter`` (on ``date``) ranks ``condition`` 1."""
        # Dates repeat: one string each.
        date = None if date is None else sys.intern(date)
        first = self.principal.setdefault(condition, (encounter, date))
        if first[0] != encounter:
            self.principal_more.setdefault(condition, {})[encounter] = date

    def ranked(self, condition: str | None) -> dict[str, str | None]:
        """The encounters that rank ``condition`` 1, with their dates."""
        if condition is None or condition not in self.principal:
            return {}
        encounter, date = self.principal[condition]
        return {encounter: date, **self.principal_more.get(condition, {})}


def ndjson_files(folder: Path) -> list[Path]:
    """The NDJSON files of an export: in ``folder`` and in its ``error/`` folder."""
    found: list[Path] = []
    for where in (folder, folder / ERROR_FOLDER):
        if where.is_dir():
            found += sorted(p for p in where.iterdir() if p.name.endswith(NDJSON_SUFFIXES))
    return [p for p in found if p.is_file()]


def is_fhir_folder(folder: Path) -> bool:
    return folder.is_dir() and any(p.name.endswith(NDJSON_SUFFIXES) for p in folder.iterdir())


# The helpers below read what FHIR R4 allows; any other shape (an array where an object belongs,
# a number for an id) raises AttributeError, TypeError, ... and ``_convert_line`` rejects the
# resource as malformed.  They run a few times per resource: kept to plain lookups.


def _get(value: Any, key: str) -> Any:
    """``value[key]`` of a JSON object that may be absent (``None``)."""
    return None if value is None else value.get(key)


def _list(value: Any) -> list[Any]:
    """A JSON array that may be absent."""
    if value is None:
        return []
    if value.__class__ is not list:
        raise TypeError("expected an array")
    return value


def _text(value: Any) -> str | None:
    """A JSON string that may be absent (a number or an object is malformed)."""
    if value is None or value.__class__ is str:
        return value
    raise TypeError("expected a string")


def _ref_id(ref: Any) -> str | None:
    """``{"reference": "Patient/123"}`` (or ``.../Patient/123/_history/2``) -> ``123``."""
    text = _text(None if ref is None else ref.get("reference"))
    if not text:
        return None
    if "/_history/" in text:
        text = text.split("/_history/", 1)[0]
    return text.rsplit("/", 1)[-1] or None


def _date(value: Any) -> str | None:
    # Keep the text: the engine decides whether it is a valid date (and counts it if not).
    return value[:10] if isinstance(value, str) else None


def _coding(concept: Any) -> tuple[str | None, str | None]:
    """(system, code) of the first coding in a known system, else of the first coding."""
    codings = _list(None if concept is None else concept.get("coding"))
    for c in codings:
        system = c.get("system")
        if system in FHIR_SYSTEM_URIS:
            return FHIR_SYSTEM_URIS[system], _text(c.get("code"))
    if codings:
        return _text(codings[0].get("system")), _text(codings[0].get("code"))
    return None, None


def _open(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _lines(path: Path) -> Iterator[str]:
    """The lines of ``path`` that hold something (blank lines are no rows), as text."""
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise AuditInputError(
                        f"cannot read {path}: line {number} is not UTF-8 text ({exc.reason}); "
                        "FHIR NDJSON is UTF-8"
                    ) from exc
    except (OSError, EOFError, zlib.error) as exc:  # a gzip file that is not one, or cut short
        raise AuditInputError(f"cannot read {path}: {exc}") from exc


def _resource_type(path: Path) -> str | None:
    """The ``resourceType`` of the first line of ``path`` that holds a resource; for a file
    without a line (a type the server had none of) the type its name says, if any."""
    empty = True
    for line in _lines(path):
        empty = False
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
            return str(value["resourceType"])
    if empty:
        named = [part for part in path.name.split(".") if part in KNOWN_TYPES]
        return named[0] if len(named) == 1 else None
    return None


class _Writer:
    """Batches rows of one layout table into a Parquet file (all columns text)."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.schema = pa.schema([(c, pa.string()) for c in columns])
        import pyarrow.parquet as pq  # here: a tabular input never loads the Parquet writer

        self.writer = pq.ParquetWriter(path, self.schema)
        self.rows: list[Row] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            data = {c: [r.get(c) for r in self.rows] for c in self.columns}
            self.writer.write_table(pa.table(data, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def export_files(folder: Path) -> dict[str, list[Path]]:
    """The NDJSON files of the export ``folder`` by the resource type they hold."""
    files: dict[str, list[Path]] = {}
    for path in ndjson_files(folder):
        files.setdefault(_resource_type(path) or NO_RESOURCE, []).append(path)
    return files


def check_types(folder: Path, files: dict[str, list[Path]]) -> None:
    """An :class:`AuditInputError` naming the types of :data:`NEEDED` that ``files`` lack.

    Without them every patient would be ``no_index_encounter``, or no one imaged.
    """
    missing = [group for group in NEEDED if not any(t in files for t in group)]
    if missing:
        raise AuditInputError(
            f"the FHIR export {folder} holds "
            f"{', '.join(f'no {_either(g)} resources' for g in missing)} "
            f"(found: {', '.join(sorted(files)) or 'no resources'}); the audit needs "
            f"{', '.join(_either(g) for g in NEEDED)}"
        )


def _either(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def convert(folder: Path, out: Path, files: dict[str, list[Path]] | None = None) -> Conversion:
    """Write ``out/<table>.parquet`` from the NDJSON files of the export ``folder`` (``files``:
    its :func:`export_files`, if already found).

    ``medications`` only if the export holds MedicationRequest files: without them the run
    says the prolonged-corticosteroid exclusion is not applied.
    """
    if files is None:
        files = export_files(folder)
    names = [t.name for t in TABLE_BY_NAME.values()]
    if "MedicationRequest" not in files:
        names.remove("medications")
    writers = {
        name: _Writer(out / f"{name}.parquet", TABLE_BY_NAME[name].columns) for name in names
    }
    counts: dict[str, Counter[str]] = {}
    notes = _Notes()
    order = ["Encounter", *sorted(k for k in files if k != "Encounter")]
    try:
        for rtype in order:
            for path in files.get(rtype, []):
                tally = counts.setdefault(rtype, Counter())
                for line in _lines(path):
                    tally["rows"] += 1
                    tally[_convert_line(rtype, line, writers, notes)] += 1
    finally:
        for writer in writers.values():
            writer.close()
    ignored = {
        t: c["ignored_resource_type"] for t, c in counts.items() if c["ignored_resource_type"]
    }
    return Conversion(
        {k: dict(sorted(v.items())) for k, v in sorted(counts.items())},
        _warnings(notes) + _ignored_warnings(ignored),
    )


#: Claims: a payer's export may hold its diagnoses and procedures only there.
CLAIM_TYPES: frozenset[str] = frozenset({"ExplanationOfBenefit", "Claim"})


def _ignored_warnings(ignored: dict[str, int]) -> list[str]:
    """Say which resources were not read at all (counted as ``ignored_resource_type``): what
    they hold is in no table, and a claims-only export would otherwise look like a population
    without visits or imaging."""
    if not ignored:
        return []
    listed = ", ".join(f"{n} {t}" for t, n in sorted(ignored.items()))
    read = ", ".join(sorted(RESOURCE_TABLE))
    warning = f"{listed} resources were not read: the audit reads {read}"
    claims = sorted(CLAIM_TYPES & set(ignored))
    if claims:
        warning += (
            f"; claims ({', '.join(claims)}) are not read yet, so a diagnosis or procedure billed "
            "on a claim counts only if the export also holds it as a Condition or Procedure"
        )
    return [warning]


def _convert_line(rtype: str, line: str, writers: dict[str, _Writer], notes: _Notes) -> str:
    """Write the rows of one NDJSON line; return its outcome (``converted`` or why not)."""
    try:
        resource = json.loads(line)
    except ValueError:
        return "rejected_bad_json"
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return "rejected_not_a_resource"
    if resource["resourceType"] != rtype:
        return "rejected_mixed_resource_type"
    if rtype == "OperationOutcome":
        return _outcome(resource, notes)
    if rtype in REFERENCE_ONLY:
        return "reference_only"
    if rtype not in RESOURCE_TABLE:
        return "ignored_resource_type"
    try:
        void = _void(resource)
        if void is not None:
            return void
        rows = _rows(rtype, resource, notes)
    except (AttributeError, TypeError, ValueError, IndexError):
        # A shape FHIR R4 does not allow (an object where an array belongs, a number for an id).
        return "rejected_malformed"
    writer = writers[RESOURCE_TABLE[rtype]]
    for row in rows:
        writer.add(row)
    return "converted"


def _void(r: dict[str, Any]) -> str | None:
    """``rejected_<status>`` if the resource says it did not happen."""
    status = r.get("status")
    if status in VOID_STATUSES:
        return "rejected_" + str(status).replace("-", "_")
    if "verificationStatus" in r:
        verification = _coding(r["verificationStatus"])[1]
        if verification in VOID_STATUSES:
            return "rejected_" + str(verification).replace("-", "_")
    return None


def _rows(rtype: str, r: dict[str, Any], notes: _Notes) -> list[Row]:
    """The layout rows of one resource.  Raises (TypeError, ...) on a malformed one before
    anything is noted: a resource becomes its rows, or none of it is used."""
    rid = _text(r.get("id"))
    record = None if rid is None else f"{rtype}/{rid}"
    if rtype == "Patient":
        return [
            {
                "patient_id": rid,
                "birth_date": _text(r.get("birthDate")),
                "sex": _text(r.get("gender")),
            }
        ]
    patient = _ref_id(r.get("subject"))
    if rtype == "Encounter":
        return _encounter(r, rid, patient, notes)
    if rtype == "Condition":
        return _condition(r, rid, patient, record, notes)
    if rtype == "MedicationRequest":
        system, code = _coding(r.get("medicationCodeableConcept"))
        dispense = r.get("dispenseRequest")
        return [
            {
                "patient_id": patient,
                "start_date": _date(r.get("authoredOn"))
                or _date(_get(_get(dispense, "validityPeriod"), "start")),
                "days_supply": _days_supply(_get(dispense, "expectedSupplyDuration")),
                "code_system": system,
                "code": code,
                "record_id": record,
            }
        ]
    if rtype == "Procedure":
        concept = r.get("code")
        date = _date(r.get("performedDateTime")) or _date(_get(r.get("performedPeriod"), "start"))
    elif rtype == "ImagingStudy":
        concepts = _list(r.get("procedureCode"))
        concept = concepts[0] if concepts else None
        date = _date(r.get("started"))
    else:
        concept = r.get("code")
        date = _date(r.get("occurrenceDateTime")) or _date(r.get("authoredOn"))
    system, code = _coding(concept)
    return [
        {
            "patient_id": patient,
            "date": date,
            "code_system": system,
            "code": code,
            "encounter_id": _ref_id(r.get("encounter")),
            "record_id": record,
        }
    ]


def _condition(
    r: dict[str, Any], rid: str | None, patient: str | None, record: str | None, notes: _Notes
) -> list[Row]:
    system, code = _coding(r.get("code"))
    own = _ref_id(r.get("encounter"))
    onset = _date(r.get("onsetDateTime")) or _date(_get(r.get("onsetPeriod"), "start"))
    recorded = _date(r.get("recordedDate"))
    # Claims date a diagnosis by the visit it was coded at: a Condition of an encounter by when
    # it was recorded (its onset may be weeks before: back pain "for three weeks" would be a
    # back-pain diagnosis before the visit, and exclude its own patient), or else by the visit
    # that ranks it; a problem-list Condition by when it began (a cancer recorded late is still
    # a history of cancer).
    ranked = notes.ranked(rid)
    base: Row = {"patient_id": patient, "code_system": system, "code": code, "record_id": record}
    rows: list[Row] = [
        {**base, "encounter_id": eid, "date": recorded or visit or onset, "principal": "true"}
        for eid, visit in ranked.items()
    ]
    if own is not None and own not in ranked:
        rows.append({**base, "encounter_id": own, "date": recorded or onset, "principal": "false"})
    if not rows:
        rows.append({**base, "encounter_id": None, "date": onset or recorded, "principal": "false"})
    return rows


def _encounter(r: dict[str, Any], rid: str | None, patient: str | None, notes: _Notes) -> list[Row]:
    setting = None
    for concept in _list(r.get("type")):
        for coding in _list(_get(concept, "coding")):
            if _get(coding, "system") == SETTING_SYSTEM and _get(coding, "code"):
                setting = _text(coding["code"])
    class_code = _text(_get(r.get("class"), "code"))
    if setting is None:
        setting = CLASS_TO_SETTING.get(class_code or "")
    diagnoses = _list(r.get("diagnosis"))
    ranked = [_ref_id(_get(dx, "condition")) for dx in diagnoses if _get(dx, "rank") == 1]
    reason = bool(_list(r.get("reasonCode")) or _list(r.get("reasonReference")))
    participants = _list(r.get("participant"))
    start = _date(_get(r.get("period"), "start"))
    locations = _list(r.get("location"))
    row: Row = {
        "encounter_id": rid,
        "patient_id": patient,
        "date": start,
        "setting": setting or "other",
        "clinician_id": _ref_id(_get(participants[0], "individual")) if participants else None,
        "site_id": _ref_id(r.get("serviceProvider"))
        or (_ref_id(_get(locations[0], "location")) if locations else None),
    }
    rows = [row]
    disposition = _coding(_get(r.get("hospitalization"), "dischargeDisposition"))[1]
    if disposition == "hosp":
        # Discharged to hospice: a hospice episode starting at discharge.
        end = _date(_get(r.get("period"), "end"))
        rows.append(
            {
                **row,
                "encounter_id": None if rid is None else f"{rid}#hospice",
                "setting": "hospice",
                "date": end or start,
            }
        )
    # Nothing below raises: the encounter is converted, and noted.
    if setting is None:
        notes.unmapped_classes[class_code or "(none)"] += 1
    if rid is not None:
        for cid in ranked:
            if cid is not None:
                notes.rank(cid, rid, start)
    if diagnoses and not ranked:
        notes.unranked += 1
    elif reason and not diagnoses:
        notes.reason_only += 1
    return rows


def _days_supply(duration: Any) -> str | None:
    """Whole days of an expected supply duration; ``None`` (rejected as ``bad_days_supply``)
    for what is not: a fraction, months (28 to 31 days), a value without a unit."""
    value = _get(duration, "value")
    code, unit = _text(_get(duration, "code")), _get(duration, "unit")
    if code is not None:
        per_unit = DAYS_PER_CODE.get(code)
    else:
        per_unit = DAYS_PER_UNIT.get(unit.lower()) if isinstance(unit, str) else None
    if per_unit is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    days = value * per_unit
    return str(int(days)) if float(days).is_integer() else None


def _outcome(r: dict[str, Any], notes: _Notes) -> str:
    """Note the issues of an OperationOutcome the server wrote (what it could not export)."""
    issues = r.get("issue")
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        notes.issues[str(issue.get("severity") or "unknown")] += 1
        details = issue.get("details")
        text = issue.get("diagnostics") or (
            details.get("text") if isinstance(details, dict) else None
        )
        if notes.first_issue is None and isinstance(text, str):
            notes.first_issue = text
    return "reported_by_server"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "information" else f"{n} {word}s"


def _warnings(notes: _Notes) -> list[str]:
    warnings = []
    if notes.issues:
        issues = ", ".join(_plural(n, s) for s, n in sorted(notes.issues.items()))
        first = f" (the first: {notes.first_issue[:200]!r})" if notes.first_issue else ""
        warnings.append(
            f"the export's OperationOutcome resources report {issues}{first}: what the server "
            "could not export is missing from this audit"
        )
    if notes.unranked:
        warnings.append(
            f"{notes.unranked} Encounters list diagnoses but rank none of them 1 "
            "(Encounter.diagnosis.rank): the audit takes an encounter's principal diagnosis from "
            "rank 1 only, so they cannot be index visits"
        )
    if notes.reason_only:
        warnings.append(
            f"{notes.reason_only} Encounters give a reason (reasonCode or reasonReference) but no "
            "diagnosis: a reason is not a principal diagnosis, so they cannot be index visits"
        )
    if notes.unmapped_classes:
        classes = ", ".join(f"{c}: {n}" for c, n in notes.unmapped_classes.most_common(5))
        warnings.append(
            f"{sum(notes.unmapped_classes.values())} Encounters have a class the audit does not "
            f"map ({classes}): read as setting other, which cannot be an index visit (give them a "
            f"type coding in {SETTING_SYSTEM})"
        )
    return warnings
