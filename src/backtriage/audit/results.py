"""What a run makes of the checked tables: the measure, its summary, the row accounting, the
chart review and the patients file (``run.py`` reads the inputs and calls these).

On DuckDB with a tabular folder (the common run), ``run.py`` imports this module only once the
first queries run: the code lists, the measure and the summary need pydantic, PyYAML and
pyarrow.compute (about 0.13 s to import), which reading the inputs does not, so they load while
DuckDB reads (measured: a million-patient run 0.04 s faster).  Elsewhere (Spark, a memory limit,
a connection given, a FHIR export to convert) nothing runs beside, and it is imported first, so
that a bad ``--spec`` or ``--year`` is said before anything slow starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema

from backtriage.audit import fhir
from backtriage.audit.codes import CodeLists, load_code_lists
from backtriage.audit.engines import drop_small_table, fetch, small_table
from backtriage.audit.inputs import CheckedTables, Keep, as_date, patient_counts, row_counts, tally
from backtriage.audit.measure import RESULT_COLUMNS, measure, used_rows
from backtriage.audit.red_flags import chart_review, red_flag_hits
from backtriage.audit.spec import MeasureSpec, Period, load_specs, period_for
from backtriage.audit.summary import breakdowns, build_summary, equal_to, value_counts
from backtriage.errors import AuditInputError

#: A progress callback: told the name of each step as it starts.
Step = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """What the measure needs before it reads a row: the code lists, the spec and its windows
    for the year, and which rows of each table to keep (``used_rows``)."""

    spec_name: str
    spec: MeasureSpec
    period: Period
    lists: CodeLists
    keep: dict[str, Keep]


def plan(spec_name: str, year: int) -> Plan:
    """The :class:`Plan` for ``--spec spec_name`` and ``--year year``; an unknown spec name is
    an input error naming the known ones."""
    lists = load_code_lists()
    specs = load_specs(set(lists.lists))
    if spec_name not in specs:
        raise AuditInputError(
            f"unknown --spec {spec_name!r}; choose one of: {', '.join(sorted(specs))}"
        )
    spec = specs[spec_name]
    period = period_for(spec, year)
    return Plan(spec_name, spec, period, lists, used_rows(spec, period, lists))


@dataclass(frozen=True)
class Results:
    """The summary dict, the LBP patients' rows (Arrow, and their Ibis schema) and the chart
    review (``None`` unless asked for)."""

    summary: dict[str, Any]
    lbp: pa.Table
    schema: Schema
    review: list[dict[str, Any]] | None


def finish(
    backend: BaseBackend,
    tables: CheckedTables,
    raw: dict[str, ir.Table],
    counted: Callable[[], pa.Table],
    planned: Plan,
    *,
    engine: str,
    conversion: fhir.Conversion | None,
    patients_out: Path | None,
    review_charts: bool,
    progress: Step,
) -> Results:
    """The measure over ``tables`` and everything the run reports of it.  ``counted``: the
    row accounting's groups (:func:`~backtriage.audit.inputs.row_groups`), when asked for
    (on DuckDB it may still be running beside: it is asked for last)."""
    spec, period, lists = planned.spec, planned.period, planned.lists
    progress("computing the measure")
    measured = measure(tables, spec, period, lists)
    # The summary and the chart review read the patients who have an index visit only
    # (a few percent; every other valid patient is not_eligible, no_index_encounter), all
    # fetched in one query, ordered by the engine, and counted in Python from Arrow
    # (pandas is not loaded unless ``lbp_patients`` is read).
    ordered = measured.indexed.select(*RESULT_COLUMNS).order_by("patient_id")
    indexed = fetch(ordered)
    # Arrow's own kernels: a Python value would make pyarrow load pandas to check its type.
    lbp = indexed.filter(pc.invert(equal_to(indexed.column("status"), "not_eligible")))
    # What needs no row accounting comes first: on DuckDB the accounting may still be
    # running beside.
    review = None
    if review_charts:
        progress("reviewing charts of imaged patients")
        review = _review_charts(backend, tables, lbp, lists)
    if patients_out is not None:
        progress(f"writing {patients_out}")
        write_patients(measured.patients, patients_out)
    denominator = breakdowns(lbp, spec)
    status_counts: Counter[tuple[str, str | None]] = Counter()
    for status in value_counts(indexed.column("status")):
        rows_of = indexed.filter(equal_to(indexed.column("status"), status))
        for reason, n in value_counts(rows_of.column("reason")).items():
            status_counts[status, reason] = n
    # The patients' rows are counted from their grouping, while the rest runs beside.
    patients_counted = fetch(patient_counts(tables.patient_ids))
    progress("checking rows")
    rows, in_use = _count_rows(backend, counted(), patients_counted, raw, tables.patient_ids)
    warnings = unused_systems(in_use, lists)
    if indexed.num_rows == 0 and rows["patients"]["valid"]:
        warnings.append(no_index_visit(raw["encounters"], period))
    if conversion is not None:
        warnings = conversion.warnings + warnings
        for resource, counts in conversion.counts.items():
            rows[f"fhir:{resource}"] = counts
    no_index = rows["patients"]["valid"] - indexed.num_rows
    if no_index:
        status_counts["not_eligible", "no_index_encounter"] += no_index
    summary = build_summary(
        counted=denominator,
        status_counts=status_counts,
        rows=rows,
        missing_optional=tables.missing_optional,
        spec_name=planned.spec_name,
        spec=spec,
        period=period,
        engine=engine,
    )
    summary["warnings"] = warnings
    return Results(summary, lbp, ordered.schema(), review)


def _count_rows(
    backend: BaseBackend,
    groups: pa.Table,
    patients_counted: pa.Table,
    raw: dict[str, ir.Table],
    patient_ids: ir.Table,
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The row accounting: :func:`tally` of the rows of ``patients`` (:func:`patient_counts`,
    fetched) and of the other tables (:func:`row_counts`, a small query over their groups:
    :func:`row_groups`, fetched).  The trimmed ids are looked up only if there are any."""
    lookup = patient_ids if groups.column("other_id").null_count < groups.num_rows else None
    table = small_table(backend, groups)
    try:
        counted = fetch(row_counts(table, raw, lookup))
    finally:
        drop_small_table(backend, table)
    return tally(pa.concat_tables([patients_counted, counted]), raw)


