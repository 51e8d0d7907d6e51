"""One audit run: input folder -> checked tables -> the measure -> summary and patient rows.

The CLI (``commands.py``), the benchmark and the tests all call :func:`run_audit`.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.types as ir
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from backtriage.audit import fhir
from backtriage.audit.codes import CodeLists, load_code_lists
from backtriage.audit.engines import connect
from backtriage.audit.inputs import account, load_tables
from backtriage.audit.measure import RESULT_COLUMNS, measure, used_rows
from backtriage.audit.red_flags import chart_review, red_flag_hits
from backtriage.audit.spec import load_specs, period_for
from backtriage.audit.summary import build_summary
from backtriage.errors import AuditInputError

Step = Callable[[str], None]


def _no_progress(_: str) -> None:
    return None


@dataclass
class AuditRun:
    """What a run produced: the summary dict, the LBP patients' rows, the chart review."""

    summary: dict[str, Any]
    lbp_patients: pd.DataFrame
    chart_review: list[dict[str, Any]]
    lists: CodeLists = field(repr=False)


@contextmanager
def tabular_folder(
    input_path: Path, progress: Step = _no_progress
) -> Iterator[tuple[Path, dict[str, dict[str, int]]]]:
    """The tabular folder for ``input_path``: itself, or a FHIR export converted to a temp one."""
    if not input_path.exists():
        raise AuditInputError(f"input {input_path} does not exist")
    if fhir.is_fhir_folder(input_path):
        with tempfile.TemporaryDirectory(prefix="backtriage-fhir-") as tmp:
            progress("converting FHIR NDJSON")
            try:
                counts = fhir.convert(input_path, Path(tmp))
            except (OSError, UnicodeDecodeError) as exc:
                raise AuditInputError(f"cannot read the FHIR files in {input_path}: {exc}") from exc
            yield Path(tmp), counts
    else:
        yield input_path, {}


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
    progress: Step = _no_progress,
) -> AuditRun:
    """Run the measure over ``input_path`` (FHIR NDJSON folder or tabular folder).

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
            progress,
        )
    except duckdb.OutOfMemoryException as exc:
        raise AuditInputError(
            f"DuckDB ran out of memory under --memory-limit {memory_limit or '(default)'}; "
            "give a higher limit (it spills to disk beyond it, but needs some room to work)"
        ) from exc
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
        folder, fhir_counts = stack.enter_context(tabular_folder(input_path, progress))
        progress("reading inputs")
        spill = stack.enter_context(tempfile.TemporaryDirectory(prefix="backtriage-spill-"))
        backend = con or connect(
            engine, spark_master=spark_master, memory_limit=memory_limit, temp_directory=spill
        )
        tables = load_tables(backend, folder, keep=used_rows(spec, period, lists))
        progress("checking rows")
        rows, in_use = account(tables)
        warnings = unused_systems(in_use, lists)
        for resource, counts in fhir_counts.items():
            rows[f"fhir:{resource}"] = counts
        progress("computing the measure")
        measured = measure(tables, spec, period, lists)
        # The summary and the chart review read the patients who have an index visit only
        # (a few percent); every other valid patient is not_eligible, no_index_encounter.
        indexed = measured.indexed.cache()
        status_counts = _status_counts(indexed, rows["patients"]["valid"])
        # Ordered by the engine (several times faster than pandas' sort of the text ids).
        lbp = frame(
            indexed.filter(indexed.status != "not_eligible")
            .select(*RESULT_COLUMNS)
            .order_by("patient_id")
        )
        progress("reviewing charts of imaged patients")
        hits = frame(red_flag_hits(tables, indexed, lists))
        review = chart_review(lbp, hits, lists)
        if patients_out is not None:
            progress(f"writing {patients_out}")
            write_patients(measured.patients, patients_out)
        summary = build_summary(
            lbp_patients=lbp,
            status_counts=status_counts,
            rows=rows,
            missing_optional=tables.missing_optional,
            spec_name=spec_name,
            spec=spec,
            period=period,
            engine=engine,
        )
        summary["warnings"] = warnings
        return AuditRun(summary, lbp, review, lists)


def frame(expr: ir.Table) -> pd.DataFrame:
    """``expr.execute()``: the same DataFrame, on DuckDB through one Arrow conversion.

    Ibis's DuckDB ``execute`` turns every column that holds a null into Python objects value by
    value before converting it; Arrow's own conversion gives the same frame several times faster.
    """
    if expr.get_backend().name != "duckdb":
        return expr.execute()
    from ibis.backends.duckdb.converter import DuckDBPandasData

    df = DuckDBPandasData.convert_table(expr.to_pyarrow().to_pandas(), expr.schema())
    result: pd.DataFrame = expr.__pandas_result__(df)
    return result


def _status_counts(indexed: ir.Table, valid_patients: int) -> pd.DataFrame:
    """(status, reason, n) of every valid patient, from the rows of the indexed ones."""
    counts = indexed.group_by("status", "reason").agg(n=indexed.count()).execute()
    no_index = valid_patients - int(counts["n"].sum())
    if not no_index:
        return counts
    rest = pd.DataFrame(
        {"status": ["not_eligible"], "reason": ["no_index_encounter"], "n": [no_index]}
    )
    return pd.concat([counts, rest], ignore_index=True)


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
