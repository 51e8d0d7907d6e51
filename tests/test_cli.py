"""The command line: formats, batch mode, stdin, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backtriage.cli import app
from tests.conftest import ROOT, validate_assessment

runner = CliRunner()
SEED = str(ROOT / "examples" / "seed.json")


def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def test_markdown_is_the_default() -> None:
    result = invoke("assess", SEED, "--today", "2026-11-25")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# backtriage assessment")
    assert "**Urgency: ROUTINE**" in result.stdout


def test_json_meets_the_contract() -> None:
    result = invoke("assess", str(ROOT / "examples" / "cauda_equina.json"), "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    validate_assessment(data)
    assert data["urgency"] == "emergency"
    assert data["imaging"][0]["study"] == "mri_lumbar_spine_without_contrast"


def test_html_is_a_standalone_page() -> None:
    result = invoke("assess", SEED, "-f", "html")
    assert result.exit_code == 0
    assert result.stdout.startswith("<!doctype html>")
    assert "@media print" in result.stdout
    assert "https://pubmed.ncbi.nlm.nih.gov/17909209/" in result.stdout


def test_stdin() -> None:
    result = invoke(
        "assess", "-", "-f", "json", stdin='{"age": 72, "findings": {"osteoporosis": "present"}}'
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["urgency"] == "urgent"


def test_json_lines_batch() -> None:
    result = invoke("assess", str(ROOT / "examples" / "batch.jsonl"), "-f", "json")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        validate_assessment(json.loads(line))
    assert [json.loads(line)["urgency"] for line in lines] == ["routine", "urgent", "urgent"]


def test_json_lines_error_names_the_line(tmp_path: Path) -> None:
    batch = tmp_path / "cases.jsonl"
    batch.write_text('{"age": 40}\n{"findings": {"fevr": "present"}}\n')
    result = invoke("assess", str(batch), "-f", "json")
    assert result.exit_code == 2
    assert "line 2: findings: unknown finding id 'fevr' — did you mean 'fever'?" in result.stderr


def test_json_lines_need_json_output() -> None:
    result = invoke("assess", str(ROOT / "examples" / "batch.jsonl"))
    assert result.exit_code == 2
    assert "use --format json" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("{bad", "standard input is not valid JSON"),
        ("[1, 2]", "a case must be a JSON object"),
        ('{"findings": {"spasm": "present"}}', "did you mean 'spasms'?"),
        ('{"agee": 40}', "unknown key 'agee' — did you mean 'age'?"),
        ('{"age": -3}', "age: Input should be greater than or equal to 0"),
        (
            '{"findings": {"fever": "yes"}}',
            "findings.fever: input should be 'present', 'absent' or 'unknown', not 'yes'",
        ),
        ('{"start_back": [1, 0]}', "start_back: needs exactly 9 answers"),
        ('{"findings": {"age_over_50": "present"}}', "'age_over_50' is derived from age"),
        ('{"measurements": {"esr": 30}}', "unknown key 'measurements.esr'"),
    ],
)
def test_user_errors_are_one_line_with_status_2(stdin: str, message: str) -> None:
    result = invoke("assess", "-", stdin=stdin)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_an_error_not_an_empty_case(text: str) -> None:
    result = invoke("assess", "--text", text)
    assert result.exit_code == 2
    assert "--text is empty" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_missing_file_and_bad_date() -> None:
    assert "no such case file" in invoke("assess", "nope.json").stderr
    result = invoke("assess", SEED, "--today", "25/11/2026")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr


def test_kb_check() -> None:
    result = invoke("kb", "check")
    assert result.exit_code == 0
    assert "ok — " in result.stdout and "77" not in result.stderr


def test_kb_check_reports_a_broken_folder(tmp_path: Path) -> None:
    result = invoke("kb", "check", str(tmp_path))
    assert result.exit_code == 1
    assert "findings.yaml: file is missing" in result.stderr


@pytest.mark.parametrize(
    "command", [[], ["assess"], ["kb"], ["kb", "check"], ["kb", "findings"], ["kb", "references"]]
)
def test_help_on_every_command(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout
