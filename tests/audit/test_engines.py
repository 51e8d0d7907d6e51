from __future__ import annotations

from pathlib import Path

from backtriage.audit.engines import connect, fetch, fetch_soon
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
