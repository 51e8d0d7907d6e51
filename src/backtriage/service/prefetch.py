"""Prefetch: the templates each service asks for, and getting what the client did not send.

A key the client left out is fetched from ``fhirServer`` with ``fhirAuthorization`` (httpx, with
a timeout); when it cannot be, the call fails with 412 naming the key and saying why (CDS Hooks
2.0, §Prefetch Template, https://cds-hooks.hl7.org/2.0/#prefetch-template: "If the CDS Service
is unable to obtain required data ... the service SHALL respond with an HTTP 412 Precondition
Failed status code").  A key sent as ``null`` means the query found nothing.  A search is read
whole: a Bundle with a ``next`` link (a server's paged answer, or a paginated prefetch) has its
further pages fetched from ``fhirServer``; when they cannot be, 412 again, since the first page
alone could hide a red flag recorded on a later one.

Only a query sure to have found nothing reads as nothing; a failed query is unknown, and
unknown is not absent (a search that failed must never read as "no cancer history").  So:

- a search answers 200 with a Bundle; anything else (a 404, an OperationOutcome, another
  resource type) is a failed fetch.  Only a read (``Patient/{id}``) answered 404 is ``null``:
  the spec has a client send ``null`` for a query that found nothing, and keeps ``null``
  rather than an empty Bundle "to account for the possibility that the prefetch url is a
  single-resource request" (same section);
- a read answers the resource type it names;
- an OperationOutcome reporting an error, as the value of a key or inside its Bundle, is a
  failed query, sent or fetched (CDS Hooks 3.0 ballot, §Prefetch Template: "If the CDS Client
  encounters errors prefetching the requested data, OperationOutcome(s) SHOULD be used to
  communicate those errors ... CDS Services SHOULD check any prefetched data for the existence
  of OperationOutcomes").  One with only warnings or information (a search Bundle's
  ``search.mode = outcome`` notes) is not.

Every resource sent or fetched must be about the patient in ``context.patientId`` (checked by
:mod:`backtriage.service.patient`, which says why): another patient's is a 400 naming the key
and the resource."""

from __future__ import annotations

import re
from typing import Any

import httpx

from backtriage.fhir import FhirError, questionnaire
from backtriage.service.patient import FHIR_ID, patient_id, this_patients

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
_MAX_PAGES = 50  # pages read of one search (each one request, with the timeout)
NOT_SENT = "was not sent and could not be fetched from fhirServer"
SENT_FAILED = (
    "was sent as an error (an OperationOutcome: the client's query failed) and could not be "
    "fetched from fhirServer"
)
MORE_PAGES = "has more pages (a 'next' link) that could not be fetched from fhirServer"
NO_SERVER = "the request does not give both fhirServer and fhirAuthorization"
_QUIET = frozenset({"warning", "information"})  # OperationOutcome severities that are no error


class PrefetchMissing(Exception):
    """A key's data could not be had; ``why`` says so, for the 412 the client sees."""

    def __init__(self, key: str, why: str = NOT_SENT) -> None:
        super().__init__(key)
        self.key = key
        self.why = why


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
    patient = patient_id(context)
    out: dict[str, Any] = {}
    client: httpx.Client | None = None
    try:
        for key, template in templates.items():
            sent = key in given and not failed(given[key])
            if sent and next_page(given[key]) is None:
                out[key] = this_patients(given[key], patient, f"prefetch {key!r}")
                continue
            if not fhir_server or not access_token:
                why = MORE_PAGES if sent else SENT_FAILED if key in given else NOT_SENT
                raise PrefetchMissing(key, f"{why} ({NO_SERVER})")
            if client is None:
                client = httpx.Client(timeout=timeout_s, follow_redirects=False)
            server = fhir_server.rstrip("/")
            if sent:
                value = given[key]
            else:
                url = f"{server}/{_fill(template, context)}"
                try:
                    value = _fetch(client, url, access_token, _answers(template))
                except _Unusable as exc:
                    raise PrefetchMissing(key, f"{NOT_SENT}: {exc}") from exc
            where = (
                "with further pages fetched from fhirServer" if sent else "fetched from fhirServer"
            )
            value = _all_pages(client, value, server, access_token, key)
            out[key] = this_patients(value, patient, f"prefetch {key!r} ({where})")
    finally:
        if client is not None:
            client.close()
    return out


