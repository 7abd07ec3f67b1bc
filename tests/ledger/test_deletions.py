"""Deleted objects in the ledger: marked once, announced once, passed over by the sweep,
live again when seen; inside an outer transaction as on their own."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from service.backoff import JOBS
from service.ledger import JobState, LeaseLost, Ledger, archives, audit, deletions, jobs

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
    archives.record_archive(
        ledger,
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
    first = deletions.mark_deleted(
        ledger,
        flow,
        FLOW,
        at="2026-11-29T10:00:00Z",
        by="Ada Admin",
        reason="audit Delete",
        notify=TARGETS,
    )
    again = deletions.mark_deleted(
        ledger, flow, FLOW, by="someone", reason="flow DELETE", notify=TARGETS
    )
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
    deletion = deletions.deletion(ledger, flow, FLOW)
    assert deletion is not None
    assert (deletion.deleted_at, deletion.deleted_by, deletion.reason) == (
        "2026-11-29T10:00:00.000Z",
        "Ada Admin",
        "audit Delete",
    )
    assert [e.action for e in audit.audit_entries(ledger)].count("strategy.deleted") == 1


def test_an_unnamed_deletion_leaves_name_and_user_out(ledger: Ledger) -> None:
    flow = new_id()
    assert deletions.mark_deleted(ledger, flow, FLOW, reason="flow DELETE", notify=TARGETS)
    (event,) = deleted_events(ledger)
    assert set(event["data"]) == {"strategyId", "sourceType", "deletedAt"}
    assert deletions.knows(ledger, flow, FLOW)


def test_the_sweep_passes_deleted_objects_over_and_seeing_them_again_brings_them_back(
    ledger: Ledger,
) -> None:
    kept, gone = new_id(), new_id()
    jobs.enqueue(ledger, kept, FLOW, reason="event")
    archive(ledger, gone)
    deletions.mark_deleted(ledger, gone, FLOW, reason="404", notify=TARGETS)
    assert jobs.known_strategies(ledger) == [(kept, FLOW)]

    assert deletions.mark_live(ledger, gone, FLOW, reason="discovery") is True
    assert deletions.mark_live(ledger, gone, FLOW, reason="discovery") is False
    assert deletions.deletion(ledger, gone, FLOW) is None
    assert set(jobs.known_strategies(ledger)) == {(kept, FLOW), (gone, FLOW)}
    assert "strategy.live" in [e.action for e in audit.audit_entries(ledger)]
    # Deleted again later: a new deletion, announced again.
    assert deletions.mark_deleted(ledger, gone, FLOW, reason="404", notify=TARGETS)
    assert len(deleted_events(ledger)) == 2


def test_deletion_is_per_source_type(ledger: Ledger) -> None:
    shared = new_id()
    jobs.enqueue(ledger, shared, FLOW, reason="event")
    jobs.enqueue(ledger, shared, ROUTING, reason="event")
    deletions.mark_deleted(ledger, shared, ROUTING, reason="404")
    assert jobs.known_strategies(ledger) == [(shared, FLOW)]
    assert deletions.deletion(ledger, shared, FLOW) is None


def test_waiting_jobs_of_a_deleted_object_end_deleted(ledger: Ledger) -> None:
    flow = new_id()
    job_id, _ = jobs.enqueue(ledger, flow, FLOW, reason="event")
    deletions.mark_deleted(ledger, flow, FLOW, reason="audit Delete")
    job = jobs.get_job(ledger, job_id)
    assert job is not None and job.state is JobState.DELETED
    assert jobs.claim(ledger, "w", lease_seconds=60, max_running=4) is None


def test_marking_joins_an_outer_transaction_and_rolls_back_with_it(ledger: Ledger) -> None:
    flow = new_id()
    with pytest.raises(RuntimeError), ledger.transaction():
        deletions.mark_deleted(ledger, flow, FLOW, reason="audit Delete", notify=TARGETS)
        raise RuntimeError("the accept failed")
    assert deletions.deletion(ledger, flow, FLOW) is None
    assert deleted_events(ledger) == []
    with ledger.transaction():
        jobs.enqueue(ledger, new_id(), FLOW, reason="event")
        deletions.mark_deleted(ledger, flow, FLOW, reason="audit Delete", notify=TARGETS)
    assert deletions.deletion(ledger, flow, FLOW) is not None
    assert len(deleted_events(ledger)) == 1


def test_knows_only_what_genesys_showed(ledger: Ledger) -> None:
    queued, archived, seen = new_id(), new_id(), new_id()
    jobs.enqueue(ledger, queued, FLOW, reason="admin")  # an id someone typed: not proof it exists
    archive(ledger, archived)
    deletions.mark_seen(ledger, [(seen, FLOW)], reason="discovery")
    assert not deletions.knows(ledger, queued, FLOW)
    assert deletions.knows(ledger, archived, FLOW)
    assert deletions.knows(ledger, seen, FLOW)
    assert not deletions.knows(ledger, seen, ROUTING)


def test_a_running_job_ends_deleted_with_one_event(ledger: Ledger) -> None:
    flow = new_id()
    archive(ledger, flow)
    jobs.enqueue(ledger, flow, FLOW, reason="sweep")
    job = jobs.claim(ledger, "w1", lease_seconds=60, max_running=4)
    assert job is not None
    with pytest.raises(LeaseLost):
        jobs.finish_deleted(ledger, job.id, "w2", reason="410", notify=TARGETS)
    done = jobs.finish_deleted(
        ledger, job.id, "w1", reason="410 architect.flow.deleted", notify=TARGETS
    )
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
    assert jobs.job_counts(ledger) == {"deleted": 1}
    assert jobs.known_strategies(ledger) == []

    # A later job for it (an event) that finds it still gone announces nothing new.
    jobs.enqueue(ledger, flow, FLOW, reason="event")
    again = jobs.claim(ledger, "w1", lease_seconds=60, max_running=4, max_tries=JOBS.max_tries)
    assert again is not None
    ended = jobs.finish_deleted(ledger, again.id, "w1", reason="404")
    assert ended.result is not None and ended.result["announced"] is False
    assert len(deleted_events(ledger)) == 1
