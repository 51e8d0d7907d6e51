"""FHIR R4 patient data -> case format 1.  An adapter: it reads codes and values and decides
nothing clinical (what each code means is data: the knowledge base's ``codes.yaml`` and the lists
in ``fhir/data/``).

What is read, and how:
  Patient                age on ``today`` from birthDate; sex from gender
  Condition              a finding's code -> present (refuted -> absent); inactive or resolved
                         counts only for history findings; a condition code may set a finding
                         (``condition_findings.yaml``); the earliest onset of an active low back
                         pain diagnosis -> ``duration_days``
  Observation            LOINC -> measurement, units converted; the latest value wins
  MedicationRequest/     systemic corticosteroid for >= 90 days -> prolonged_corticosteroid_use;
  MedicationStatement    an immunosuppressant -> immunocompromised (``medications.yaml``)
  QuestionnaireResponse  answers to the intake Questionnaire, one per finding
  DocumentReference      inline text/plain -> the case's note (read by the free-text reader)
  ServiceRequest.reason  coded reasons of the orders being rated, read like active Conditions

When sources disagree about a finding, present wins over absent, and absent over unknown: a red
flag recorded anywhere is never hidden by another source (never under-triage).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backtriage.api import parse_case
from backtriage.case import Case, FindingState
from backtriage.errors import CaseError
from backtriage.fhir import questionnaire
from backtriage.fhir.codes import LOINC, FhirCodes
from backtriage.fhir.errors import FhirError
from backtriage.fhir.resources import attachment_text, to_date
from backtriage.knowledge import Knowledge

_ACTIVE = {"active", "recurrence", "relapse"}
_LBP_FAMILY = {"nonspecific_low_back_pain", "radiculopathy", "spinal_stenosis"}
_RANK: dict[FindingState, int] = {"unknown": 0, "absent": 1, "present": 2}
_MED_STATUS = {"active", "completed", "on-hold"}
_MAX_NOTE = 1_000_000


@dataclass
class Reading:
    """What the record gave: the case, and facts about the record the cards need."""

    case: Case
    lbp_coded: bool = False  # a low back pain diagnosis or reason is recorded
    recorded: list[str] = field(default_factory=list)  # active coded conditions (ids)
    skipped: list[str] = field(default_factory=list)  # values that could not be used, and why


@dataclass
class _Builder:
    knowledge: Knowledge
    codes: FhirCodes
    today: date
    age: int | None = None
    sex: str | None = None
    findings: dict[str, FindingState] = field(default_factory=dict)
    measurements: dict[str, tuple[date, float]] = field(default_factory=dict)
    onset: date | None = None
    lbp: bool = False
    recorded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def set(self, finding: str, state: FindingState) -> None:
        if _RANK[state] > _RANK[self.findings.get(finding, "unknown")]:
            self.findings[finding] = state


def read_record(
    resources: Iterable[Any],
    knowledge: Knowledge,
    codes: FhirCodes,
    today: date,
    reasons: Iterable[Any] = (),
) -> Reading:
    """Build a case from validated R4B resources (and the coded reasons of the orders)."""
    builder = _Builder(knowledge, codes, today)
    for resource in resources:
        reader = _READERS.get(resource.get_resource_type())
        if reader is not None:
            reader(builder, resource)
    for reason in reasons:
        _read_codes(builder, reason, status="active", refuted=False, onset=None)
    data: dict[str, Any] = {"findings": builder.findings}
    if builder.age is not None:
        data["age"] = builder.age
    if builder.sex is not None:
        data["sex"] = builder.sex
    if builder.onset is not None:
        data["duration_days"] = max(0, (today - builder.onset).days)
    if builder.measurements:
        data["measurements"] = {key: value for key, (_, value) in builder.measurements.items()}
    if builder.notes:
        data["note"] = "\n\n".join(builder.notes)[:_MAX_NOTE]
    try:
        case = parse_case(data, knowledge)
    except CaseError as exc:  # a value the case contract rejects (e.g. age from a bad birthDate)
        raise FhirError(f"the patient's record gives an unusable case: {exc}") from exc
    return Reading(case, builder.lbp, sorted(set(builder.recorded)), builder.skipped)


def _patient(builder: _Builder, patient: Any) -> None:
    born = to_date(patient.birthDate)
    if born is not None and born <= builder.today:
        years = builder.today.year - born.year
        if (builder.today.month, builder.today.day) < (born.month, born.day):
            years -= 1
        if years <= 120:
            builder.age = years
        else:
            builder.skipped.append(f"Patient/{patient.id}: birthDate gives an age over 120")
    if patient.gender in ("male", "female", "other", "unknown"):
        builder.sex = patient.gender


def _condition(builder: _Builder, condition: Any) -> None:
    verification = _first_code(condition.verificationStatus)
    if verification == "entered-in-error":
        return
    status = _first_code(condition.clinicalStatus) or "active"
    onset = to_date(condition.onsetDateTime) or (
        to_date(condition.onsetPeriod.start) if condition.onsetPeriod else None
    )
    _read_codes(builder, condition.code, status, verification == "refuted", onset)


def _read_codes(
    builder: _Builder, concept: Any, status: str, refuted: bool, onset: date | None
) -> None:
    if concept is None:
        return
    active = status in _ACTIVE
    for coding in concept.coding or []:
        if not coding.system or not coding.code:
            continue
        finding = builder.codes.finding_for(coding.system, coding.code)
        condition = builder.codes.condition_for(coding.system, coding.code)
        if condition is not None and not refuted:
            if active:
                builder.recorded.append(condition)
            finding = finding or builder.codes.condition_findings.get(condition)
            if condition in _LBP_FAMILY and active:
                builder.lbp = True
                if onset is not None and (builder.onset is None or onset < builder.onset):
                    builder.onset = onset
        if finding is None:
            continue
        if refuted:
            builder.set(finding, "absent")
        elif active or builder.knowledge.findings[finding].kind == "history":
            builder.set(finding, "present")
        if finding in ("radiating_leg_pain_below_knee", "spasms") and active:
            builder.lbp = True  # coded as a back-pain diagnosis (e.g. lumbago with sciatica)


def _observation(builder: _Builder, observation: Any) -> None:
    if observation.status in ("entered-in-error", "cancelled"):
        return
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        return
    for coding in observation.code.coding or []:
        if coding.system != LOINC or coding.code not in builder.codes.observations:
            continue
        measurement, units = builder.codes.observations[coding.code]
        unit = units.get(quantity.code or "") or units.get(quantity.unit or "")
        where = f"Observation/{observation.id or '?'} ({coding.code})"
        if unit is None:
            builder.skipped.append(f"{where}: unit {quantity.code or quantity.unit!r} not known")
            return
        value = float(quantity.value)
        value = (value - 32) * 5 / 9 if unit.fahrenheit else value * unit.factor
        when = to_date(observation.effectiveDateTime) or to_date(observation.issued) or date.min
        previous = builder.measurements.get(measurement)
        if previous is None or when >= previous[0]:
            builder.measurements[measurement] = (when, round(value, 3))
        return


def _medication(builder: _Builder, medication: Any) -> None:
    if medication.status not in _MED_STATUS:
        return
    concept = medication.medicationCodeableConcept
    if concept is None:
        return
    names = " ".join([concept.text or ""] + [c.display or "" for c in concept.coding or []])
    names = names.lower()
    dosages = getattr(medication, "dosageInstruction", None) or getattr(medication, "dosage", None)
    routes = " ".join(
        " ".join([d.route.text or ""] + [c.display or "" for c in d.route.coding or []])
        for d in dosages or []
        if d.route is not None
    ).lower()
    table = builder.codes.medications
    if any(route in routes for route in table.non_systemic_routes):
        return
    start, end = _medication_span(medication, builder.today)
    for group in table.groups:
        if not any(re.search(rf"\b{re.escape(name)}\b", names) for name in group.names):
            continue
        if group.min_days == 0 or (start is not None and (end - start).days >= group.min_days):
            builder.set(group.finding, "present")


def _medication_span(medication: Any, today: date) -> tuple[date | None, date]:
    period = getattr(medication, "effectivePeriod", None)
    start = to_date(getattr(medication, "effectiveDateTime", None)) or to_date(
        period.start if period else None
    )
    end = to_date(period.end) if period else None
    if start is None:
        start = to_date(getattr(medication, "authoredOn", None))
        dispense = getattr(medication, "dispenseRequest", None)
        if dispense is not None and dispense.validityPeriod is not None:
            start = start or to_date(dispense.validityPeriod.start)
            end = end or to_date(dispense.validityPeriod.end)
    if end is None:
        end = today if medication.status in ("active", "on-hold") else (start or today)
    return start, min(end, today)


def _questionnaire_response(builder: _Builder, response: Any) -> None:
    if not questionnaire.is_intake(response.questionnaire) or response.status in (
        "entered-in-error",
        "stopped",
    ):
        return
    for link_id, state in questionnaire.answers(response.item):
        if link_id not in builder.knowledge.findings:
            near = difflib.get_close_matches(link_id, builder.knowledge.findings, n=1)
            hint = f" — did you mean {near[0]!r}?" if near else ""
            raise FhirError(
                f"QuestionnaireResponse/{response.id or '?'}: unknown item linkId {link_id!r}"
                f"{hint} (the intake Questionnaire is served at /fhir/Questionnaire/lbp-intake)"
            )
        builder.set(link_id, state)


def _document(builder: _Builder, document: Any) -> None:
    if document.status != "current":
        return
    for content in document.content or []:
        attachment = content.attachment
        text = attachment_text(attachment.data, attachment.contentType)
        if text and text.strip():
            builder.notes.append(text.strip())


def _first_code(concept: Any) -> str | None:
    if concept is None:
        return None
    for coding in concept.coding or []:
        if coding.code:
            return str(coding.code)
    return None


_READERS = {
    "Patient": _patient,
    "Condition": _condition,
    "Observation": _observation,
    "MedicationRequest": _medication,
    "MedicationStatement": _medication,
    "QuestionnaireResponse": _questionnaire_response,
    "DocumentReference": _document,
}
