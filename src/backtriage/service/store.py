"""Durable state shared by every worker and host: the JWT replay cache, the cards issued (so
feedback can be summarised per kind of card), the cases behind report links, and feedback.

``--db`` takes a SQLite path (the default: embedded, WAL, so an acknowledged write survives
``kill -9``; feedback is committed with ``synchronous=FULL``, which also survives power loss) or
a ``postgresql://`` URL for several hosts.  Feedback
is idempotent: the same (card, outcome, timestamp) reported twice is stored once.  Free-text
override comments are not stored (they may hold patient data).

A service call's report link and cards are committed before its answer goes out, so the link
works at once, from any worker.  :meth:`Store.record_responses` commits several calls' writes in
one transaction (group commit), each caller still getting its own write's outcome."""

from __future__ import annotations

import contextlib
import copy
import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic_core import to_json

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS jti (iss TEXT NOT NULL, jti TEXT NOT NULL, exp BIGINT NOT NULL,"
    " PRIMARY KEY (iss, jti))",
    "CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, service TEXT NOT NULL,"
    " created BIGINT NOT NULL, case_json TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cards (uuid TEXT PRIMARY KEY, service TEXT NOT NULL,"
    " kind TEXT NOT NULL, created BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS feedback (service TEXT NOT NULL, card TEXT NOT NULL,"
    " outcome TEXT NOT NULL, outcome_ts TEXT NOT NULL, override_code TEXT,"
    " accepted_count INTEGER NOT NULL, received BIGINT NOT NULL,"
    " PRIMARY KEY (service, card, outcome, outcome_ts))",
)


@dataclass(frozen=True)
class Feedback:
    card: str
    outcome: str
    outcome_ts: str
    override_code: str | None
    accepted_count: int


@dataclass(frozen=True)
class SummaryRow:
    service: str
    kind: str
    issued: int
    accepted: int
    overridden: int

    @property
    def accept_rate(self) -> float | None:
        answered = self.accepted + self.overridden
        return self.accepted / answered if answered else None


class _Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


_Statements = list[tuple[str, Sequence[Any]]]
# what is kept of one service call: service id, report id, the case, (card uuid, kind) shown
Record = tuple[str, str, dict[str, Any], Sequence[tuple[str, str]]]


