"""Inbound events: recorded once, duplicates counted, joined to one job, others ignored."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from service.clock import iso, utcnow
from service.ledger import IncomingEvent, JobState, Ledger, audit, deletions, outbox, present
from service.ledger import events as ledger_events
from service.ledger import jobs as ledger_jobs
from service.ledger.events import Actor


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


def flow_event(flow_id: str, correlation: str, **extra: object) -> IncomingEvent:
    topic = f"v2.flows.{flow_id}"
    body = json.dumps({"topicName": topic, "eventBody": {"id": flow_id}}, separators=(",", ":"))
    values: dict[str, object] = {
        "dedup_key": f"{topic}|{correlation}",
        "topic": topic,
        "body": body,
        "source_type": "flow",
        "strategy_id": flow_id,
        "correlation_id": correlation,
    }
    values.update(extra)
    return IncomingEvent(**values)  # type: ignore[arg-type]


def test_events_for_one_strategy_coalesce_into_one_waiting_job(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    first = ledger_events.accept_events(ledger, [flow_event(flow, "c1"), flow_event(flow, "c2")])
    second = ledger_events.accept_events(ledger, [flow_event(flow, "c3")])
    assert present.accepted(first) == {
        "accepted": 2,
        "duplicates": 0,
        "ignored": 0,
        "jobs": first.jobs,
    }
    assert len(first.jobs) == 1
    assert second.jobs == first.jobs
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=flow)
    assert (job.id, job.state, job.events, job.reason) == (
        first.jobs[0],
        JobState.WAITING,
        3,
        "event",
    )
    events = ledger_events.list_events(ledger, strategy_id=flow)
    assert sorted(e["correlation_id"] for e in events) == ["c1", "c2", "c3"]
    assert {e["job_id"] for e in events} == {job.id}
    assert {e["outcome"] for e in events} == {"queued"}


def test_the_same_event_again_is_a_duplicate_and_starts_nothing(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    once = ledger_events.accept_events(ledger, [flow_event(flow, "c1")])
    again = ledger_events.accept_events(ledger, [flow_event(flow, "c1"), flow_event(flow, "c1")])
    assert (once.accepted, once.duplicates) == (1, 0)
    assert present.accepted(again) == {"accepted": 0, "duplicates": 2, "ignored": 0, "jobs": []}
    assert len(ledger_events.list_events(ledger, strategy_id=flow)) == 1
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=flow)
    assert job.events == 1


def test_a_duplicate_within_one_batch_is_counted_once(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    result = ledger_events.accept_events(ledger, [flow_event(flow, "c1"), flow_event(flow, "c1")])
    assert (result.accepted, result.duplicates) == (1, 1)


def test_an_event_arriving_while_the_job_runs_queues_one_behind_it(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    first = ledger_events.accept_events(ledger, [flow_event(flow, "c1")])
    running = ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    assert running is not None and running.id == first.jobs[0]
    later = ledger_events.accept_events(ledger, [flow_event(flow, f"c{n}") for n in range(2, 12)])
    assert later.accepted == 10 and len(later.jobs) == 1
    assert later.jobs != first.jobs
    assert ledger_jobs.job_counts(ledger) == {"running": 1, "waiting": 1}


def test_unknown_topics_are_ignored_and_not_stored(ledger: Ledger) -> None:
    heartbeat = IncomingEvent(
        dedup_key="channel.metadata|x",
        topic="channel.metadata",
        body='{"message":"WebSocket Heartbeat"}',
    )
    result = ledger_events.accept_events(ledger, [heartbeat, heartbeat])
    assert present.accepted(result) == {"accepted": 0, "duplicates": 0, "ignored": 2, "jobs": []}
    assert ledger_events.list_events(ledger) == []
    assert ledger_jobs.job_counts(ledger) == {}


def test_an_event_with_an_ignore_reason_is_recorded_but_starts_no_job(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    pending = flow_event(flow, "c1", ignore_reason="currentOperation IN_PROGRESS, not SUCCESS")
    result = ledger_events.accept_events(ledger, [pending])
    assert present.accepted(result) == {"accepted": 0, "duplicates": 0, "ignored": 1, "jobs": []}
    (event,) = ledger_events.list_events(ledger, strategy_id=flow)
    assert (event["outcome"], event["job_id"]) == ("ignored", None)
    assert event["reason"] == "currentOperation IN_PROGRESS, not SUCCESS"
    assert ledger_jobs.job_counts(ledger) == {}
    # recorded, so the same event again is a duplicate
    assert ledger_events.accept_events(ledger, [pending]).duplicates == 1


def test_every_accepted_or_ignored_event_is_audited(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    ledger_events.accept_events(
        ledger, [flow_event(flow, "c1"), flow_event(flow, "c2", ignore_reason="not finished")]
    )
    actions = [e.action for e in audit.audit_entries(ledger, subject=flow)]
    assert actions == ["job.queued", "event.accepted", "event.ignored"]
    assert audit.verify_audit(ledger) == (3, None)


def test_one_batch_is_one_transaction(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    bad = flow_event(str(uuid.uuid4()), "c9", body=None)  # NOT NULL body: the insert fails
    with pytest.raises(sqlite3.IntegrityError):
        ledger_events.accept_events(ledger, [flow_event(flow, "c1"), bad])
    assert ledger_events.list_events(ledger) == []
    assert ledger_jobs.job_counts(ledger) == {}
    assert audit.audit_entries(ledger) == []


def routing_event(strategy_id: str, correlation: str) -> IncomingEvent:
    topic = f"v2.routing.strategies.{strategy_id}"
    body = json.dumps({"topicName": topic, "eventBody": {"id": strategy_id}})
    return IncomingEvent(
        dedup_key=f"{topic}|{correlation}",
        topic=topic,
        body=body,
        source_type="routing-strategy",
        strategy_id=strategy_id,
        correlation_id=correlation,
    )


def test_a_flow_and_a_routing_strategy_event_for_one_id_start_two_jobs(ledger: Ledger) -> None:
    shared = str(uuid.uuid4())
    first, second = ledger_events.accept_batches(
        ledger,
        [[flow_event(shared, "c1"), routing_event(shared, "c2")], [routing_event(shared, "c3")]],
    )
    assert len(first.jobs) == 2
    assert second.jobs == [first.jobs[1]]  # joined the routing strategy's job
    jobs = {job.source_type: job for job in ledger_jobs.list_jobs(ledger, strategy_id=shared)}
    assert set(jobs) == {"flow", "routing-strategy"}
    assert [jobs["flow"].id, jobs["routing-strategy"].id] == first.jobs
    assert (jobs["flow"].events, jobs["routing-strategy"].events) == (1, 2)


def backdate(ledger: Ledger, correlation: str, days: float) -> None:
    """Make an event look received ``days`` ago (as if recorded then)."""
    at = iso(utcnow() - timedelta(days=days))
    ledger.db.execute(
        "UPDATE events SET received_at = ? WHERE correlation_id = ?", [at, correlation]
    )


def test_bodies_older_than_the_cutoff_are_emptied_rows_and_audit_stay(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    ledger_events.accept_events(ledger, [flow_event(flow, f"c{n}") for n in range(7)])
    for n in range(5):
        backdate(ledger, f"c{n}", days=31)
    backdate(ledger, "c5", days=29)
    audit_before = audit.audit_entries(ledger)
    bodies_before = {
        e["correlation_id"]: e["body"] for e in ledger_events.list_events(ledger, limit=None)
    }

    pruned = ledger_events.prune_event_bodies(ledger, iso(utcnow() - timedelta(days=30)), batch=2)

    assert pruned == 5
    events = {e["correlation_id"]: e for e in ledger_events.list_events(ledger, limit=None)}
    assert len(events) == 7  # every row stays
    assert {c for c, e in events.items() if e["body"] == ""} == {f"c{n}" for n in range(5)}
    assert events["c5"]["body"] == bodies_before["c5"]
    assert events["c6"]["body"] == bodies_before["c6"]
    assert all(e["dedup_key"] and e["job_id"] for e in events.values())
    assert audit.audit_entries(ledger) == audit_before
    assert audit.verify_audit(ledger) == (len(audit_before), None)
    # pruned events are still duplicates when they come again
    assert ledger_events.accept_events(ledger, [flow_event(flow, "c0")]).duplicates == 1
    assert ledger_events.prune_event_bodies(ledger, iso(utcnow() - timedelta(days=30))) == 0


def test_the_actor_of_an_event_is_recorded(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    actor = Actor("u-1", "Ada Lovelace", "c-9", "Architect CI")
    ledger_events.accept_events(
        ledger, [flow_event(flow, "c1", actor=actor), flow_event(flow, "c2")]
    )
    rows = {e["correlation_id"]: e for e in ledger_events.list_events(ledger, strategy_id=flow)}
    assert [rows["c1"][k] for k in ("user_id", "user_name", "client_id", "client_name")] == [
        "u-1",
        "Ada Lovelace",
        "c-9",
        "Architect CI",
    ]
    assert [rows["c2"][k] for k in ("user_id", "user_name", "client_id", "client_name")] == [
        None
    ] * 4


def test_a_deletion_marks_the_object_announces_it_once_and_starts_no_job(
    ledger: Ledger,
) -> None:
    flow = str(uuid.uuid4())
    queued = ledger_events.accept_events(ledger, [flow_event(flow, "c1")])
    deletion = flow_event(
        flow,
        "c2",
        deletion="audit action Delete",
        changed_at="2026-11-29T10:00:00.000Z",
        actor=Actor("u-1", "Ada Lovelace"),
    )
    again = flow_event(flow, "c3", deletion="flow operation DELETE")
    result = ledger_events.accept_events(ledger, [deletion, again], notify=["gh"])
    assert present.accepted(result) == {"accepted": 2, "duplicates": 0, "ignored": 0, "jobs": []}

    rows = {e["correlation_id"]: e for e in ledger_events.list_events(ledger, strategy_id=flow)}
    assert [(rows[c]["outcome"], rows[c]["reason"], rows[c]["job_id"]) for c in ("c2", "c3")] == [
        ("deleted", "audit action Delete", None),
        ("deleted", "flow operation DELETE", None),
    ]
    marked = deletions.deletion(ledger, flow, "flow")
    assert marked is not None
    assert (marked.deleted_at, marked.deleted_by, marked.reason) == (
        "2026-11-29T10:00:00.000Z",
        "Ada Lovelace",
        "audit action Delete",
    )
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=flow)
    assert (job.id, job.state) == (queued.jobs[0], JobState.DELETED)
    (delivery,) = outbox.list_deliveries(ledger, strategy_id=flow)
    assert (delivery.event_type, delivery.target) == ("strategy.deleted", "gh")
    actions = [e.action for e in audit.audit_entries(ledger, subject=flow)]
    assert actions.count("strategy.deleted") == 1
    assert actions.count("event.accepted") == 3


def test_a_deletion_with_an_ignore_reason_is_only_recorded(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    unfinished = flow_event(
        flow,
        "c1",
        deletion="flow operation DELETE",
        ignore_reason="flow operation DELETE is STARTED",
    )
    assert ledger_events.accept_events(ledger, [unfinished]).ignored == 1
    (row,) = ledger_events.list_events(ledger, strategy_id=flow)
    assert (row["outcome"], row["reason"]) == ("ignored", "flow operation DELETE is STARTED")
    assert deletions.deletion(ledger, flow, "flow") is None


def test_a_jobs_author_is_its_newest_named_event_read_through_an_index(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    ada, grace = Actor(user_id="u-1", user_name="Ada"), Actor(user_id="u-2")
    accepted = ledger_events.accept_events(ledger, [flow_event(flow, "c1", actor=ada)])
    ledger_events.accept_events(ledger, [flow_event(flow, "c2", actor=grace)])
    ledger_events.accept_events(ledger, [flow_event(flow, "c3")])
    assert ledger_events.job_author(ledger, accepted.jobs[0]) == "u-2"
    plan = " ".join(
        str(row[-1])
        for row in ledger.db.execute(
            "EXPLAIN QUERY PLAN SELECT coalesce(user_name, user_id) FROM events"
            " WHERE job_id = ? AND coalesce(user_name, user_id) IS NOT NULL"
            " ORDER BY received_at DESC, rowid DESC LIMIT 1",
            ["x"],
        )
    )
    assert "events_by_job" in plan, plan


def test_an_event_after_a_deletion_in_one_batch_queues_a_new_job(ledger: Ledger) -> None:
    flow = str(uuid.uuid4())
    first = ledger_events.accept_events(ledger, [flow_event(flow, "c1")])
    deletion = flow_event(flow, "c2", deletion="audit action Delete")
    again = ledger_events.accept_batches(ledger, [[deletion], [flow_event(flow, "c3")]])
    assert again[1].jobs and again[1].jobs != first.jobs
    states = {j.id: j.state for j in ledger_jobs.list_jobs(ledger, strategy_id=flow)}
    assert states == {first.jobs[0]: JobState.DELETED, again[1].jobs[0]: JobState.WAITING}


def test_hundreds_of_events_over_hundreds_of_jobs_in_one_batch(ledger: Ledger) -> None:
    # More rows and jobs than one statement's parameters hold: the writes go in chunks.
    flows = [str(uuid.uuid4()) for _ in range(400)]
    ledger_events.accept_events(ledger, [flow_event(f, "a") for f in flows])
    batches = [[flow_event(f, "b"), flow_event(f, "c")] for f in flows]
    results = ledger_events.accept_batches(ledger, batches)
    assert sum(r.accepted for r in results) == 800
    counts = {j.strategy_id: j.events for j in ledger_jobs.list_jobs(ledger, limit=None)}
    assert counts == dict.fromkeys(flows, 3)
    assert len(ledger_events.list_events(ledger, limit=None)) == 1200
    assert audit.verify_audit(ledger) == (len(audit.audit_entries(ledger)), None)
