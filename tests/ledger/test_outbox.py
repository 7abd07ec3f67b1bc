"""The outbox: events written with what they announce, deliveries leased per target lane."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest

from service.backoff import JOBS
from service.clock import iso, parse_iso, utcnow
from service.ledger import DeliveryState, Ledger, Submission, archives, audit, jobs, outbox

STRATEGY = "38426578-d900-459f-a7e7-3260397f7ca3"
TARGETS = ["https://one.example/hook", "gh"]


def archive(ledger: Ledger, key: str = "key-1", notify: list[str] | None = None):
    return archives.record_archive(
        ledger,
        idempotency_key=key,
        strategy_id=STRATEGY,
        source_type="routing-strategy",
        strategy_name="Priority routing",
        version_ids=["v1", "v2"],
        archive_timestamp="2026-11-28T07:00:00.000Z",
        sha256="ab" * 32,
        size=10,
        location=f"routing-strategy/{STRATEGY}/{key}.json",
        submission=Submission.LOCAL,
        notify=TARGETS if notify is None else notify,
    )


def test_an_archive_writes_one_event_and_a_delivery_per_target(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        record = archive(ledger)
        deliveries = outbox.list_deliveries(ledger)
        assert sorted(d.target for d in deliveries) == sorted(TARGETS)
        assert len({d.event_id for d in deliveries}) == 1
        body = json.loads(deliveries[0].body)
        assert body["type"] == "strategy.archive.completed"
        assert body["data"] == {
            "strategyId": STRATEGY,
            "strategyName": "Priority routing",
            "sourceType": "routing-strategy",
            "archiveId": record.id,
            "idempotencyKey": "key-1",
            "versionCount": 2,
            "versionIds": ["v1", "v2"],
            "archiveTimestamp": "2026-11-28T07:00:00.000Z",
            "contentSha256": "ab" * 32,
        }
        assert body["timestamp"].endswith("Z")
        assert outbox.outbox_backlog(ledger) == 2


def test_no_targets_no_event(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, notify=[])
        assert outbox.list_deliveries(ledger) == []


def test_a_failed_archive_write_leaves_no_event(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger)
        with pytest.raises(sqlite3.IntegrityError):
            archive(ledger)  # same key again: the whole write rolls back
        assert len(outbox.list_deliveries(ledger)) == 2
        count = ledger.db.execute("SELECT count(*) FROM outbox_events").fetchone()[0]
        assert count == 1


def test_a_dead_job_announces_its_failure(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        job_id, _ = jobs.enqueue(ledger, STRATEGY, "routing-strategy", reason="admin")
        job = jobs.claim(ledger, "w1", lease_seconds=30, max_running=1)
        assert job is not None and job.id == job_id
        jobs.fail(ledger, job_id, "w1", "404 not.found", retryable=False, retry=JOBS, notify=["gh"])
        (delivery,) = outbox.list_deliveries(ledger)
        body = json.loads(delivery.body)
        assert body["type"] == "strategy.archive.failed"
        assert body["data"] == {
            "strategyId": STRATEGY,
            "sourceType": "routing-strategy",
            "jobId": job_id,
            "tries": 1,
            "error": "404 not.found",
        }


def test_one_delivery_in_flight_per_target(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, "key-1")
        archive(ledger, "key-2")
        first = outbox.claim_delivery(ledger, "w1", lease_seconds=30, targets=TARGETS)
        second = outbox.claim_delivery(ledger, "w2", lease_seconds=30, targets=TARGETS)
        third = outbox.claim_delivery(ledger, "w3", lease_seconds=30, targets=TARGETS)
        assert first is not None and second is not None
        assert {first.target, second.target} == set(TARGETS)
        assert third is None  # both lanes busy, though two more deliveries are due
        only = outbox.claim_delivery(ledger, "w4", lease_seconds=30, targets=["elsewhere"])
        assert only is None


def test_attempt_outcomes_and_lost_leases(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, notify=["gh"])
        claimed = outbox.claim_delivery(ledger, "w1", lease_seconds=30, targets=["gh"])
        assert claimed is not None
        retried = outbox.record_attempt(
            ledger,
            claimed.id,
            "w1",
            outcome=DeliveryState.PENDING,
            status=503,
            detail="503",
            retry_in=60,
        )
        assert retried is not None
        assert (retried.state, retried.attempts, retried.last_status) == (
            DeliveryState.PENDING,
            1,
            503,
        )
        assert (
            outbox.claim_delivery(ledger, "w1", lease_seconds=30, targets=["gh"]) is None
        )  # not due
        stale = outbox.record_attempt(
            ledger, claimed.id, "w1", outcome=DeliveryState.DELIVERED, status=204, detail="204"
        )
        assert stale is None  # the lease went with the first outcome
        ledger.db.execute("UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00.000Z'")
        again = outbox.claim_delivery(ledger, "w2", lease_seconds=30, targets=["gh"])
        assert again is not None
        done = outbox.record_attempt(
            ledger, again.id, "w2", outcome=DeliveryState.DELIVERED, status=204, detail="204"
        )
        assert done is not None and done.state is DeliveryState.DELIVERED
        assert done.delivered_at is not None and done.last_error is None
        assert outbox.outbox_backlog(ledger) == 0
        actions = [e.action for e in audit.audit_entries(ledger)]
        assert actions.count("delivery.retry") == 1
        assert actions.count("delivery.delivered") == 1


def test_expired_lease_is_taken_over(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, notify=["gh"])
        first = outbox.claim_delivery(ledger, "w1", lease_seconds=30, targets=["gh"])
        assert first is not None
        ledger.db.execute("UPDATE deliveries SET lease_until = 946684800.0")  # in 2000
        second = outbox.claim_delivery(ledger, "w2", lease_seconds=30, targets=["gh"])
        assert second is not None and second.id == first.id


def test_redeliver_revives_dead_deliveries(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, notify=["gh"])
        claimed = outbox.claim_delivery(ledger, "w1", lease_seconds=30, targets=["gh"])
        assert claimed is not None
        outbox.record_attempt(
            ledger, claimed.id, "w1", outcome=DeliveryState.DEAD, status=410, detail="410 Gone"
        )
        assert [d.id for d in outbox.list_deliveries(ledger, state="dead")] == [claimed.id]
        assert outbox.redeliver(ledger, delivery_id="unknown") == []
        assert outbox.redeliver(ledger, dead=True) == [claimed.id]
        revived = outbox.get_delivery(ledger, claimed.id)
        assert revived is not None
        assert (revived.state, revived.attempts) == (DeliveryState.PENDING, 0)
        assert outbox.claim_delivery(ledger, "w2", lease_seconds=30, targets=["gh"]) is not None


def test_renewing_a_delivery_lease_keeps_other_lanes_off_it(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, notify=["gh"])
        claimed = outbox.claim_delivery(ledger, "w1", lease_seconds=1, targets=["gh"])
        assert claimed is not None
        for _ in range(4):  # 1.4 s in all: beyond the first lease, renewed each time
            assert outbox.extend_delivery_lease(ledger, claimed.id, "w1", lease_seconds=1) is True
            assert outbox.claim_delivery(ledger, "w2", lease_seconds=30, targets=["gh"]) is None
            time.sleep(0.35)
        assert outbox.extend_delivery_lease(ledger, claimed.id, "w2", lease_seconds=30) is False
        ledger.db.execute("UPDATE deliveries SET lease_until = 0")  # w1 stops renewing
        taken = outbox.claim_delivery(ledger, "w2", lease_seconds=30, targets=["gh"])
        assert taken is not None and taken.id == claimed.id
        assert outbox.extend_delivery_lease(ledger, claimed.id, "w1", lease_seconds=30) is False


@pytest.mark.parametrize("asked", [1e20, math.inf, 10 * 365 * 86400.0])
def test_a_huge_retry_after_is_recorded_as_at_most_30_days(tmp_path: Path, asked: float) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive(ledger, notify=["gh"])
        claimed = outbox.claim_delivery(ledger, "w1", lease_seconds=30, targets=["gh"])
        assert claimed is not None
        recorded = outbox.record_attempt(
            ledger,
            claimed.id,
            "w1",
            outcome=DeliveryState.PENDING,
            status=429,
            detail="429",
            retry_in=asked,
        )
        assert recorded is not None and recorded.state is DeliveryState.PENDING
        wait = parse_iso(recorded.next_attempt_at) - utcnow()
        assert timedelta(days=29, hours=23) < wait <= timedelta(days=30)


def test_only_old_events_every_target_received_lose_their_body(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        for n in range(4):
            archive(ledger, key=f"key-{n}", notify=["gh"])
        events = {}
        for name, outcome, retry_in in [
            ("old delivered", DeliveryState.DELIVERED, None),
            ("old dead", DeliveryState.DEAD, None),  # an admin may send it again
            ("old pending", DeliveryState.PENDING, 3600),
            ("new delivered", DeliveryState.DELIVERED, None),
        ]:
            claimed = outbox.claim_delivery(ledger, "w", lease_seconds=30, targets=["gh"])
            assert claimed is not None
            outbox.record_attempt(
                ledger,
                claimed.id,
                "w",
                outcome=outcome,
                status=None,
                detail=name,
                retry_in=retry_in,
            )
            events[name] = claimed.event_id
        old = iso(utcnow() - timedelta(days=31))
        for name in ("old delivered", "old dead", "old pending"):
            ledger.db.execute(
                "UPDATE outbox_events SET created_at = ? WHERE id = ?", [old, events[name]]
            )
        before = {d.event_id: d.body for d in outbox.list_deliveries(ledger, limit=None)}
        audit_before = audit.audit_entries(ledger)

        pruned = outbox.prune_outbox_bodies(ledger, iso(utcnow() - timedelta(days=30)))

        assert pruned == 1
        after = {d.event_id: d.body for d in outbox.list_deliveries(ledger, limit=None)}
        assert after[events["old delivered"]] == ""
        for name in ("old dead", "old pending", "new delivered"):
            assert after[events[name]] == before[events[name]]  # byte for byte
        assert audit.audit_entries(ledger) == audit_before
        assert len(after) == 4
