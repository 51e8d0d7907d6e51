"""One audit run: input folder -> checked tables -> the measure -> summary and patient rows.

The CLI (``commands.py``), the benchmark and the tests all call :func:`run_audit`.  This module
reads the inputs and starts the first queries; ``results.py`` makes the rest of the run.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema

from backtriage.audit import fhir
from backtriage.audit.engines import Beside, connect, fetch_later
from backtriage.audit.inputs import (
    TABLE_FILE_NAMES,
    csv_error,
    load_tables,
    patient_groups,
    read_tables,
    row_groups,
)
from backtriage.errors import AuditInputError

if TYPE_CHECKING:
    import pandas as pd

    from backtriage.audit.codes import CodeLists
    from backtriage.audit.results import Plan, Step


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
    # The patients grouped by id, which the measure and the row accounting share, and the
    # row accounting, which reads every row: on DuckDB both are made beside everything
    # below (``Beside``), and the accounting is interrupted if the run fails.  Elsewhere,
    # and on DuckDB under a memory limit or on a connection the caller gave (which may have
    # one), the grouping is cached first and the accounting runs when its result is asked
    # for, after the measure: two queries at once need about twice the working memory, and
    # one of them can run out (seen at 169MB with a million patients).
    beside_ok = engine == "duckdb" and memory_limit is None and con is None
    planned: Plan | None = None
    if not beside_ok or (input_path.is_dir() and fhir.is_fhir_folder(input_path)):
        # A bad --spec or --year is said first, before a Spark session starts or an export is
        # converted (both take a while); only beside the first queries does waiting pay.
        from backtriage.audit import results

        planned = results.plan(spec_name, year)
    with ExitStack() as stack:
        folder, conversion = stack.enter_context(tabular_folder(input_path, progress))
        progress("reading inputs")
        spill = stack.enter_context(tempfile.TemporaryDirectory(prefix="backtriage-spill-"))
        backend = con or connect(
            engine, spark_master=spark_master, memory_limit=memory_limit, temp_directory=spill
        )
        raw = read_tables(backend, folder)
        if beside_ok:
            beside = Beside(backend)
            stack.push(partial(_settle, beside))
            patients, patients_made = beside.create_table(patient_groups(raw))
            counted = beside.fetch(row_groups(raw, patients))
        # Only now, while those queries run: the rest of the run (``results.py`` says why).
        from backtriage.audit import results

        planned = planned or results.plan(spec_name, year)
        if beside_ok:
            # The kept rows never read the patients (``used_rows``): made beside meanwhile.
            tables = load_tables(backend, folder, keep=planned.keep, raw=raw, patients=patients)
            patients_made()
        else:
            tables = load_tables(backend, folder, keep=planned.keep, raw=raw)
            counted = fetch_later(row_groups(raw, tables.patient_ids))
        done = results.finish(
            backend,
            tables,
            raw,
            counted,
            planned,
            engine=engine,
            conversion=conversion,
            patients_out=patients_out,
            review_charts=review_charts,
            progress=progress,
        )
        return AuditRun(done.summary, done.lbp, done.schema, done.review, planned.lists)


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
