"""JWT attack cases -> 401 with no detail; a good token -> 200 (CDS Hooks best practices)."""

from __future__ import annotations

import base64
import json
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import jwt
import pytest

from backtriage.service import Settings, Store, Trust, auth, create_app
from tests.service import fixtures as f
from tests.service import keys

with warnings.catch_warnings():  # as in conftest.py: Starlette's note on httpx2
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

AUD = "http://testserver/cds-services/backtriage-lumbar-imaging-sign"
URL = "/cds-services/backtriage-lumbar-imaging-sign"


def call(client: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(URL, json=f.argonaut_lbp(), headers=headers)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_es384_and_rs384(secure: Any) -> None:
    assert call(secure, keys.token(AUD)).status_code == 200
    assert call(secure, keys.token(AUD, alg="RS384", kid="rsa1")).status_code == 200
    discovery = secure.get(
        "/cds-services",
        headers={"Authorization": "Bearer " + keys.token("http://testserver/cds-services")},
    )
    assert discovery.status_code == 200


def _alg_none() -> str:
    now = int(time.time())
    return (
        _b64({"alg": "none", "typ": "JWT", "kid": "ec1"})
        + "."
        + _b64({"iss": keys.ISSUER, "aud": AUD, "iat": now, "exp": now + 60, "jti": "n1"})
        + "."
    )


ATTACKS = {
    "no token": lambda: None,
    "garbage": lambda: "not.a.jwt",
    "wrong aud": lambda: keys.token("http://testserver/cds-services/other"),
    "expired": lambda: keys.token(AUD, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
    "iat in future": lambda: keys.token(AUD, iat=int(time.time()) + 3600),
    "alg none": _alg_none,
    "HS256": lambda: jwt.encode(
        {
            "iss": keys.ISSUER,
            "aud": AUD,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "jti": "h1",
        },
        "secret-at-least-32-bytes-long-000",
        algorithm="HS256",
        headers={"kid": "ec1", "typ": "JWT"},
    ),
    "RS256 not allowed": lambda: keys.token(AUD, alg="RS256", kid="rsa1"),
    "unknown issuer": lambda: keys.token(AUD, iss="https://evil.test"),
    "wrong key": lambda: keys.token(AUD, key=keys.OTHER_KEY),
    "unknown kid": lambda: keys.token(AUD, kid="nope"),
    "no jti": lambda: keys.token(AUD, jti=None),
    "no kid": lambda: keys.token(AUD, kid=""),
    # an attacker's key, named by the trusted kid or its own, with a jku to the attacker's JWKS
    "foreign jku": lambda: keys.token(
        AUD, key=keys.OTHER_KEY, headers={"jku": "https://evil.test/jwks"}
    ),
    "foreign jku and kid": lambda: keys.token(
        AUD, key=keys.OTHER_KEY, kid="evil", headers={"jku": "https://evil.test/jwks"}
    ),
}


@pytest.fixture()
def no_fetch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the verifier tries to fetch keys from (none is fetched)."""
    fetched: list[str] = []

    def get(url: str, **_: Any) -> Any:
        fetched.append(url)
        raise httpx.ConnectError("no network in this test")

    monkeypatch.setattr(auth.httpx, "get", get)
    return fetched


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attacks_are_401_without_detail(secure: Any, no_fetch: list[str], name: str) -> None:
    response = call(secure, ATTACKS[name]())
    assert response.status_code == 401, name
    assert response.content == b""
    assert no_fetch == []


def test_a_jku_does_not_fail_a_token_the_key_file_verifies(
    secure: Any, no_fetch: list[str]
) -> None:
    # CDS Hooks 3.0: clients SHOULD send jku (Epic does).  With a key file for the issuer the
    # file is the trust anchor, so the token is verified with it and the jku, whatever it
    # names, is never fetched; it was a bare 401
    for jku in ("https://ehr.example.test/jwks.json", "https://evil.test/jwks"):
        assert call(secure, keys.token(AUD, headers={"jku": jku})).status_code == 200, jku
    assert no_fetch == []


class JwksStandIn(BaseHTTPRequestHandler):
    """The trusted issuer's JWKS at /jwks.json; every path asked for is recorded."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        status = 200 if self.path == "/jwks.json" else 404
        f.send_json(self, status, keys.jwks(), "application/json")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def by_url(db_path: str) -> Iterator[tuple[Any, str]]:
    """A client for an app that trusts the issuer's keys at a JWKS URL, and that URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    JwksStandIn.asked.clear()
    store = Store(db_path)
    settings = Settings(db=db_path, trust=(Trust(keys.ISSUER, url),))
    with TestClient(create_app(settings, store=store)) as client:
        yield client, url
    store.close()
    server.shutdown()
    server.server_close()


def test_with_a_jwks_url_the_jku_must_be_that_url(by_url: tuple[Any, str]) -> None:
    client, url = by_url
    assert call(client, keys.token(AUD)).status_code == 200
    assert call(client, keys.token(AUD, headers={"jku": url})).status_code == 200
    elsewhere = url.replace("/jwks.json", "/other-jwks.json")
    assert call(client, keys.token(AUD, headers={"jku": elsewhere})).status_code == 401
    assert set(JwksStandIn.asked) == {"/jwks.json"}  # the jku not allowed is never fetched


def test_the_scheme_name_is_case_insensitive(secure: Any) -> None:
    # RFC 7235 §2.1: the auth-scheme is a case-insensitive token ("bearer", "BEARER")
    for scheme in ("bearer", "BEARER"):
        headers = {"Authorization": f"{scheme} {keys.token(AUD)}"}
        assert secure.post(URL, json=f.argonaut_lbp(), headers=headers).status_code == 200
    headers = {"Authorization": f"Basic {keys.token(AUD)}"}
    assert secure.post(URL, json=f.argonaut_lbp(), headers=headers).status_code == 401


def test_replayed_jti_is_401(secure: Any) -> None:
    token = keys.token(AUD)
    assert call(secure, token).status_code == 200
    assert call(secure, token).status_code == 401


def test_feedback_needs_auth(secure: Any) -> None:
    response = secure.post(URL + "/feedback", json={"feedback": []})
    assert response.status_code == 401


def test_a_trailing_slash_call_takes_either_form_of_its_url_as_aud(secure: Any) -> None:
    # the client signs the URL it calls; the service is the same endpoint with or without the
    # slash, and no other
    for aud in (AUD + "/", AUD):
        headers = {"Authorization": f"Bearer {keys.token(aud)}"}
        response = secure.post(URL + "/", json=f.argonaut_lbp(), headers=headers)
        assert response.status_code == 200, aud
    other = keys.token("http://testserver/cds-services/backtriage-patient-view/")
    headers = {"Authorization": f"Bearer {other}"}
    assert secure.post(URL + "/", json=f.argonaut_lbp(), headers=headers).status_code == 401
    headers = {"Authorization": "Bearer " + keys.token("http://testserver/cds-services/")}
    assert secure.get("/cds-services/", headers=headers).status_code == 200


def _feedback(client: Any, aud: str, path: str = URL + "/feedback") -> Any:
    item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-11-25T01:00:00Z"}
    headers = {"Authorization": f"Bearer {keys.token(aud)}"}
    return client.post(path, json={"feedback": [item]}, headers=headers)


def test_feedback_takes_its_service_endpoint_or_its_own_url_as_aud(secure: Any) -> None:
    # CDS Hooks §Trusting CDS Clients: aud is "the URL of the CDS Service endpoint being
    # invoked", and §Feedback builds the feedback URL from "the CDS Service endpoint": a client
    # may sign either.  Only /feedback was taken, so a client signing the service endpoint had
    # every feedback refused
    assert _feedback(secure, AUD).status_code == 200
    assert _feedback(secure, AUD + "/feedback").status_code == 200
    assert _feedback(secure, AUD, URL + "/feedback/").status_code == 200
    for other in (
        "http://testserver/cds-services",
        "http://testserver/cds-services/backtriage-patient-view",
        "http://testserver/cds-services/backtriage-patient-view/feedback",
        "http://testserver",
    ):
        assert _feedback(secure, other).status_code == 401, other