class Store:
    """One database (SQLite file or PostgreSQL), one connection per thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        self._local = threading.local()
        self._all: list[_Connection] = []
        self._lock = threading.Lock()
        self._create()

    # --- connections ------------------------------------------------------------------------
    def _connect(self) -> _Connection:
        if self.postgres:
            import psycopg  # imported here: only PostgreSQL deployments need it

            pg: _Connection = psycopg.connect(self.url, connect_timeout=10)
            return pg
        conn = sqlite3.connect(self.url, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL: a committed transaction survives the process being killed (kill -9) at any
        # synchronous level; FULL (used for feedback) also survives power loss.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _conn(self) -> _Connection:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_Connection]:
        """This thread's connection, committed after the block; dropped if anything fails."""
        conn = self._conn()
        try:
            yield conn
            conn.commit()
        except Exception:
            self._drop(conn)
            raise

    def _run(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> list[Any]:
        with self._transaction() as conn:
            return [conn.execute(self._sql(sql), params) for sql, params in statements]

    def _run_many(self, groups: Iterable[tuple[str, list[Sequence[Any]]]]) -> None:
        """Each statement with each of its parameter rows, in one transaction."""
        with self._transaction() as conn:
            for sql, rows in groups:
                conn.cursor().executemany(self._sql(sql), rows)

    def _drop(self, conn: _Connection) -> None:
        """Forget a connection after a failure; the next call on this thread reconnects."""
        with contextlib.suppress(Exception):
            conn.rollback()  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            conn.close()
        self._local.conn = None
        with self._lock, contextlib.suppress(ValueError):
            self._all.remove(conn)

    def _create(self) -> None:
        for attempt in range(5):
            try:
                self._run((sql, ()) for sql in _SCHEMA)
                return
            except Exception:  # two workers creating the tables at once (PostgreSQL): retry
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # --- JWT replay cache -------------------------------------------------------------------
    def claim_jti(self, iss: str, jti: str, exp: int) -> bool:
        """True the first time (iss, jti) is seen; False for a replay."""
        now = int(time.time())
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO jti (iss, jti, exp) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (iss, jti, exp),
            ),
        ]
        if random.random() < 0.01:
            statements.append(("DELETE FROM jti WHERE exp < ?", (now - 3600,)))
        (cursor, *_) = self._run(statements)
        return bool(cursor.rowcount == 1)

    # --- issued cards and report links --------------------------------------------------------
    def record_response(
        self, service: str, report_id: str, case: dict[str, Any], cards: Sequence[tuple[str, str]]
    ) -> None:
        self._run(_response_statements(service, report_id, case, cards))

    def record_responses(self, records: Sequence[Record]) -> list[Exception | None]:
        """:meth:`record_response` for several calls in one transaction (one executemany per
        statement); each gets its own outcome: None when committed, else its own exception.

        A record that cannot even be turned into statements fails alone, before the
        transaction.  If the transaction fails on a constraint (a taken id), each write is
        retried alone, so that only the clashing one fails; any other failure (the database
        locked past its timeout, a full disk) would fail the retries too, so it fails every
        write at once."""
        outcomes: list[Exception | None] = [None] * len(records)
        statements: list[tuple[int, _Statements]] = []
        for index, record in enumerate(records):
            try:
                statements.append((index, _response_statements(*record)))
            except Exception as exc:  # e.g. a case that cannot be encoded
                outcomes[index] = exc
        if not statements:
            return outcomes
        grouped: dict[str, list[Sequence[Any]]] = {}
        for _, each in statements:
            for sql, params in each:
                grouped.setdefault(sql, []).append(params)
        try:
            self._run_many(grouped.items())
        except Exception as exc:
            if not _is_integrity_error(exc) or len(statements) == 1:
                for index, _ in statements:
                    outcomes[index] = exc if len(statements) == 1 else _own(exc)
                return outcomes
            for index, each in statements:  # only the clashing write fails
                try:
                    self._run(each)
                except Exception as alone:
                    outcomes[index] = alone
        return outcomes

    def report_case(self, report_id: str, max_age_s: int) -> dict[str, Any] | None:
        (cursor,) = self._run(
            [("SELECT case_json, created FROM reports WHERE id = ?", (report_id,))]
        )
        row = cursor.fetchone()
        if row is None or row[1] < time.time() - max_age_s:
            return None
        case: dict[str, Any] = json.loads(row[0])
        return case

    # --- feedback -----------------------------------------------------------------------------
    def add_feedback(self, service: str, items: Sequence[Feedback]) -> int:
        """Store feedback; returns how many items were new (a repeat is not an error)."""
        now = int(time.time())
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO feedback (service, card, outcome, outcome_ts, override_code,"
                " accepted_count, received) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (service, f.card, f.outcome, f.outcome_ts, f.override_code, f.accepted_count, now),
            )
            for f in items
        ]
        if not self.postgres:
            self._conn().execute("PRAGMA synchronous=FULL")
        try:
            cursors = self._run(statements)
        finally:
            if not self.postgres:
                self._conn().execute("PRAGMA synchronous=NORMAL")
        return sum(max(0, c.rowcount) for c in cursors)

    def summary(self) -> list[SummaryRow]:
        (issued, answered) = self._run(
            [
                ("SELECT service, kind, COUNT(*) FROM cards GROUP BY service, kind", ()),
                (
                    "SELECT c.service, c.kind, f.outcome, COUNT(DISTINCT f.card) FROM feedback f"
                    " JOIN cards c ON c.uuid = f.card AND c.service = f.service"
                    " GROUP BY c.service, c.kind, f.outcome",
                    (),
                ),
            ]
        )
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for service, kind, count in issued.fetchall():
            counts[(service, kind)] = {"issued": int(count), "accepted": 0, "overridden": 0}
        for service, kind, outcome, count in answered.fetchall():
            row = counts.setdefault((service, kind), {"issued": 0, "accepted": 0, "overridden": 0})
            if outcome in ("accepted", "overridden"):
                row[outcome] = int(count)
        return [
            SummaryRow(service, kind, row["issued"], row["accepted"], row["overridden"])
            for (service, kind), row in sorted(counts.items())
        ]


def _is_integrity_error(exc: Exception) -> bool:
    """A constraint failure (DB-API 2 ``IntegrityError``, sqlite3's or psycopg's)."""
    return any(cls.__name__ == "IntegrityError" for cls in type(exc).__mro__)


def _own(exc: Exception) -> Exception:
    """A copy of ``exc`` for one of several callers (one exception raised in several tasks
    would gather all their tracebacks); the original is its cause."""
    try:
        mine = copy.copy(exc)
    except Exception:
        mine = RuntimeError(f"the report could not be stored ({type(exc).__name__})")
    mine.__cause__ = exc
    return mine


def _response_statements(
    service: str, report_id: str, case: dict[str, Any], cards: Sequence[tuple[str, str]]
) -> _Statements:
    now = int(time.time())
    statements: _Statements = [
        (
            "INSERT INTO reports (id, service, created, case_json) VALUES (?, ?, ?, ?)",
            (report_id, service, now, to_json(case).decode()),
        ),
    ]
    statements += [
        (
            "INSERT INTO cards (uuid, service, kind, created) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (uuid, service, kind, now),
        )
        for uuid, kind in cards
    ]
    return statements
