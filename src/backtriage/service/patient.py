"""The patient in context, and the check that what a call sends is that patient's.

Every resource a call reads (prefetched, fetched from ``fhirServer``, or a draft order in
``context.draftOrders``) must be about the patient in ``context.patientId``: a Patient with
another id, or a resource whose ``subject`` (or ``patient``) names another Patient, or anything
but a Patient (a Group, a Location, a Device), is a 400 naming where it was and the resource.
Used, another patient's cancer or fever would become this patient's red flag (and a group's
"no fever" this patient's denial), and a rating made from this patient's record would be
written onto another patient's order; dropped, part of what the client sent would be lost
without a word.
What has no Patient reference (an included Medication, a QuestionnaireResponse or a draft
order without a subject) cannot be checked, and is kept as this patient's."""

from __future__ import annotations

import re
from typing import Any

from backtriage.fhir import FhirError, entries

# A FHIR id: what context.patientId (as an id or Patient/id) and a prefetch token must give
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# A literal reference's type and id: relative or absolute, with or without a version
_REFERENCE = re.compile(
    r"(?:^|/)([A-Z][A-Za-z]*)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


def patient_id(context: dict[str, Any]) -> str:
    """The id of the patient in context: ``context.patientId``, a FHIR id (``Patient/id`` is
    read as its id); anything else is an input error, since no data could be checked
    against it."""
    found = context.get("patientId")
    kind, _, fhir_id = found.rpartition("/") if isinstance(found, str) else ("", "", "")
    if kind not in ("", "Patient") or not FHIR_ID.match(fhir_id):
        raise FhirError("context.patientId must be the FHIR id of the patient (or Patient/id)")
    return fhir_id


def this_patients(value: Any, patient: str, where: str) -> Any:
    """``value`` (a resource or Bundle, or None), once every resource in it is known not to be
    another patient's (the module docstring says why); else :class:`FhirError` naming
    ``where``, the entry and the resource."""
    if value is None:
        return None
    for place, raw in entries(value, where):
        other = _other_subject(raw, patient)
        if other is not None:
            kind, fhir_id = raw.get("resourceType"), raw.get("id")
            name = f"{kind}/{fhir_id}" if isinstance(fhir_id, str) else f"a {kind} without an id"
            about = "is" if kind == "Patient" else f"is about {other},"
            why = (
                "another patient's data cannot be used for this one"
                if other.startswith("Patient/")
                else f"data about a {other.partition('/')[0]} cannot be used as this patient's"
            )
            raise FhirError(
                f"{place}: {name} {about} not the patient in context.patientId ({patient!r}); "
                + why
            )
    return value


def _other_subject(raw: dict[str, Any], patient: str) -> str | None:
    """The reference (``Type/id``) of what ``raw`` is, or is about, when that is not this
    patient: another Patient, or a Group, Location, Device...; None when it is this patient's or
    names no one (a reference without a type and id, such as a contained ``#p1``)."""
    if raw.get("resourceType") == "Patient":
        fhir_id = raw.get("id")
        return f"Patient/{fhir_id}" if isinstance(fhir_id, str) and fhir_id != patient else None
    for field in ("subject", "patient"):
        reference = raw.get(field)
        text = reference.get("reference") if isinstance(reference, dict) else None
        found = _REFERENCE.search(text) if isinstance(text, str) else None
        if found is not None and (found.group(1), found.group(2)) != ("Patient", patient):
            return f"{found.group(1)}/{found.group(2)}"
    return None
