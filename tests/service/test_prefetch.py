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


class FhirStandIn(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/fhir/Condition"):
            body = f.bundle(f.lbp_condition(120))
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
