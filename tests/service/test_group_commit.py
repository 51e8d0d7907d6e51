"""Group commit on the event loop: the writes of one loop turn share a transaction, each caller
waits for its own write and gets its own failure."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from backtriage.service.group_commit import GroupCommit
from backtriage.service.store import Record, Store


class Spy(Store):
    """A real store that remembers the batches it was asked to commit."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches: list[int] = []

    def record_responses(self, records: Sequence[Record]) -> list[Exception | None]:
        self.batches.append(len(records))
        return super().record_responses(records)


def record(report_id: str, age: int) -> Record:
    return ("svc", report_id, {"age": age}, [(str(uuid.uuid4()), "k")])


def test_calls_of_one_loop_turn_share_one_commit_and_each_is_readable_at_once(
    db_path: str,
) -> None:
    store = Spy(db_path)
    commits = GroupCommit(store)
    ids = [uuid.uuid4().hex for _ in range(5)]

    async def calls() -> list[Any]:
        return await asyncio.gather(*(commits.record(record(r, i)) for i, r in enumerate(ids)))

    assert asyncio.run(calls()) == [None] * 5
    assert store.batches == [5]
    other = Store(db_path)  # another worker's connection sees every write once awaited
    assert [other.report_case(r, 60) for r in ids] == [{"age": i} for i in range(5)]
    other.close()
    store.close()


def test_a_failing_write_fails_only_its_own_caller(db_path: str) -> None:
    store = Spy(db_path)
    commits = GroupCommit(store)
    taken = uuid.uuid4().hex
    store.record_response(*record(taken, 1))

    async def calls() -> list[Any]:
        fresh = [commits.record(record(uuid.uuid4().hex, 2)) for _ in range(2)]
        clash = commits.record(record(taken, 3))
        return await asyncio.gather(fresh[0], clash, fresh[1], return_exceptions=True)

    first, clash, second = asyncio.run(calls())
    assert first is None and second is None
    assert isinstance(clash, sqlite3.IntegrityError)
    assert store.batches == [3]  # tried together, then one by one
    assert store.report_case(taken, 60) == {"age": 1}  # the earlier write is untouched
    (row,) = [r for r in store.summary() if r.kind == "k"]
    assert row.issued == 3  # the earlier write's card and the two fresh ones
    store.close()


class Locked(Spy):
    """A store whose every transaction fails as a locked database does (past its timeout)."""

    def __init__(self, url: str) -> None:
        self.tries: int | None = None  # not yet: the tables are created first
        super().__init__(url)
        self.tries = 0

    def _run_many(self, groups: Any) -> None:
        self._locked()

    def _run(self, statements: Any) -> list[Any]:
        if self.tries is None:
            return super()._run(statements)
        self._locked()
        return []

    def _locked(self) -> None:
        assert self.tries is not None
        self.tries += 1
        raise sqlite3.OperationalError("database is locked")


def test_a_locked_database_fails_every_caller_at_once_each_with_its_own_error(
    db_path: str,
) -> None:
    store = Locked(db_path)
    commits = GroupCommit(store)

    async def calls() -> list[Any]:
        writes = [commits.record(record(uuid.uuid4().hex, i)) for i in range(3)]
        return await asyncio.gather(*writes, return_exceptions=True)

    errors = asyncio.run(calls())
    assert all(isinstance(e, sqlite3.OperationalError) for e in errors)
    assert len({id(e) for e in errors}) == 3  # not one exception raised in three tasks
    assert store.tries == 1  # no retry one by one: each would wait out the lock again
    store.close()


def test_a_store_that_fails_outright_still_answers_every_caller(db_path: str) -> None:
    class Broken(Spy):
        def record_responses(self, records: Sequence[Record]) -> list[Exception | None]:
            raise RuntimeError("a bug")

    commits = GroupCommit(Broken(db_path))

    async def calls() -> list[Any]:
        writes = [commits.record(record(uuid.uuid4().hex, i)) for i in range(2)]
        return await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 10)

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, _context: None)  # the callback's own error
    try:
        errors = loop.run_until_complete(calls())
    finally:
        loop.close()
    assert [type(e) for e in errors] == [RuntimeError, RuntimeError]


def test_a_caller_that_went_away_does_not_stop_the_others(db_path: str) -> None:
    store = Spy(db_path)
    commits = GroupCommit(store)
    ids = [uuid.uuid4().hex for _ in range(2)]

    async def calls() -> None:
        gone = asyncio.ensure_future(commits.record(record(ids[0], 0)))
        stays = asyncio.ensure_future(commits.record(record(ids[1], 1)))
        await asyncio.sleep(0)  # both have queued their writes
        gone.cancel()
        await asyncio.wait_for(stays, 10)  # a time-out: the commit stopped at the cancelled one
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(calls())
    assert store.report_case(ids[1], 60) == {"age": 1}
    store.close()


def test_separate_turns_commit_separately(db_path: str) -> None:
    store = Spy(db_path)
    commits = GroupCommit(store)

    async def calls() -> None:
        await commits.record(record(uuid.uuid4().hex, 0))
        await commits.record(record(uuid.uuid4().hex, 1))

    asyncio.run(calls())
    assert store.batches == [1, 1]
    store.close()


def test_event_loops_in_several_threads_keep_their_own_batches(db_path: str) -> None:
    store = Spy(db_path)
    commits = GroupCommit(store)
    ids = [[uuid.uuid4().hex for _ in range(3)] for _ in range(4)]
    errors: list[BaseException] = []

    def worker(mine: list[str]) -> None:
        async def calls() -> None:
            for _ in range(100):  # interleave with the other threads' loops
                await asyncio.gather(*(commits.record(record(uuid.uuid4().hex, 0)) for _ in mine))
            await asyncio.gather(*(commits.record(record(r, 1)) for r in mine))

        try:
            asyncio.run(asyncio.wait_for(calls(), 30))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(mine,)) for mine in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(store.report_case(r, 60) == {"age": 1} for mine in ids for r in mine)
    store.close()
