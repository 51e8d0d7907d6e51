"""Group commit on the event loop: the report-link writes of the service calls answered in one
turn of the loop are committed in one transaction early in the next turn (after the callbacks
already queued), and each call's answer waits for that commit (so a card's link works at once,
from any worker, as durable as a write of its own).

For a local SQLite store only: its commit is a WAL append without fsync, short enough to run
on the loop itself, which spares a thread hand-off.  Under load several calls share one commit
(fewer WAL pages and file locks per call); alone, a call waits one loop turn for its own."""

from __future__ import annotations

import asyncio

from backtriage.service.store import Record, Store


class GroupCommit:
    """One per app.  Each event loop (one per worker; a test client may run several) has its
    own batch, committed on that loop's thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[Record, asyncio.Future[None]]]]
        self._pending = {}

    async def record(self, record: Record) -> None:
        """Commit ``record`` (with whatever else comes in this turn); raises its own failure."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        batch = self._pending.get(loop)
        if batch is None:
            batch = self._pending[loop] = []
            loop.call_soon(self._commit, loop)
        batch.append((record, done))
        await done

    def _commit(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop)
        outcomes: list[Exception | None] | None = None
        try:
            outcomes = self._store.record_responses([record for record, _ in batch])
        finally:  # every caller is answered, whatever happened
            for index, (_, done) in enumerate(batch):
                if done.cancelled():  # the client went away; its write stands or failed alone
                    continue
                if outcomes is None:  # the store failed outright (it answers each write else)
                    done.set_exception(RuntimeError("the report could not be stored"))
                elif (failure := outcomes[index]) is None:
                    done.set_result(None)
                else:
                    done.set_exception(failure)
