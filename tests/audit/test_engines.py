from __future__ import annotations

import gc
import os
import sys
import threading
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backtriage.audit import run as run_module
from backtriage.audit.engines import (
    BESIDE_NICE,
    Beside,
    cache,
    connect,
    drop_small_table,
    fetch,
    small_table,
)
from backtriage.audit.inputs import patient_groups, read_tables, row_groups
from tests.audit.timelines import AUDIT_WARNINGS

pytestmark = AUDIT_WARNINGS


def _rows(table: object) -> list[tuple[object, ...]]:
    return sorted(tuple(r.values()) for r in table.to_pylist())  # type: ignore[attr-defined]


def test_a_query_fetched_beside_gives_the_same_rows(timelines_csv: Path) -> None:
    # The accounting query, on a cursor of its own that recreates the CSV files' views.
    con = connect("duckdb")
    raw = read_tables(con, timelines_csv)
    expr = row_groups(raw, patient_groups(raw))
    beside = Beside(con)
    soon = beside.fetch(expr)
    assert _rows(soon()) == _rows(fetch(expr))
    assert soon().schema == fetch(expr).schema
    beside.close()
    con.disconnect()


def test_a_table_made_beside_is_seen_by_both_connections_until_closed(
    timelines_csv: Path,
) -> None:
    con = connect("duckdb")
    raw = read_tables(con, timelines_csv)
    beside = Beside(con)
    grouped, made = beside.create_table(patient_groups(raw))
    counted = beside.fetch(row_groups(raw, grouped))  # beside, after the table is made
    made()
    assert _rows(fetch(grouped)) == _rows(fetch(patient_groups(raw)))
    assert _rows(counted()) == _rows(fetch(row_groups(raw, patient_groups(raw))))
    beside.close()
    with pytest.raises(Exception, match=grouped.get_name()):
        con.con.sql(f"SELECT * FROM {grouped.get_name()}").fetchall()
    con.disconnect()


def test_an_interrupt_stops_the_queries_not_started_yet(timelines_csv: Path) -> None:
    con = connect("duckdb")
    raw = read_tables(con, timelines_csv)
    beside = Beside(con)
    gate = threading.Event()
    blocked = beside._submit(gate.wait)  # holds the thread: the next query cannot start
    later = beside.fetch(row_groups(raw, patient_groups(raw)))
    beside.interrupt()
    gate.set()
    assert blocked.result() is True
    with pytest.raises(CancelledError):
        later()
    beside.close()
    con.disconnect()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_thread_beside_yields_to_the_caller_from_its_first_fetch(
    timelines_csv: Path,
) -> None:
    con = connect("duckdb")
    raw = read_tables(con, timelines_csv)
    beside = Beside(con)

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    # A table made beside is waited for: the thread keeps the caller's priority for it.
    _, made = beside.create_table(patient_groups(raw))
    made()
    before = beside._submit(nice).result()
    # A query fetched beside is needed last: from it on, the thread yields.
    beside.fetch(row_groups(raw, patient_groups(raw)))()
    after = beside._submit(nice).result()
    beside.close()
    con.disconnect()
    assert before == nice()
    assert after == min(nice() + BESIDE_NICE, 19) > nice()


def test_a_ctrl_c_while_closing_still_closes_and_goes_on(timelines_csv: Path) -> None:
    con = connect("duckdb")
    raw = read_tables(con, timelines_csv)
    beside = Beside(con)
    grouped, made = beside.create_table(patient_groups(raw))
    made()

    def ctrl_c() -> None:
        raise KeyboardInterrupt

    beside._submit(ctrl_c)  # what the wait in close() then meets
    with pytest.raises(KeyboardInterrupt):
        beside.close()
    with pytest.raises(Exception, match=grouped.get_name()):
        con.con.sql(f"SELECT * FROM {grouped.get_name()}").fetchall()
    con.disconnect()


def test_the_cursor_beside_has_the_session_settings_of_ibis_connection() -> None:
    con = connect("duckdb")
    # a temp view, as the files are read: Beside recreates it on its cursor
    con.raw_sql(
        "CREATE TEMP VIEW session AS SELECT current_setting('TimeZone') AS tz,"
        " current_setting('python_enable_replacements') AS replacements"
    )
    settings = con.table("session")
    here = fetch(settings).to_pylist()
    beside = Beside(con)
    there = beside.fetch(settings)().to_pylist()
    beside.close()
    assert here == there == [{"tz": "UTC", "replacements": False}]
    con.disconnect()


def test_a_cached_table_holds_the_rows_typed_as_the_query_until_unused(
    timelines_csv: Path,
) -> None:
    con = connect("duckdb")
    expr = patient_groups(read_tables(con, timelines_csv))
    cached = cache(expr)
    name = cached.get_name()
    assert cached.schema() == expr.schema()
    assert _rows(fetch(cached)) == _rows(fetch(expr))
    assert fetch(cached).schema.types == fetch(expr).schema.types
    del cached
    gc.collect()
    with pytest.raises(Exception, match=name):
        con.con.sql(f"SELECT * FROM temp.main.{name}").fetchall()
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
    real = Beside.interrupt

    def recording(self: Beside) -> None:
        interrupted.append(True)
        real(self)

    def failing(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Beside, "interrupt", recording)
    monkeypatch.setattr(run_module, "load_tables", failing)
    with pytest.raises(KeyboardInterrupt):
        run_module.run_audit(timelines_csv, 2024)
    assert interrupted == [True]
