from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backtriage.audit import run as run_module
from backtriage.audit.engines import (
    Pending,
    connect,
    drop_small_table,
    fetch,
    fetch_soon,
    small_table,
)
from backtriage.audit.inputs import read_tables, row_counts
from tests.audit.timelines import AUDIT_WARNINGS

pytestmark = AUDIT_WARNINGS


def _rows(table: object) -> list[tuple[object, ...]]:
    return sorted(tuple(r.values()) for r in table.to_pylist())  # type: ignore[attr-defined]


def test_a_query_fetched_in_the_background_gives_the_same_rows(timelines_csv: Path) -> None:
    # The accounting query, on a cursor of its own that recreates the CSV files' views.
    con = connect("duckdb")
    expr = row_counts(read_tables(con, timelines_csv))
    soon = fetch_soon(expr)
    assert _rows(soon()) == _rows(fetch(expr))
    assert soon().schema == fetch(expr).schema
    con.disconnect()


def test_the_background_cursor_has_the_session_settings_of_ibis_connection() -> None:
    con = connect("duckdb")
    # a temp view, as the files are read: fetch_soon recreates it on its cursor
    con.raw_sql(
        "CREATE TEMP VIEW session AS SELECT current_setting('TimeZone') AS tz,"
        " current_setting('python_enable_replacements') AS replacements"
    )
    settings = con.table("session")
    here = fetch(settings).to_pylist()
    there = fetch_soon(settings)().to_pylist()
    assert here == there == [{"tz": "UTC", "replacements": False}]
    con.disconnect()


def test_a_small_table_is_forgotten_once_dropped() -> None:
    con = connect("duckdb")
    table = small_table(con, pa.table({"patient_id": ["p1"]}))
    assert fetch(table).num_rows == 1
    drop_small_table(con, table)
    with pytest.raises(Exception, match=table.get_name()):
        con.con.sql(f"SELECT * FROM {table.get_name()}").fetchall()
    con.disconnect()


def test_a_failing_run_interrupts_its_background_query(
    timelines_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An error (or Ctrl-C) mid-run must not wait for the row accounting's whole scan.
    interrupted: list[bool] = []
    real = run_module.fetch_soon

    def recording(expr: Any) -> Pending:
        pending = real(expr)

        def interrupt() -> None:
            interrupted.append(True)
            pending.interrupt()

        return Pending(pending.result, interrupt)

    def failing(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "fetch_soon", recording)
    monkeypatch.setattr(run_module, "load_tables", failing)
    with pytest.raises(KeyboardInterrupt):
        run_module.run_audit(timelines_csv, 2024)
    assert interrupted == [True]
