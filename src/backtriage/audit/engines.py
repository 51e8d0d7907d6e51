"""Connections to the two engines: embedded DuckDB (default) and PySpark (optional extra).

PySpark is imported only here and only when asked for, so the default install never needs it.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.backends import BaseBackend

if TYPE_CHECKING:
    import pyarrow as pa

from backtriage.errors import AuditInputError

ENGINES: tuple[str, ...] = ("duckdb", "spark")

SPARK_MISSING = (
    "--engine spark needs PySpark, which is an optional extra: "
    "pip install 'backtriage[spark]' (PySpark < 4.1 and Java 17)"
)


def connect(
    engine: str,
    *,
    spark_master: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: str | None = None,
) -> BaseBackend:
    """An Ibis backend for ``engine``.

    ``spark_master`` is a Spark master URL (``local[*]``, ``spark://host:7077``, ``yarn``);
    without it the master of the surrounding ``spark-submit`` (or ``local[*]``) is used.
    """
    if engine == "duckdb":
        # Row order is never relied on (every result is ordered explicitly), and keeping
        # insertion order costs DuckDB memory it cannot spill.
        config: dict[str, Any] = {"preserve_insertion_order": False}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        if temp_directory:
            # Where DuckDB spills what does not fit under the memory limit.
            config["temp_directory"] = temp_directory
        try:
            backend = ibis.duckdb.connect(**config)
        except Exception as exc:  # duckdb raises its own errors for a bad setting
            raise AuditInputError(f"cannot start DuckDB with {config}: {exc}") from exc
        # DuckDB's own progress bar would write to the terminal; ours is on stderr.
        backend.raw_sql("SET enable_progress_bar = false")
        return backend
    if engine == "spark":
        session = spark_session(spark_master)  # first: it says how to install PySpark
        return ibis.pyspark.connect(session)
    raise AuditInputError(f"unknown --engine {engine!r}; choose one of: {', '.join(ENGINES)}")


def spark_session(master: str | None = None) -> Any:
    """The active SparkSession, or a new one (quiet: no UI, small shuffle)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise AuditInputError(SPARK_MISSING) from exc
    builder = SparkSession.builder.appName("backtriage-audit")
    if master:
        builder = builder.master(master)
    # Without --spark-master no master is set here: under spark-submit the session takes the
    # submitted master; a plain Python process gets PySpark's default, local[*].
    session = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def fetch(expr: ir.Table) -> pa.Table:
    """``expr.to_pyarrow()``: the same Arrow table, on DuckDB without loading pandas.

    Ibis's DuckDB ``to_pyarrow`` loads its pandas converter (pandas itself: a few tenths of a
    second at start-up) to convert columns of no type, which the audit's results never have.
    """
    backend = expr.get_backend()
    if backend.name != "duckdb":
        return expr.to_pyarrow()
    table = backend._to_duckdb_relation(expr).to_arrow_table()
    result: pa.Table = expr.__pyarrow_result__(table)
    return result


def cache(expr: ir.Table) -> ir.Table:
    """``expr.cache()``: the rows of ``expr`` computed once and kept in the engine (a temp table
    on DuckDB, which spills to the temp directory under a memory limit; a persisted Spark
    DataFrame), dropped once no expression uses them.

    On DuckDB one ``CREATE TEMP TABLE ... AS`` does it, typed as ``expr``: Ibis's own cache runs
    five statements (a schema query among them), about 6 ms more each time.
    """
    backend = expr.get_backend()
    if backend.name != "duckdb":
        return expr.cache()
    name = ibis.util.gen_name("cached")
    backend.con.execute(f'CREATE TEMP TABLE "{name}" AS {backend.compile(expr)}')
    op = ops.DatabaseTable(
        name=name,
        schema=expr.schema(),
        source=backend,
        namespace=ops.Namespace(catalog="temp", database="main"),
    )
    weakref.finalize(op, _drop_temp_table, backend.con, name)
    return op.to_expr()


def _drop_temp_table(con: Any, name: str) -> None:
    with suppress(Exception):  # the connection may be closed already: the table went with it
        con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')


def small_table(backend: BaseBackend, table: pa.Table) -> ir.Table:
    """A few rows from Python (Arrow) as a table of ``backend``: ``ibis.memtable(table)``.

    On DuckDB the Arrow table is registered as it is (Ibis's ``memtable`` loads pandas to
    find which kind of data it was given); :func:`drop_small_table` unregisters it.
    """
    if backend.name != "duckdb":
        return ibis.memtable(table)
    name = ibis.util.gen_name("small_table")
    backend.con.register(name, table)
    return backend.table(name)


def drop_small_table(backend: BaseBackend, table: ir.Table) -> None:
    """Forget a :func:`small_table` (on DuckDB the connection would hold its rows)."""
    if backend.name == "duckdb":
        backend.con.unregister(table.get_name())


@dataclass(frozen=True)
class Pending:
    """A query's result to come: call it for the Arrow table.  ``interrupt()`` stops the query
    if it is running (a query that runs only when called has nothing to stop)."""

    result: Callable[[], pa.Table]
    interrupt: Callable[[], None] = lambda: None

    def __call__(self) -> pa.Table:
        return self.result()


def fetch_later(expr: ir.Table) -> Pending:
    """``fetch(expr)`` when the result is asked for: the query waits until then."""
    return Pending(lambda: fetch(expr))


#: How much lower the scheduling priority of the thread beside is (a nice increment).
BESIDE_NICE = 10


def _yield_to_others() -> None:
    """Lower the calling thread's scheduling priority for good (it cannot be raised back
    without privileges), on Linux, where each thread has its own nice value (elsewhere it is
    the whole process's, which is left alone).

    A query fetched beside (the row accounting) is needed last, while the caller's queries
    (the measure) lead to the rest of the run: when both want a core, the caller's should get
    it.  A table made beside is waited for by the caller and keeps the caller's priority.
    """
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        with suppress(OSError):  # a sandbox may forbid it: the run is only slower
            nice = os.getpriority(os.PRIO_PROCESS, thread) + BESIDE_NICE
            os.setpriority(os.PRIO_PROCESS, thread, min(nice, 19))


class Beside:
    """Queries run one after another beside the caller, on DuckDB: a thread of their own and a
    cursor of their own (a second connection to the same database, under the same memory limit,
    with the session settings Ibis gives its connection).

    DuckDB releases the GIL as it runs, so the caller's Python (building and compiling the next
    queries) and the cores a query leaves idle (a single-row-group file is read by one thread)
    overlap with these queries.  They may read files and the temp views over them
    (``read_tables``), which the cursor recreates, and the tables made by :meth:`create_table`,
    but no temp table of the caller's (a cursor cannot see those).  Call :meth:`close` when done
    (or :meth:`interrupt` first, to stop a query that is running).
    """

    def __init__(self, backend: BaseBackend) -> None:
        if backend.name != "duckdb":
            raise ValueError(f"Beside runs on DuckDB, not {backend.name}")
        self._backend = backend
        views = backend.con.sql(
            "SELECT sql FROM duckdb_views() WHERE temporary AND NOT internal"
        ).fetchall()
        cursor = backend.con.cursor()
        try:
            # Session settings are per connection: as Ibis sets them on its own.
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute("SET python_enable_replacements = false")
            for (definition,) in views:
                cursor.execute(definition)
        except BaseException:
            cursor.close()
            raise
        self._cursor = cursor
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backtriage-duckdb")
        self._last: Future[Any] | None = None
        self._tables: list[str] = []
        self._stopped = False

    def _submit(self, job: Callable[[], Any]) -> Future[Any]:
        def run() -> Any:
            if self._stopped:
                raise CancelledError("stopped before it started")
            return job()

        self._last = self._pool.submit(run)
        return self._last

    def create_table(self, expr: ir.Table) -> tuple[ir.Table, Callable[[], None]]:
        """``expr`` as a table made beside (a table of the database, which both connections
        see: meant for a database of the run's own, as the in-memory one ``run_audit`` opens),
        and a function that waits until it is made.  The table can be used in queries at once;
        run them (on the caller's connection) only after that wait."""
        name = ibis.util.gen_name("beside")
        sql = f'CREATE TABLE "{name}" AS {self._backend.compile(expr)}'
        made = self._submit(lambda: self._cursor.execute(sql))
        self._tables.append(name)
        table = ops.DatabaseTable(name=name, schema=expr.schema(), source=self._backend)

        def wait() -> None:
            made.result()

        return table.to_expr(), wait

    def fetch(self, expr: ir.Table) -> Pending:
        """Start ``fetch(expr)`` beside; calling the result waits for it, the Arrow table.

        From this query on, the thread beside yields its core to the caller's when both want
        one (:func:`_yield_to_others`): what is fetched beside is needed last."""
        sql = self._backend.compile(expr)

        def run() -> pa.Table:
            _yield_to_others()
            result: pa.Table = expr.__pyarrow_result__(self._cursor.sql(sql).to_arrow_table())
            return result

        return Pending(self._submit(run).result, self.interrupt)

    def interrupt(self) -> None:
        """Stop the query that is running, if any, and those not started yet."""
        self._stopped = True
        with suppress(Exception):  # closed already: nothing to stop
            self._cursor.interrupt()

    def close(self) -> None:
        """Wait for the queries (their errors were raised to whoever asked for their results,
        or do not matter now), close the cursor and drop the tables made.  A Ctrl-C while
        waiting interrupts the running query, and goes on once all is closed."""
        try:
            if self._last is not None:
                with suppress(Exception):
                    self._last.result()
        except BaseException:
            self.interrupt()
            raise
        finally:
            self._pool.shutdown()  # an interrupted query ends at once
            self._cursor.close()
            for name in self._tables:
                with suppress(Exception):
                    self._backend.con.execute(f'DROP TABLE IF EXISTS "{name}"')
