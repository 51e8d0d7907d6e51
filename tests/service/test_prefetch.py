"""A prefetch key the client left out is fetched from fhirServer (a loopback stand-in here) with
the bearer token; when it cannot be, 412 with an OperationOutcome naming the key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.service import fixtures as f

SIGN = "/cds-services/backtriage-lumbar-imaging-sign"
SEEN: list[tuple[str, str | None]] = []


CANCER = {**f.lbp_condition(code="266987004"), "id": "ca"}  # history of malignant neoplasm


class FhirStandIn(BaseHTTPRequestHandler):
    """Patient p1: low back pain.  Patient p2, 61: low back pain on the first page of its
    conditions, a history of cancer on the second (as a server that pages at 1 result would,
    with a next link in HAPI FHIR's form)."""

    def do_GET(self) -> None:
        SEEN.append((self.path, self.headers.get("Authorization")))
        base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        if self.path.startswith("/fhir?_getpages=p2"):
            body = f.bundle(CANCER)
        elif self.path.startswith("/fhir/Condition?patient=p2"):
            body = {
                **f.bundle(f.lbp_condition(120)),
                "link": [{"relation": "next", "url": f"{base}?_getpages=p2&_getpagesoffset=1"}],
            }
        elif self.path.startswith("/fhir/Condition"):
            body = f.bundle(f.lbp_condition(120))
        elif self.path.startswith("/fhir/Patient/p2"):
            body = {**f.prefetch(age=61)["patient"], "id": "p2"}
        elif self.path.startswith("/fhir/Patient/p1"):
            body = f.prefetch()["patient"]
        else:
            self.send_response(500)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def fhir_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FhirStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def auth() -> dict[str, Any]:
    return {
        "access_token": "t0k3n",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds-service",
    }


def test_missing_keys_are_fetched_with_the_token(insecure: Any, fhir_server: str) -> None:
    SEEN.clear()
    body = f.argonaut_lbp()
    del body["prefetch"]["patient"], body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 200, response.text
    assert {path.split("?")[0] for path, _ in SEEN} == {"/fhir/Patient/p1", "/fhir/Condition"}
    assert all(token == "Bearer t0k3n" for _, token in SEEN)
    rating = response.json()["systemActions"][0]["resource"]["extension"][-4]
    assert rating["valueCodeableConcept"]["coding"][0]["code"] == "not-appropriate"


def test_a_failing_fhir_server_is_412(insecure: Any, fhir_server: str) -> None:
    body = f.argonaut_lbp()
    del body["prefetch"]["observations"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412
    assert "observations" in response.json()["issue"][0]["diagnostics"]


def test_null_means_no_data(insecure: Any) -> None:
    body = f.argonaut_lbp()
    body["prefetch"]["conditions"] = None
    assert insecure.post(SIGN, json=body).status_code == 200


def _paged_mri(fhir_server: str | None) -> dict[str, Any]:
    """An MRI for patient p2 (61, low back pain); the conditions are left to the FHIR server."""
    body = f.order_sign(f.order("72148"), pre=f.prefetch(age=61))
    body["context"]["patientId"] = "p2"
    del body["prefetch"]["patient"], body["prefetch"]["conditions"]
    if fhir_server is not None:
        body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    return body


def _rating(response: Any) -> str:
    (action,) = response.json()["systemActions"]
    (rating,) = [e for e in action["resource"]["extension"] if e["url"].endswith("pama-rating")]
    return str(rating["valueCodeableConcept"]["coding"][0]["code"])


def test_every_page_of_a_search_is_read(insecure: Any, fhir_server: str) -> None:
    # The cancer history is on the second page: reading the first alone rated the MRI
    # not-appropriate (and suggested removing it).
    SEEN.clear()
    response = insecure.post(SIGN, json=_paged_mri(fhir_server))
    assert response.status_code == 200, response.text
    assert ("/fhir?_getpages=p2&_getpagesoffset=1", "Bearer t0k3n") in SEEN
    assert _rating(response) == "appropriate"


def test_a_prefetched_search_with_more_pages_is_completed_or_412(
    insecure: Any, fhir_server: str
) -> None:
    body = _paged_mri(fhir_server)
    body["prefetch"]["conditions"] = {
        **f.bundle(f.lbp_condition(120)),
        "link": [{"relation": "next", "url": f"{fhir_server}?_getpages=p2"}],
    }
    body["prefetch"]["patient"] = {**f.prefetch(age=61)["patient"], "id": "p2"}
    assert _rating(insecure.post(SIGN, json=body)) == "appropriate"
    # without a FHIR server to read the rest from, the data are incomplete: 412, not a rating
    del body["fhirServer"], body["fhirAuthorization"]
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412
    assert "'conditions'" in response.json()["issue"][0]["diagnostics"]
    assert "page" in response.json()["issue"][0]["diagnostics"]


def test_a_next_page_elsewhere_is_not_followed(insecure: Any, fhir_server: str) -> None:
    SEEN.clear()
    body = _paged_mri(fhir_server)
    body["prefetch"]["conditions"] = {
        **f.bundle(f.lbp_condition(120)),
        "link": [{"relation": "next", "url": "https://elsewhere.test/fhir?_getpages=p2"}],
    }
    response = insecure.post(SIGN, json=body)  # the token is never sent to another server
    assert response.status_code == 412
    assert not any("_getpages" in path for path, _ in SEEN)


@pytest.mark.parametrize("patient", ["Patient/p1/_history/2", "p 1/../p2", "p1?x=1"])
def test_a_patient_id_that_is_no_fhir_id_is_400_not_a_query(
    insecure: Any, fhir_server: str, patient: str
) -> None:
    # its last segment is not the patient: no query is made with it
    SEEN.clear()
    body = f.argonaut_lbp()
    body["context"]["patientId"] = patient
    del body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 400
    assert "context.patientId" in response.json()["issue"][0]["diagnostics"]
    assert SEEN == []


def test_a_patient_reference_fills_the_template_with_its_id(
    insecure: Any, fhir_server: str
) -> None:
    SEEN.clear()
    body = f.argonaut_lbp()
    body["context"]["patientId"] = "Patient/p1"
    del body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    assert insecure.post(SIGN, json=body).status_code == 200
    assert [path for path, _ in SEEN] == ["/fhir/Condition?patient=p1"]
