"""Prefetch: the templates each service asks for, and getting what the client did not send.

A key the client left out is fetched from ``fhirServer`` with ``fhirAuthorization`` (httpx, with
a timeout); when it cannot be, the call fails with 412 naming the key (CDS Hooks §Prefetch).
A key sent as ``null`` means the query found nothing.  A search is read whole: a Bundle with a
``next`` link (a server's paged answer, or a paginated prefetch) has its further pages fetched
from ``fhirServer``; when they cannot be, 412 again, since the first page alone could hide a red
flag recorded on a later one."""

from __future__ import annotations

import re
from typing import Any

import httpx

from backtriage.fhir import FhirError, questionnaire

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
_MAX_PAGES = 50  # pages read of one search (each one request, with the timeout)
NOT_SENT = "was not sent and could not be fetched from fhirServer"
MORE_PAGES = "has more pages (a 'next' link) that could not be fetched from fhirServer"


class PrefetchMissing(Exception):
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
    out: dict[str, Any] = {}
    client: httpx.Client | None = None
    try:
        for key, template in templates.items():
            sent = key in given and not is_outcome(given[key])
            if sent and next_page(given[key]) is None:
                out[key] = given[key]
                continue
            if not fhir_server or not access_token:
                raise PrefetchMissing(key, MORE_PAGES if sent else NOT_SENT)
            if client is None:
                client = httpx.Client(timeout=timeout_s, follow_redirects=False)
            server = fhir_server.rstrip("/")
            value = (
                given[key]
                if sent
                else _fetch(client, f"{server}/{_fill(template, context)}", access_token, key)
            )
            out[key] = _all_pages(client, value, server, access_token, key)
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
        if "/" in kind or not _FHIR_ID.match(fhir_id):
            raise FhirError(
                f"context.{match.group(1)} must be a FHIR id (or Type/id) to fetch what the "
                f"prefetch query {template.split('?')[0]!r} asks for"
            )
        return fhir_id

    return re.sub(r"\{\{context\.(\w+)\}\}", value, template)


def _fetch(client: httpx.Client, url: str, token: str, key: str) -> Any:
    try:
        response = client.get(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
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
            page = _fetch(client, url, token, key)
        except PrefetchMissing as exc:
            raise PrefetchMissing(key, MORE_PAGES) from exc
        bundle = isinstance(page, dict) and page.get("resourceType") == "Bundle"
        more = (page.get("entry") or []) if bundle else None
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


def is_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"
