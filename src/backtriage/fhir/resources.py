"""Validate FHIR R4 resources with the ``fhir.resources`` R4B models (the package's default models
are R5, which reject R4 data such as ``ServiceRequest.reasonCode``)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from backtriage.fhir.errors import FhirError

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
# Types the mapping reads; anything else in a Bundle is skipped without validation.
READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationStatement",
        "QuestionnaireResponse",
        "DocumentReference",
        "ServiceRequest",
    }
)


def parse_resource(data: Any, where: str) -> FHIRAbstractModel:
    """One resource as an R4B model; :class:`FhirError` naming ``where`` when it is not valid."""
    if not isinstance(data, dict):
        raise FhirError(f"{where}: expected a FHIR resource (a JSON object), got {_kind(data)}")
    kind = data.get("resourceType")
    if not isinstance(kind, str):
        raise FhirError(f"{where}: a FHIR resource needs a string 'resourceType'")
    try:
        model = get_fhir_model_class(kind)
    except (ValueError, KeyError) as exc:
        raise FhirError(f"{where}: {kind!r} is not a FHIR R4 resource type") from exc
    try:
        resource = model.model_validate(data)
    except (ValidationError, ValueError, TypeError) as exc:
        raise FhirError(
            f"{where}: {kind}/{data.get('id', '?')} is not valid FHIR R4: {_short(exc)}"
        ) from exc
    return resource


def entries(data: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The resources in a prefetch value: a Bundle's entries, or the resource itself.
    OperationOutcomes (how a CDS client may report a failed query) are skipped."""
    if not isinstance(data, dict):
        raise FhirError(f"{where}: expected a FHIR resource or Bundle, got {_kind(data)}")
    if data.get("resourceType") == "Bundle":
        items = data.get("entry") or []
        if not isinstance(items, list):
            raise FhirError(f"{where}: Bundle.entry must be a list")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise FhirError(f"{where}: Bundle.entry[{index}] must be an object")
            resource = item.get("resource")
            if resource is None:
                continue
            yield from entries(resource, f"{where} entry[{index}]")
    elif data.get("resourceType") != "OperationOutcome":
        yield where, data


def to_date(value: Any) -> date | None:
    """A FHIR date/dateTime (model value or partial string) as a date (missing parts -> 1)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _PARTIAL_DATE.match(value)
        if match:
            year, month, day = match.groups()
            try:
                return date(int(year), int(month or 1), int(day or 1))
            except ValueError:
                return None
    return None


def attachment_text(data: Any, content_type: str | None) -> str | None:
    """Plain text of an inline attachment, or None when it is not inline plain text.  The R4B
    model has already decoded ``base64Binary`` to bytes; a plain string is decoded here."""
    if not data or (content_type and not content_type.startswith("text/plain")):
        return None
    try:
        raw = data if isinstance(data, bytes) else base64.b64decode(str(data), validate=False)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:3]:
            loc = ".".join(str(step) for step in error["loc"])
            parts.append(f"{loc}: {error['msg']}")
        more = exc.error_count() - 3
        return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return str(exc)[:300]
