"""The CDS Hooks call route's shortcut for plain JSON bodies answers exactly as FastAPI's own
body handling does: same status, same body (card and report ids aside), same order of checks
(malformed JSON 400 before the token's 401, the token before the body's shape)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.service import app as app_module
from tests.service import fixtures as f
from tests.service import keys
from tests.service.test_fuzz import JSON, PATHS, _mutate

URL = "/cds-services/backtriage-lumbar-imaging-sign"
AUD = "http://testserver" + URL
PLAIN = "application/json"  # the shortcut's case
GENERIC = "application/cds-hooks+json"  # JSON all the same to FastAPI, never the shortcut's
_IDS = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _answer(client: Any, content: bytes, kind: str, token: str | None = None) -> tuple[int, str]:
    headers = {"content-type": kind}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    response = client.post(URL, content=content, headers=headers)
    return response.status_code, _IDS.sub("<id>", response.text)


@pytest.fixture()
def shortcuts(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call took the shortcut (so a test cannot pass by never taking it)."""
    taken: list[bool] = []
    plain_json = app_module._plain_json

    async def spy(request: Any, model: Any) -> Any:
        body = await plain_json(request, model)
        taken.append(body is not None)
        return body

    monkeypatch.setattr(app_module, "_plain_json", spy)
    return taken


def test_a_valid_call_takes_the_shortcut_and_answers_as_fastapi(
    insecure: Any, shortcuts: list[bool]
) -> None:
    content = json.dumps(f.argonaut_lbp()).encode()
    plain = _answer(insecure, content, PLAIN)
    assert shortcuts == [True]
    assert plain == _answer(insecure, content, GENERIC)
    assert shortcuts == [True, False]
    assert plain[0] == 200 and "not-appropriate" in plain[1]
    # a charset parameter of UTF-8 is still plain JSON
    assert _answer(insecure, content, PLAIN + "; charset=UTF-8") == plain
    assert shortcuts[-1] is True


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"hook": ',
        b"\xff\xfe{}",
        b"[1, 2]",
        b'{"hook": "order-sign"}',
        json.dumps({**f.argonaut_lbp(), "hookInstance": ""}).encode(),
    ],
    ids=["empty", "truncated", "bad-utf8", "array", "shape", "empty-id"],
)
def test_bad_bodies_get_fastapis_own_answer(
    insecure: Any, shortcuts: list[bool], content: bytes
) -> None:
    assert _answer(insecure, content, PLAIN) == _answer(insecure, content, GENERIC)
    assert _answer(insecure, content, PLAIN)[0] == 400
    assert not any(shortcuts)


def test_json_in_utf16_is_read_by_fastapi(insecure: Any, shortcuts: list[bool]) -> None:
    content = json.dumps(f.argonaut_lbp()).encode("utf-16")
    assert _answer(insecure, content, PLAIN) == _answer(insecure, content, GENERIC)
    assert _answer(insecure, content, PLAIN)[0] == 200
    assert not any(shortcuts)


def test_errors_after_the_body_is_read_are_the_same(insecure: Any, shortcuts: list[bool]) -> None:
    content = json.dumps({**f.argonaut_lbp(), "hook": "patient-view"}).encode()
    assert _answer(insecure, content, PLAIN) == _answer(insecure, content, GENERIC)
    assert _answer(insecure, content, PLAIN)[0] == 400
    unknown = insecure.post("/cds-services/nope", json=f.argonaut_lbp())
    generic = insecure.post(
        "/cds-services/nope",
        content=json.dumps(f.argonaut_lbp()),
        headers={"content-type": GENERIC},
    )
    assert unknown.status_code == generic.status_code == 404 and unknown.text == generic.text
    assert shortcuts == [True, False, True, True, False]


def test_other_content_types_are_left_to_fastapi(insecure: Any, shortcuts: list[bool]) -> None:
    content = json.dumps(f.argonaut_lbp()).encode()
    for kind in ("text/plain", "application/json; charset=latin-1", "application/jsonx"):
        status, _ = _answer(insecure, content, kind)
        assert status in (200, 400), kind
    assert not any(shortcuts)


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (json.dumps(f.argonaut_lbp()).encode(), 401),  # valid body, no token
        (b'{"hook": ', 400),  # malformed JSON is refused before the token is read
        (b'{"hook": "order-sign"}', 401),  # the token is checked before the body's shape
    ],
)
def test_checks_come_in_fastapis_order(secure: Any, content: bytes, status: int) -> None:
    assert _answer(secure, content, PLAIN) == _answer(secure, content, GENERIC)
    assert _answer(secure, content, PLAIN)[0] == status


def test_a_signed_call_takes_the_shortcut(secure: Any, shortcuts: list[bool]) -> None:
    content = json.dumps(f.argonaut_lbp()).encode()
    assert _answer(secure, content, PLAIN, keys.token(AUD))[0] == 200
    assert _answer(secure, content, PLAIN, keys.token("http://elsewhere" + URL))[0] == 401
    assert shortcuts == [True, True]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), value=JSON)
def test_any_mutated_call_gets_the_same_answer(insecure: Any, path: list[str], value: Any) -> None:
    content = json.dumps(_mutate(f.argonaut_lbp(), path, value)).encode()
    assert _answer(insecure, content, PLAIN) == _answer(insecure, content, GENERIC)
