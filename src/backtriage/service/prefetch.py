"""Prefetch: the templates each service asks for, and getting what the client did not send.

A key the client left out is fetched from ``fhirServer`` with ``fhirAuthorization`` (httpx, with
a timeout); when it cannot be, the call fails with 412 naming the key (CDS Hooks §Prefetch).
A key sent as ``null`` means the query found nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx

from backtriage.fhir import questionnaire

BASE_TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}"
    "&code=http://loinc.org|8310-5,http://loinc.org|8331-1,http://loinc.org|4537-7,"
    "http://loinc.org|30341-2,http://loinc.org|1988-5,http://loinc.org|30522-7,"
    "http://loinc.org|6690-2,http://loinc.org|26464-8",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active,completed",
    "intake": "QuestionnaireResponse?patient={{context.patientId}}"
    f"&questionnaire={questionnaire.URL}",
}
PATIENT_VIEW_TEMPLATES = {
    **BASE_TEMPLATES,
    "notes": "DocumentReference?patient={{context.patientId}}&status=current",
}
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class PrefetchMissing(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def resolve(
    templates: dict[str, str],
    prefetch: dict[str, Any] | None,
    context: dict[str, Any],
    fhir_server: str | None,
    access_token: str | None,
    timeout_s: float,
) -> dict[str, Any]:
    """Every key's value: as sent, or fetched; :class:`PrefetchMissing` when it can't be."""
    given = prefetch or {}
    out: dict[str, Any] = {}
    client: httpx.Client | None = None
    try:
        for key, template in templates.items():
            if key in given and not is_outcome(given[key]):
                out[key] = given[key]
                continue
            if not fhir_server or not access_token:
                raise PrefetchMissing(key)
            if client is None:
                client = httpx.Client(timeout=timeout_s, follow_redirects=False)
            out[key] = _fetch(client, fhir_server, _fill(template, context), access_token, key)
    finally:
        if client is not None:
            client.close()
    return out


def _fill(template: str, context: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        if not isinstance(found, str) or not _FHIR_ID.match(found.split("/")[-1]):
            raise PrefetchMissing(match.group(1))
        return found.split("/")[-1]

    return re.sub(r"\{\{context\.(\w+)\}\}", value, template)


def _fetch(client: httpx.Client, server: str, query: str, token: str, key: str) -> Any:
    try:
        response = client.get(
            server.rstrip("/") + "/" + query,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
        )
    except httpx.HTTPError as exc:
        raise PrefetchMissing(key) from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise PrefetchMissing(key)
    try:
        return response.json()
    except ValueError as exc:
        raise PrefetchMissing(key) from exc


def is_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"
