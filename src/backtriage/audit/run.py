"""One audit run: input folder -> checked tables -> the measure -> summary and patient rows.

The CLI (``commands.py``), the benchmark and the tests all call :func:`run_audit`.
"""

from __future__ import annotations

import gc
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema

from backtriage.audit import fhir
from backtriage.audit.codes import CodeLists, load_code_lists
from backtriage.audit.engines import (
    Beside,
    connect,
    drop_small_table,
    fetch,
    fetch_later,
    small_table,
)
from backtriage.audit.inputs import (
    TABLE_FILE_NAMES,
    CheckedTables,
    as_date,
    csv_error,
    load_tables,
    patient_counts,
    patient_groups,
    read_tables,
    row_counts,
    row_groups,
    tally,
)
from backtriage.audit.measure import RESULT_COLUMNS, measure, used_rows
from backtriage.audit.red_flags import chart_review, red_flag_hits
from backtriage.audit.spec import Period, load_specs, period_for
from backtriage.audit.summary import breakdowns, build_summary, equal_to, value_counts
from backtriage.errors import AuditInputError

if TYPE_CHECKING:
    import pandas as pd

Step = Callable[[str], None]


def _no_progress(_: str) -> None:
    return None


@dataclass
class AuditRun:
    """What a run produced: the summary dict, the LBP patients' rows, the chart review.

    The LBP patients' rows are kept as Arrow and become a DataFrame (``lbp_patients``) when
    first read: a run that only needs the summary never loads pandas.
    """

    summary: dict[str, Any]
    lbp_table: pa.Table = field(repr=False)
    lbp_schema: Schema = field(repr=False)
    #: One row per imaged denominator patient; ``None`` if the run was asked not to review
    #: the charts (``review_charts=False``: the CLI without ``--html``).
    chart_review: list[dict[str, Any]] | None
    lists: CodeLists = field(repr=False)

    @cached_property
    def lbp_patients(self) -> pd.DataFrame:
        """The rows with status denominator or excluded, ordered by patient id."""
        from ibis.backends.duckdb.converter import DuckDBPandasData
        from ibis.formats.pandas import PandasData

        df = DuckDBPandasData.convert_table(self.lbp_table.to_pandas(), self.lbp_schema)
        result: pd.DataFrame = PandasData.convert_table(df, self.lbp_schema)
        return result


@contextmanager
def tabular_folder(
    input_path: Path, progress: Step = _no_progress
) -> Iterator[tuple[Path, fhir.Conversion | None]]:
    """The tabular folder for ``input_path``: itself, or a FHIR export converted to a temp one
    (with what the conversion read)."""
    if not input_path.exists():
        raise AuditInputError(f"input {input_path} does not exist")
    if fhir.is_fhir_folder(input_path):
        tabular = sorted(p.name for p in input_path.iterdir() if p.name.lower() in TABLE_FILE_NAMES)
        if tabular:
            # Either would be read alone, and the other silently left out.
            raise AuditInputError(
                f"{input_path} holds both FHIR NDJSON files and tabular files "
                f"({', '.join(tabular)}); keep one layout in the folder"
            )
        files = fhir.export_files(input_path)
        fhir.check_types(input_path, files)
        with tempfile.TemporaryDirectory(prefix="backtriage-fhir-") as tmp:
            progress("converting FHIR NDJSON")
            try:
                conversion = fhir.convert(input_path, Path(tmp), files)
            except OSError as exc:
                raise AuditInputError(f"cannot read the FHIR files in {input_path}: {exc}") from exc
            yield Path(tmp), conversion
    else:
        yield input_path, None


def run_audit(
    input_path: Path,
    year: int,
    *,
    spec_name: str = "hedis",
    engine: str = "duckdb",
    con: BaseBackend | None = None,
    spark_master: str | None = None,
    memory_limit: str | None = None,
    patients_out: Path | None = None,
    review_charts: bool = True,
    progress: Step = _no_progress,
) -> AuditRun:
    """Run the measure over ``input_path`` (FHIR NDJSON folder or tabular folder).

    ``review_charts``: also read what the charts of the imaged denominator patients show
    against the red flags (``AuditRun.chart_review``, which the HTML report shows; one more
    query and about 0.1 s at a million patients).

    Python's cyclic garbage collector is paused for the run (and restored after it): building
    and compiling the queries creates many small objects and no cycles worth collecting (its
    passes over them cost about a quarter of a second at a million patients).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(
            input_path,
            year,
            spec_name,
            engine,
            con,
            spark_master,
            memory_limit,
            patients_out,
            review_charts,
            progress,
        )
    except duckdb.OutOfMemoryException as exc:
        raise AuditInputError(
            f"DuckDB ran out of memory under --memory-limit {memory_limit or '(default)'}; "
            "give a higher limit (it spills to disk beyond it, but needs some room to work)"
        ) from exc
    except duckdb.InvalidInputException as exc:
        # A row of a CSV file that is not CSV, found when a query reads it.
        error = csv_error(exc)
        if error is None:
            raise
        raise error from exc
    finally:
        if collecting:
            gc.enable()


def _run(
    input_path: Path,
    year: int,
    spec_name: str,
    engine: str,
    con: BaseBackend | None,
    spark_master: str | None,
    memory_limit: str | None,
    patients_out: Path | None,
    review_charts: bool,
    progress: Step,
) -> AuditRun:
    lists = load_code_lists()
    specs = load_specs(set(lists.lists))
    if spec_name not in specs:
        raise AuditInputError(
            f"unknown --spec {spec_name!r}; choose one of: {', '.join(sorted(specs))}"
        )
    spec = specs[spec_name]
    period = period_for(spec, year)
    with ExitStack() as stack:
        folder, conversion = stack.enter_context(tabular_folder(input_path, progress))
        progress("reading inputs")
        spill = stack.enter_context(tempfile.TemporaryDirectory(prefix="backtriage-spill-"))
        backend = con or connect(
            engine, spark_master=spark_master, memory_limit=memory_limit, temp_directory=spill
        )
        raw = read_tables(backend, folder)
        # The patients grouped by id, which the measure and the row accounting share, and the
        # row accounting, which reads every row: on DuckDB both are made beside everything
        # below (``Beside``), and the accounting is interrupted if the run fails.  Elsewhere,
        # and on DuckDB under a memory limit or on a connection the caller gave (which may have
        # one), the grouping is cached first and the accounting runs when its result is asked
        # for, after the measure: two queries at once need about twice the working memory, and
        # one of them can run out (seen at 169MB with a million patients).
        keep = used_rows(spec, period, lists)
        if backend.name == "duckdb" and memory_limit is None and con is None:
            beside = Beside(backend)
            stack.push(partial(_settle, beside))
            patients, patients_made = beside.create_table(patient_groups(raw))
            counted = beside.fetch(row_groups(raw, patients))
            # The kept rows never read the patients (``used_rows``): made beside meanwhile.
            tables = load_tables(backend, folder, keep=keep, raw=raw, patients=patients)
            patients_made()
        else:
            tables = load_tables(backend, folder, keep=keep, raw=raw)
            counted = fetch_later(row_groups(raw, tables.patient_ids))
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
            spec_name=spec_name,
            spec=spec,
            period=period,
            engine=engine,
        )
        summary["warnings"] = warnings
        return AuditRun(summary, lbp, ordered.schema(), review, lists)


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


def _settle(
    beside: Beside,
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> bool:
    """Wait for the queries started beside before the run ends; if the run is ending on an
    error (or Ctrl-C), interrupt the one running first instead of waiting for a whole scan."""
    if exc_type is not None:
        beside.interrupt()
    beside.close()
    return False


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