def _fill(template: str, context: dict[str, Any]) -> str:
    """The template's query for this context.  A token's value must be a FHIR id, or a
    reference ``Type/id`` (its id is used): the last segment of any other path is not the
    resource meant (``Patient/1/_history/2``), so that is an input error, not a query."""

    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        kind, _, fhir_id = found.rpartition("/") if isinstance(found, str) else ("", "", "")
        if "/" in kind or not FHIR_ID.match(fhir_id):
            raise FhirError(
                f"context.{match.group(1)} must be a FHIR id (or Type/id) to fetch what the "
                f"prefetch query {template.split('?')[0]!r} asks for"
            )
        return fhir_id

    return re.sub(r"\{\{context\.(\w+)\}\}", value, template)


def _answers(template: str) -> str:
    """What the template's query answers: a search (``Type?...``) a Bundle, a read
    (``Type/{{id}}``) the resource type it names."""
    path = template.partition("?")[0]
    return "Bundle" if "?" in template or "/" not in path else path.partition("/")[0]


class _Unusable(Exception):
    """A GET's answer is not the data asked for; the message says what came back instead."""


def _fetch(client: httpx.Client, url: str, token: str, expected: str) -> Any:
    """The answer to one GET: the JSON of a 200 that is what was asked for (``expected``: the
    resource type, "Bundle" for a search), or None for a read answered 404.  Any other answer
    is :class:`_Unusable`, saying what came back (never its content: it may hold patient
    data)."""
    try:
        response = client.get(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        )
    except httpx.HTTPError as exc:
        raise _Unusable(f"it could not be reached ({type(exc).__name__})") from exc
    if response.status_code == 404 and expected != "Bundle":
        return None  # a read that found nothing: what a client's null says (§Prefetch Template)
    if response.status_code != 200:
        raise _Unusable(f"it answered HTTP {response.status_code}")
    try:
        value = response.json()
    except ValueError as exc:
        raise _Unusable("it answered with a body that is not JSON") from exc
    kind = value.get("resourceType") if isinstance(value, dict) else None
    if kind == "OperationOutcome":
        raise _Unusable("it answered with an OperationOutcome (an error), not data")
    if failed(value):
        raise _Unusable("its Bundle holds an OperationOutcome with an error (the search failed)")
    if kind != expected:
        what = f"a {kind}" if isinstance(kind, str) else "something that is no FHIR resource"
        query = "a search" if expected == "Bundle" else "the read"
        raise _Unusable(f"it answered {what}, not the {expected} {query} gives")
    return value


def _all_pages(client: httpx.Client, value: Any, server: str, token: str, key: str) -> Any:
    """``value`` with the entries of every further page of its search.  The token is only ever
    sent to ``server`` (the client's FHIR base URL): a next link elsewhere is not followed."""
    url = next_page(value)
    first = (value.get("entry") or []) if url is not None else None
    if url is None or not isinstance(first, list):
        return value  # one page (or a malformed Bundle, which the reader reports)
    entries = list(first)
    for _ in range(_MAX_PAGES):
        if not url.startswith((server + "/", server + "?")):  # "?": e.g. HAPI's _getpages
            raise PrefetchMissing(key, MORE_PAGES)
        try:
            page = _fetch(client, url, token, "Bundle")
        except _Unusable as exc:
            raise PrefetchMissing(key, f"{MORE_PAGES}: {exc}") from exc
        more = page.get("entry") or []
        if not isinstance(more, list):
            raise PrefetchMissing(key, MORE_PAGES)
        entries += more
        url = next_page(page)
        if url is None:
            return {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    raise PrefetchMissing(key, MORE_PAGES)


def next_page(value: Any) -> str | None:
    """The URL of the next page of a search Bundle, or None (not a Bundle, or the last page)."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    links = value.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None


def complete(templates: dict[str, str], prefetch: dict[str, Any] | None) -> bool:
    """Whether every key was sent whole and usable (so the call needs no FHIR server)."""
    given = prefetch or {}
    return all(
        key in given and not failed(given[key]) and next_page(given[key]) is None
        for key in templates
    )


def failed(value: Any) -> bool:
    """Whether a key's value reports a failed query: an OperationOutcome, or a Bundle holding
    one with an issue that is more than a warning or information (an issue without a
    severity counts as an error: it does not say the data are whole)."""
    if not isinstance(value, dict):
        return False
    if value.get("resourceType") == "OperationOutcome":
        return True
    if value.get("resourceType") != "Bundle" or not isinstance(value.get("entry"), list):
        return False
    for item in value["entry"]:
        resource = item.get("resource") if isinstance(item, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            issues = resource.get("issue")
            if not isinstance(issues, list) or not issues:
                return True
            if any(not isinstance(i, dict) or i.get("severity") not in _QUIET for i in issues):
                return True
    return False
