"""The shared store on SQLite (always) and a real PostgreSQL server: replay cache, idempotent
feedback, durability across a process killed with SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from backtriage.service.store import Feedback, Store
from tests.service import fixtures as f


def exercise(store: Store) -> None:
    jti = str(uuid.uuid4())
    assert store.claim_jti("iss", jti, int(time.time()) + 60)
    assert not store.claim_jti("iss", jti, int(time.time()) + 60)
    card = str(uuid.uuid4())
    store.record_response("svc", uuid.uuid4().hex, {"age": 49}, [(card, "order-not-appropriate")])
    item = Feedback(card, "accepted", "2026-11-25T00:00:00Z", None, 1)
    assert store.add_feedback("svc", [item]) == 1
    assert store.add_feedback("svc", [item, item]) == 0
    (row,) = [r for r in store.summary() if r.kind == "order-not-appropriate"]
    assert row.accepted >= 1 and row.issued >= 1
    # several calls' writes in one transaction; a failing one (its report id is taken) fails alone
    ids = [uuid.uuid4().hex for _ in range(3)]
    records = [
        ("svc", rid, {"age": 40 + i}, [(str(uuid.uuid4()), "batch")]) for i, rid in enumerate(ids)
    ]
    assert store.record_responses(records) == [None, None, None]
    taken = ("svc", ids[0], {"age": 1}, [(str(uuid.uuid4()), "batch")])
    fresh = ("svc", uuid.uuid4().hex, {"age": 2}, [(str(uuid.uuid4()), "batch")])
    outcomes = store.record_responses([taken, fresh])
    assert isinstance(outcomes[0], Exception) and outcomes[1] is None
    # a case that cannot be stored as JSON fails alone, before the transaction
    odd = ("svc", uuid.uuid4().hex, {"age": object()}, [(str(uuid.uuid4()), "batch")])
    also = ("svc", uuid.uuid4().hex, {"age": 4}, [(str(uuid.uuid4()), "batch")])
    outcomes = store.record_responses([odd, also])
    assert isinstance(outcomes[0], Exception) and outcomes[1] is None
    assert store.report_case(odd[1], 60) is None and store.report_case(also[1], 60) == {"age": 4}
    assert [store.report_case(rid, 60) for rid in ids] == [{"age": 40 + i} for i in range(3)]
    assert store.report_case(fresh[1], 60) == {"age": 2}
    (batch,) = [r for r in store.summary() if r.kind == "batch"]
    assert batch.issued == 5  # the three, the fresh one and the last; no failed write's card


def test_sqlite(db_path: str) -> None:
    store = Store(db_path)
    exercise(store)
    store.close()


@pytest.mark.postgres
def test_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    exercise(store)
    store.close()
    again = Store(postgres_url)  # tables already there: creating them again is harmless
    assert again.summary()
    again.close()


def test_sqlite_feedback_survives_kill_9(db_path: str) -> None:
    script = (
        "import os, signal\n"
        "from backtriage.service.store import Store, Feedback\n"
        f"s = Store({db_path!r})\n"
        "s.record_response('svc', 'r1', {}, [('c1', 'k')])\n"
        "s.add_feedback('svc', [Feedback('c1', 'accepted', 't1', None, 1)])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert done.returncode == -9
    store = Store(db_path)
    (row,) = store.summary()
    assert (row.issued, row.accepted) == (1, 1)
    store.close()


def test_a_report_link_works_as_soon_as_the_answer_is_out(insecure: Any, db_path: str) -> None:
    response = insecure.post("/cds-services/backtriage-lumbar-imaging-sign", json=f.argonaut_lbp())
    (card,) = response.json()["cards"]
    url = card["links"][0]["url"]
    assert insecure.get(url).status_code == 200
    other = Store(db_path)  # another connection (another worker) sees the committed write
    assert other.report_case(url.rsplit("/", 1)[1], 60) is not None
    (row,) = other.summary()
    assert (row.kind, row.issued) == ("order-not-appropriate", 1)
    other.close()
