"""The camelCase views: one set of naming rules for archives, jobs, deliveries, webhook
answers, audit entries, events and strategies, read from a real ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.ledger import (
    IncomingEvent,
    Ledger,
    Submission,
    archives,
    audit,
    events,
    jobs,
    outbox,
    present,
    queries,
)


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


def test_camel_case() -> None:
    assert present.camel("strategy_id") == "strategyId"
    assert present.camel("eventbridge_id") == "eventbridgeId"
    assert present.camel("size") == "size"


def test_an_archive_names_its_id_and_digest_and_counts_its_versions(ledger: Ledger) -> None:
    record = archives.record_archive(
        ledger,
        idempotency_key="k1",
        strategy_id="s1",
        source_type="flow",
        strategy_name="Main",
        version_ids=["1", "2"],
        archive_timestamp="2026-01-01T00:00:00Z",
        sha256="ab" * 32,
        size=10,
        location="flow/s1.json",
        submission=Submission.LOCAL,
    )
    view = present.archive(record)
    assert list(view) == [
        "archiveId",
        "idempotencyKey",
        "strategyId",
        "sourceType",
        "strategyName",
        "versionCount",
        "versionIds",
        "archiveTimestamp",
        "contentSha256",
        "size",
        "location",
        "createdAt",
        "submission",
        "submissionDetail",
        "submissionAttempts",
        "submittedAt",
    ]
    assert (view["archiveId"], view["versionCount"], view["versionIds"]) == (
        record.id,
        2,
        ["1", "2"],
    )
    assert view["submission"] == "local" and type(view["submission"]) is str


def test_a_job_leaves_its_lease_out(ledger: Ledger) -> None:
    job_id, _ = jobs.enqueue(ledger, "s1", "flow", reason="event")
    jobs.claim(ledger, "worker-1", lease_seconds=60, max_running=1)
    job = jobs.get_job(ledger, job_id)
    assert job is not None
    view = present.job(job)
    assert view["jobId"] == job_id and view["state"] == "running"
    assert "leaseOwner" not in view and "leaseUntil" not in view
    assert list(view)[:3] == ["jobId", "strategyId", "sourceType"]


def test_a_delivery_leaves_its_body_out(ledger: Ledger) -> None:
    with ledger.transaction():
        outbox.add_event(ledger, "strategy.deleted", "s1", {"strategyId": "s1"}, ["t1"])
    (delivery,) = outbox.list_deliveries(ledger)
    view = present.delivery(delivery)
    assert view["deliveryId"] == delivery.id and view["state"] == "pending"
    assert "body" not in view


def test_answers_audit_entries_and_events(ledger: Ledger) -> None:
    event = IncomingEvent(
        dedup_key="d1", topic="t", body="{}", source_type="flow", strategy_id="s1"
    )
    result = events.accept_events(ledger, [event])
    assert present.accepted(result) == {
        "accepted": 1,
        "duplicates": 0,
        "ignored": 0,
        "jobs": result.jobs,
    }
    entry = audit.append(ledger, "admin.test", "s1", n=1)
    assert present.audit_entry(entry) == {
        "seq": entry.seq,
        "at": entry.at,
        "action": "admin.test",
        "subject": "s1",
        "detail": {"n": 1},
        "prevHash": entry.prev_hash,
        "hash": entry.hash,
    }
    assert "hash" not in present.audit_entry(entry, hashes=False)
    (row,) = events.list_events(ledger)
    view = present.event(row)
    assert list(view)[:3] == ["eventId", "receivedAt", "topic"]
    assert view["jobId"] == result.jobs[0] and "body" not in view
    assert present.event(row, ("id", "topic")) == {"eventId": row["id"], "topic": "t"}


def test_a_strategy_says_whether_it_is_deleted_and_what_was_left_out(ledger: Ledger) -> None:
    jobs.enqueue(ledger, "s1", "flow", reason="event")
    (row,) = queries.list_strategies(ledger)
    skipped = [{"versionId": "3", "reason": "bad"}]
    view = present.strategy(row, skipped)
    assert list(view) == [
        "strategyId",
        "sourceType",
        "name",
        "archives",
        "jobs",
        "deadJobs",
        "state",
        "deletedAt",
        "deletedBy",
        "firstSeenAt",
        "lastArchivedAt",
        "skipped",
    ]
    assert (view["strategyId"], view["state"], view["jobs"], view["skipped"]) == (
        "s1",
        "live",
        1,
        skipped,
    )
