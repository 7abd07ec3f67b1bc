"""Group commit: the requests of one process share its writer's transactions."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from service.inbound.committer import GroupCommit
from service.ledger import Accepted, IncomingEvent, Ledger
from tests.helpers import wait_for

STRATEGY = str(uuid.uuid4())


def _event(key: str) -> IncomingEvent:
    return IncomingEvent(
        dedup_key=key,
        topic=f"v2.routing.strategies.{STRATEGY}",
        body="{}",
        source_type="routing-strategy",
        strategy_id=STRATEGY,
    )


def _lock_waiters() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "ledger-lock")


def test_requests_that_come_while_the_writer_waits_for_the_lock_share_its_commit(
    tmp_path: Path,
) -> None:
    """Another process holds the write lock while one request is in the writer's hands and
    two more arrive: once the lock is free, all three are one transaction (one fsync)."""
    path = tmp_path / "ledger.db"
    committer = GroupCommit(path, timeout=30)
    committer.accept([IncomingEvent(dedup_key="warm-up", topic="heartbeat", body="{}")])
    results: dict[str, Accepted] = {}

    def send(key: str) -> threading.Thread:
        thread = threading.Thread(
            target=lambda: results.update({key: committer.accept([_event(key)])})
        )
        thread.start()
        return thread

    with Ledger(path) as other:
        waiters = _lock_waiters()
        with other.transaction():
            threads = [send("first")]
            wait_for(lambda: _lock_waiters() > waiters, what="the writer waiting for the lock")
            threads += [send("second"), send("third")]
            wait_for(lambda: committer._queue.qsize() == 2, what="two requests queued")
        for thread in threads:
            thread.join(30)
        rows = other.db.execute(
            "SELECT dedup_key, received_at FROM events ORDER BY dedup_key"
        ).fetchall()
    assert sorted(results) == ["first", "second", "third"]
    assert all(r.accepted == 1 and r.duplicates == 0 for r in results.values())
    assert [key for key, _ in rows] == ["first", "second", "third"]
    assert len({received for _, received in rows}) == 1  # one transaction's time
