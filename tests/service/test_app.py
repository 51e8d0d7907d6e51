"""POST /assess (JSON against the contract, Markdown, HTML), errors, CORS, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from backtriage.service import Settings, Store, create_app
from tests.conftest import _ASSESSMENT_VALIDATOR
from tests.service import fixtures as f


def test_assess_json_matches_the_contract(insecure: Any) -> None:
    response = insecure.post(
        "/assess", json={"age": 61, "findings": {"history_of_cancer": "present"}}
    )
    assert response.status_code == 200
    body = response.json()
    _ASSESSMENT_VALIDATOR.validate(body)
    assert body["urgency"] == "urgent"


def test_assess_markdown_and_html(insecure: Any) -> None:
    case = {"complaint": "Mid-lower left back pain with spasms"}
    markdown = insecure.post("/assess", json=case, headers={"Accept": "text/markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("#")
    html = insecure.post("/assess", json=case, headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text.lower()


def test_bad_case_is_400_saying_what_to_fix(insecure: Any) -> None:
    response = insecure.post("/assess", json={"findings": {"spasm": "present"}})
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "did you mean 'spasms'" in outcome["issue"][0]["diagnostics"]
    assert insecure.post("/assess", json=[1]).status_code == 400


def test_unknown_report_is_404(insecure: Any) -> None:
    assert insecure.get("/reports/nope").status_code == 404
    assert insecure.get("/reports/" + "x" * 500).status_code == 404


def test_cors_preflight(insecure: Any) -> None:
    response = insecure.options(
        "/cds-services",
        headers={
            "Origin": "https://sandbox.example.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://sandbox.example.test")


def test_openapi_lists_the_routes(insecure: Any) -> None:
    paths = insecure.get("/openapi.json").json()["paths"]
    assert {
        "/assess",
        "/healthz",
        "/cds-services",
        "/cds-services/{service_id}",
        "/cds-services/{service_id}/feedback",
        "/fhir/Questionnaire/lbp-intake",
    } <= set(paths)


def test_insecure_warning_is_printed_once(db_path: str) -> None:
    # In a fresh process: pytest's own log capture would hide a second copy.
    script = (
        "from backtriage.service.app import create_app\n"
        "from backtriage.service.settings import Settings\n"
        f"create_app(Settings(db={db_path!r}, insecure_no_auth=True))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stderr.count("NOT authenticated") == 1, run.stderr


def test_a_body_over_the_limit_is_413_before_it_is_read(db_path: str) -> None:
    settings = Settings(db=db_path, insecure_no_auth=True, max_body_bytes=20_000)
    store = Store(db_path)
    url = "/cds-services/backtriage-lumbar-imaging-sign"
    content = json.dumps(f.argonaut_lbp()).encode()
    assert len(content) < 20_000
    big = json.dumps({**f.argonaut_lbp(), "extension": {"x": "a" * 30_000}}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield from (big[i : i + 4096] for i in range(0, len(big), 4096))

    with TestClient(create_app(settings, store=store)) as client:
        headers = {"content-type": "application/json"}
        assert client.post(url, content=content, headers=headers).status_code == 200
        for body in (big, chunks()):
            response = client.post(url, content=body, headers=headers)
            assert response.status_code == 413
            (issue,) = response.json()["issue"]
            assert issue["code"] == "too-long" and "20000 bytes" in issue["diagnostics"]
        assert client.post("/assess", content=big, headers=headers).status_code == 413
    store.close()
