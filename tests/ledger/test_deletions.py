"""Deleted objects in the ledger: marked once, announced once, passed over by the sweep,
live again when seen; inside an outer transaction as on their own."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from service.backoff import JOBS
from service.ledger import JobState, LeaseLost, Ledger

FLOW = "flow"
ROUTING = "routing-strategy"
TARGETS = ["hooks"]


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


def deleted_events(ledger: Ledger) -> list[dict]:
    rows = ledger.db.execute(
        "SELECT body FROM outbox_events WHERE type = 'strategy.deleted' ORDER BY rowid"
    )
    return [json.loads(r[0]) for r in rows]


def archive(ledger: Ledger, strategy_id: str, name: str = "Main IVR") -> None:
    ledger.record_archive(
        idempotency_key=new_id(),
        strategy_id=strategy_id,
        source_type=FLOW,
        strategy_name=name,
        version_ids=["1.0"],
        archive_timestamp="2026-11-28T07:00:00.000Z",
        sha256="0" * 64,
        size=1,
        location=f"flow/{strategy_id}/x.json",
        submission="local",
    )


def test_a_deletion_is_announced_once_with_name_time_and_user(ledger: Ledger) -> None:
    flow = new_id()
    archive(ledger, flow)
    first = ledger.mark_deleted(
        flow, FLOW, at="2026-11-29T10:00:00Z", by="Ada Admin", reason="audit Delete", notify=TARGETS
    )
    again = ledger.mark_deleted(flow, FLOW, by="someone", reason="flow DELETE", notify=TARGETS)
    assert (first, again) == (True, False)
    (event,) = deleted_events(ledger)
    assert event["type"] == "strategy.deleted"
    assert event["data"] == {
        "strategyId": flow,
        "strategyName": "Main IVR",
        "sourceType": FLOW,
        "deletedAt": "2026-11-29T10:00:00.000Z",
        "deletedBy": "Ada Admin",
    }
    deletion = ledger.deletion(flow, FLOW)
    assert deletion is not None
    assert (deletion.deleted_at, deletion.deleted_by, deletion.reason) == (
        "2026-11-29T10:00:00.000Z",
        "Ada Admin",
        "audit Delete",
    )
    assert [e.action for e in ledger.audit_entries()].count("strategy.deleted") == 1


def test_an_unnamed_deletion_leaves_name_and_user_out(ledger: Ledger) -> None:
    flow = new_id()
    assert ledger.mark_deleted(flow, FLOW, reason="flow DELETE", notify=TARGETS)
    (event,) = deleted_events(ledger)
    assert set(event["data"]) == {"strategyId", "sourceType", "deletedAt"}
    assert ledger.knows(flow, FLOW)


def test_the_sweep_passes_deleted_objects_over_and_seeing_them_again_brings_them_back(
    ledger: Ledger,
) -> None:
    kept, gone = new_id(), new_id()
    ledger.enqueue(kept, FLOW, reason="event")
    archive(ledger, gone)
    ledger.mark_deleted(gone, FLOW, reason="404", notify=TARGETS)
    assert ledger.known_strategies() == [(kept, FLOW)]

    assert ledger.mark_live(gone, FLOW, reason="discovery") is True
    assert ledger.mark_live(gone, FLOW, reason="discovery") is False
    assert ledger.deletion(gone, FLOW) is None
    assert set(ledger.known_strategies()) == {(kept, FLOW), (gone, FLOW)}
    assert "strategy.live" in [e.action for e in ledger.audit_entries()]
    # Deleted again later: a new deletion, announced again.
    assert ledger.mark_deleted(gone, FLOW, reason="404", notify=TARGETS)
    assert len(deleted_events(ledger)) == 2


def test_deletion_is_per_source_type(ledger: Ledger) -> None:
    shared = new_id()
    ledger.enqueue(shared, FLOW, reason="event")
    ledger.enqueue(shared, ROUTING, reason="event")
    ledger.mark_deleted(shared, ROUTING, reason="404")
    assert ledger.known_strategies() == [(shared, FLOW)]
    assert ledger.deletion(shared, FLOW) is None


def test_waiting_jobs_of_a_deleted_object_end_deleted(ledger: Ledger) -> None:
    flow = new_id()
    job_id, _ = ledger.enqueue(flow, FLOW, reason="event")
    ledger.mark_deleted(flow, FLOW, reason="audit Delete")
    job = ledger.get_job(job_id)
    assert job is not None and job.state is JobState.DELETED
    assert ledger.claim("w", lease_seconds=60, max_running=4) is None


def test_marking_joins_an_outer_transaction_and_rolls_back_with_it(ledger: Ledger) -> None:
    flow = new_id()
    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.mark_deleted(flow, FLOW, reason="audit Delete", notify=TARGETS)
        raise RuntimeError("the accept failed")
    assert ledger.deletion(flow, FLOW) is None
    assert deleted_events(ledger) == []
    with ledger.transaction():
        ledger.enqueue(new_id(), FLOW, reason="event")
        ledger.mark_deleted(flow, FLOW, reason="audit Delete", notify=TARGETS)
    assert ledger.deletion(flow, FLOW) is not None
    assert len(deleted_events(ledger)) == 1


def test_knows_only_what_genesys_showed(ledger: Ledger) -> None:
    queued, archived, seen = new_id(), new_id(), new_id()
    ledger.enqueue(queued, FLOW, reason="admin")  # an id someone typed: not proof it exists
    archive(ledger, archived)
    ledger.mark_seen([(seen, FLOW)], reason="discovery")
    assert not ledger.knows(queued, FLOW)
    assert ledger.knows(archived, FLOW)
    assert ledger.knows(seen, FLOW)
    assert not ledger.knows(seen, ROUTING)


def test_a_running_job_ends_deleted_with_one_event(ledger: Ledger) -> None:
    flow = new_id()
    archive(ledger, flow)
    ledger.enqueue(flow, FLOW, reason="sweep")
    job = ledger.claim("w1", lease_seconds=60, max_running=4)
    assert job is not None
    with pytest.raises(LeaseLost):
        ledger.finish_deleted(job.id, "w2", reason="410", notify=TARGETS)
    done = ledger.finish_deleted(job.id, "w1", reason="410 architect.flow.deleted", notify=TARGETS)
    assert done.state is JobState.DELETED
    assert done.result == {
        "deleted": True,
        "reason": "410 architect.flow.deleted",
        "announced": True,
    }
    assert done.finished_at is not None and done.lease_owner is None
    assert len(deleted_events(ledger)) == 1
    # Not a failure: no strategy.archive.failed, no retry waiting.
    types = [r[0] for r in ledger.db.execute("SELECT type FROM outbox_events")]
    assert types == ["strategy.deleted"]
    assert ledger.job_counts() == {"deleted": 1}
    assert ledger.known_strategies() == []

    # A later job for it (an event) that finds it still gone announces nothing new.
    ledger.enqueue(flow, FLOW, reason="event")
    again = ledger.claim("w1", lease_seconds=60, max_running=4, max_tries=JOBS.max_tries)
    assert again is not None
    ended = ledger.finish_deleted(again.id, "w1", reason="404")
    assert ended.result is not None and ended.result["announced"] is False
    assert len(deleted_events(ledger)) == 1