def _review_charts(
    backend: BaseBackend, tables: CheckedTables, lbp: pa.Table, lists: CodeLists
) -> list[dict[str, Any]]:
    """The chart review of the imaged denominator patients among ``lbp``."""
    # The imaged patients go back to the engine as a small table (not the query again);
    # a null ``imaged`` drops the row, as False does.
    imaged = lbp.filter(
        pc.and_kleene(equal_to(lbp.column("status"), "denominator"), lbp.column("imaged"))
    ).select(["patient_id", "status", "imaged", "index_date", "days_to_imaging", "clinician_id"])
    imaged_table = small_table(backend, imaged)
    hits = fetch(red_flag_hits(tables, imaged_table, lists))
    drop_small_table(backend, imaged_table)
    return chart_review(imaged, hits, lists)


def unused_systems(in_use: dict[str, dict[str, int]], lists: CodeLists) -> list[str]:
    """Rows coded in a system that no code list uses can never count: say so."""
    used = {e.system for c in lists.lists.values() for e in c.codes}
    used |= {e.system for f in lists.red_flags.flags for e in f.codes}
    return [
        f"{n} {table} rows are coded in {system}, which no audit code list uses: they cannot "
        "trigger an exclusion or count as imaging (map them, or add codes to the lists)"
        for table, systems in sorted(in_use.items())
        for system, n in sorted(systems.items())
        if system not in used
    ]


def no_index_visit(encounters: ir.Table, period: Period) -> str:
    """Why no patient has an index visit, as far as the encounters' dates tell: the year is
    outside them, or none of those in the intake period can be one.  (One more pass over the
    encounters: only when there is no index visit at all.)"""
    date = as_date(encounters, "date")
    dated = encounters.select(date=date).filter(date.notnull())
    span = fetch(
        dated.aggregate(
            first=dated.date.min(),
            last=dated.date.max(),
            inside=dated.date.between(period.intake_start, period.intake_end).sum(),
        )
    ).to_pylist()[0]
    intake = f"the intake period {period.intake_start} to {period.intake_end}"
    if not span["inside"]:
        dates = (
            f"the encounters' dates run from {span['first']} to {span['last']}"
            if span["first"] is not None
            else "no encounter has a valid date"
        )
        return f"no patient has an index visit in {intake}: {dates} (is --year right?)"
    return (
        f"no patient has an index visit in {intake}: {span['inside']} encounters fall in it, "
        "none in an eligible setting with a principal low-back-pain diagnosis (LAYOUT.md: "
        "setting, principal)"
    )


def write_patients(result: ir.Table, path: Path) -> None:
    """One row per patient to ``.csv`` or ``.parquet``, streamed in batches (bounded memory)."""
    if path.suffix not in (".csv", ".parquet"):
        raise AuditInputError(f"--patients {path}: the file name must end in .csv or .parquet")
    ordered = result.select(*RESULT_COLUMNS).order_by("patient_id")
    backend = ordered.get_backend()
    if backend.name == "duckdb":
        # DuckDB writes the file itself (COPY ... TO), streaming; ibis 12's batch reader calls
        # a method DuckDB 2.x no longer has (fetch_record_batch).
        if path.suffix == ".parquet":
            backend.to_parquet(ordered, path)
        else:
            backend.to_csv(ordered, path)
        return
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    reader = ordered.to_pyarrow_batches(chunk_size=100_000)
    schema = reader.schema
    if path.suffix == ".parquet":
        with pq.ParquetWriter(path, schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    else:
        with pacsv.CSVWriter(path, schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
