"""--trust parsing: clear errors at start-up, not at the first call."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from backtriage.service import Store, Trust
from backtriage.service.commands import feedback_report_command
from tests.service import keys


def test_trust_file_and_url(tmp_path: Path) -> None:
    jwks = keys.write_jwks(tmp_path / "jwks.json")
    assert Trust.parse(f"https://ehr.test={jwks}") == Trust("https://ehr.test", str(jwks))
    assert Trust.parse("https://ehr.test=https://ehr.test/jwks").is_url


@pytest.mark.parametrize("text", ["no-equals", "=x", "iss=", "iss=/does/not/exist"])
def test_bad_trust_says_why(text: str) -> None:
    with pytest.raises(ValueError, match="--trust"):
        Trust.parse(text)


def test_unreadable_jwks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable JWKS"):
        Trust.parse(f"iss={bad}")


def test_feedback_report_when_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "empty.sqlite3")
    with pytest.raises(typer.Exit):
        feedback_report_command(db=db)
    assert "no feedback database" in capsys.readouterr().err
    Store(db).close()
    feedback_report_command(db=db)
    assert "no cards issued yet" in capsys.readouterr().out
