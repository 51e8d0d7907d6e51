"""The two commands through a local Typer app, as the lead's cli.py will register them."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from backtriage.audit.commands import audit_command, synth_command
from tests.audit.timelines import AUDIT_WARNINGS, YEAR

pytestmark = AUDIT_WARNINGS

app = typer.Typer()
app.command("audit")(audit_command)
app.command("synth")(synth_command)
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "pop"
    result = runner.invoke(app, ["synth", str(folder), "--patients", "3000", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return folder


def test_synth_then_audit_json(demo: Path) -> None:
    result = runner.invoke(app, ["audit", str(demo), "--year", str(YEAR), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    for key in (
        "denominator",
        "numerator",
        "rate",
        "exclusions",
        "by_clinician",
        "by_site",
        "monthly_trend",
        "rows",
    ):
        assert key in summary
    assert summary["by_clinician"][0]["rate_ci95"][0] <= summary["by_clinician"][0]["rate"]


def test_patients_file_and_html(demo: Path, tmp_path: Path) -> None:
    patients, html = tmp_path / "p.csv", tmp_path / "r.html"
    result = runner.invoke(
        app,
        ["audit", str(demo), "--year", str(YEAR), "--patients", str(patients), "--html", str(html)],
    )
    assert result.exit_code == 0, result.output
    assert "denominator" in result.stdout
    frame = pd.read_csv(patients)
    assert len(frame) == 3000
    assert set(frame["status"]) == {"denominator", "excluded", "not_eligible"}
    assert {"patient_id", "status", "imaged", "reason", "index_date"} <= set(frame.columns)
    page = html.read_text()
    assert page.count("<svg") == 4
    assert "no red flag recorded" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for svg in page.split("<svg")[1:]:
        ElementTree.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")


def test_the_charts_are_reviewed_only_for_the_html_report(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtriage.audit import results as results_module

    reviewed: list[object] = []
    real = results_module.red_flag_hits

    def counting(*args: Any) -> Any:
        reviewed.append(args)
        return real(*args)

    monkeypatch.setattr(results_module, "red_flag_hits", counting)
    plain = runner.invoke(app, ["audit", str(demo), "--year", str(YEAR), "--format", "json"])
    assert plain.exit_code == 0, plain.output
    assert reviewed == []
    html = tmp_path / "r.html"
    args = ["audit", str(demo), "--year", str(YEAR), "--format", "json", "--html", str(html)]
    with_html = runner.invoke(app, args)
    assert with_html.exit_code == 0, with_html.output
    assert len(reviewed) == 1
    assert json.loads(plain.stdout) == json.loads(with_html.stdout)


def test_synth_fhir_is_audited_like_tabular(tmp_path: Path, demo: Path) -> None:
    folder = tmp_path / "fhir"
    assert (
        runner.invoke(
            app, ["synth", str(folder), "--patients", "3000", "--seed", "1", "--format", "fhir"]
        ).exit_code
        == 0
    )
    fhir = runner.invoke(app, ["audit", str(folder), "--year", "2024", "--format", "json"])
    tab = runner.invoke(app, ["audit", str(demo), "--year", "2024", "--format", "json"])
    a, b = json.loads(fhir.stdout), json.loads(tab.stdout)
    for key in ("denominator", "numerator", "rate", "exclusions", "by_clinician"):
        assert a[key] == b[key]


def test_a_bad_spec_is_said_before_a_fhir_export_is_converted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtriage.audit import fhir

    folder = tmp_path / "fhir"
    made = runner.invoke(app, ["synth", str(folder), "--patients", "50", "--format", "fhir"])
    assert made.exit_code == 0, made.output

    def never(*args: Any) -> Any:
        raise AssertionError("the export was converted before --spec was checked")

    monkeypatch.setattr(fhir, "convert", never)
    result = runner.invoke(app, ["audit", str(folder), "--year", "2024", "--spec", "nope"])
    assert result.exit_code == 2
    assert "unknown --spec 'nope'" in result.stderr


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["--year", "2024", "--spec", "nope"], "unknown --spec 'nope'"),
        (["--year", "24"], "--year 24 is out of range"),
    ],
)
def test_a_bad_spec_or_year_is_said_before_spark_starts(
    demo: Path, monkeypatch: pytest.MonkeyPatch, bad: list[str], message: str
) -> None:
    from backtriage.audit import run

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an engine was started before --spec and --year were checked")

    monkeypatch.setattr(run, "connect", never)
    result = runner.invoke(app, ["audit", str(demo), "--engine", "spark", *bad])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "{missing}", "--year", "2024"], "does not exist"),
        (["audit", "{empty}", "--year", "2024"], "lacks patients.csv or patients.parquet"),
        (["audit", "{demo}", "--year", "2024", "--spec", "nope"], "unknown --spec 'nope'"),
        (["audit", "{demo}", "--year", "2024", "--engine", "nope"], "unknown --engine"),
        (["audit", "{demo}", "--year", "2024", "--html", "x.txt"], "must end in .html"),
        (["audit", "{demo}", "--year", "2024", "--patients", "x.txt"], "must end in .csv"),
        (["synth", "{demo}"], "is not empty"),
        (["audit", "{demo}", "--year", "2024", "--memory-limit", "1MB"], "ran out of memory"),
        (["audit", "{demo}", "--year", "24"], "--year 24 is out of range"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    args: list[str], message: str, demo: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "demo": demo}
    argv = [a.format(**paths) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert message in result.stderr
    # In the form every command uses (the assess command's tests check it there too).
    assert result.stderr.startswith("backtriage: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_column_is_named(tmp_path: Path, demo: Path) -> None:
    folder = tmp_path / "cols"
    folder.mkdir()
    for name in ("patients", "encounters", "diagnoses", "procedures"):
        frame = pd.read_parquet(demo / f"{name}.parquet")
        if name == "encounters":
            frame = frame.drop(columns=["setting"])
        frame.to_csv(folder / f"{name}.csv", index=False)
    result = runner.invoke(app, ["audit", str(folder), "--year", "2024"])
    assert result.exit_code == 2
    assert "encounters.csv lacks column(s) setting" in result.stderr


def test_spark_missing_says_how_to_install(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pyspark(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    result = runner.invoke(app, ["audit", str(demo), "--year", "2024", "--engine", "spark"])
    assert result.exit_code == 2
    assert "pip install 'backtriage[spark]'" in result.stderr


def _csv_folder(tmp_path: Path, demo: Path) -> Path:
    folder = tmp_path / "csv"
    folder.mkdir()
    for name in ("patients", "encounters", "diagnoses", "procedures"):
        pd.read_parquet(demo / f"{name}.parquet").to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize(
    ("table", "line", "spoil", "message"),
    [
        # A row with more values than the header: near the top it made DuckDB's dialect guess
        # fail ("lacks column(s) ..." for columns the file has); past its sample, a traceback.
        ("patients", 5, lambda row: row + ",extra,more", "line 5: Expected Number of Columns"),
        ("diagnoses", 30_000, lambda row: row + ",extra", "line 30000: Expected Number of Columns"),
        (
            "encounters",
            5,
            lambda row: row + ',"unterminated',
            "line 5: Value with unterminated quote",
        ),
        # Latin-1, as a spreadsheet may save it: a 30-line DuckDB message.  (In a column the
        # audit does not read, such as sex, it is never read, and does no harm.)
        ("patients", 7, lambda row: "\xe9" + row, "line 7: Invalid unicode"),
    ],
)
def test_a_row_that_is_not_csv_stops_the_run_with_one_line(
    tmp_path: Path, demo: Path, table: str, line: int, spoil: Any, message: str
) -> None:
    folder = _csv_folder(tmp_path, demo)
    path = folder / f"{table}.csv"
    rows = path.read_bytes().decode("utf-8").rstrip("\n").split("\n")
    while len(rows) < line:  # past the rows DuckDB samples: repeat the data rows
        rows += rows[1:]
    rows[line - 1] = spoil(rows[line - 1])
    encoding = "latin-1" if "Invalid unicode" in message else "utf-8"
    path.write_bytes("\n".join(rows).encode(encoding))
    result = runner.invoke(app, ["audit", str(folder), "--year", "2024"])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"{table}.csv" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_empty_file_says_so(tmp_path: Path, demo: Path) -> None:
    folder = _csv_folder(tmp_path, demo)
    (folder / "procedures.csv").write_text("")
    result = runner.invoke(app, ["audit", str(folder), "--year", "2024"])
    assert result.exit_code == 2
    assert "procedures.csv is empty" in result.stderr


def test_the_text_summary_says_what_was_not_applied(tmp_path: Path, demo: Path) -> None:
    # Without medications the steroid exclusion is not applied: the JSON said so, the text
    # summary (the default output) did not.
    folder = _csv_folder(tmp_path, demo)
    result = runner.invoke(app, ["audit", str(folder), "--year", "2024"])
    assert result.exit_code == 0, result.output
    assert "  missing medications: without it the prolonged-corticosteroid exclusion" in (
        result.stdout
    )


def test_a_year_outside_the_data_is_warned_about(demo: Path) -> None:
    # Denominator 0 and a rate of n/a, and nothing said why.
    result = runner.invoke(app, ["audit", str(demo), "--year", "2019", "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["denominator"] == 0
    assert any(
        "no patient has an index visit" in w and "2019-01-01 to 2019-12-03" in w and "2023-" in w
        for w in summary["warnings"]
    ), summary["warnings"]
