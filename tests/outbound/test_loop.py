"""Delivery lanes against real local receivers and a real ledger file; the worker's lanes
on top of real archive jobs (the simulator as Genesys)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from service.backoff import Backoff
from service.ledger import Delivery, DeliveryState, Ledger, audit, jobs, outbox
from service.outbound.deliver import Attempt, Deliverer
from service.outbound.loop import DeliveryLane, decide
from service.outbound.targets import Target, WebhookTarget
from service.simulator import SimulatorServer
from service.simulator.receivers import WebhookReceiver
from service.worker import Worker
from tests.helpers import make_settings, running_worker, wait_for

from .events import SECRET

STRATEGY = "5a0f6a43-2b4b-4f0e-9d3c-1f2e3d4c5b6a"
QUICK = Backoff((0.05, 0.05, 0.05), jitter=0)


def hook(receiver: WebhookReceiver, name: str | None = None) -> Target:
    return WebhookTarget(name=name or receiver.url, url=receiver.url, secret=SECRET)


def announce(ledger: Ledger, *targets: Target) -> str:
    """One completion event for ``targets``, as an archive writes it; its event id."""
    event_id = outbox.add_event(
        ledger,
        "strategy.archive.completed",
        STRATEGY,
        {"strategyId": STRATEGY, "archiveId": str(uuid.uuid4()), "versionCount": 1},
        [t.name for t in targets],
    )
    assert event_id is not None
    return event_id


def delivery_of(ledger: Ledger, event_id: str, target: Target) -> Delivery:
    (found,) = [
        d
        for d in outbox.list_deliveries(ledger, limit=None)
        if (d.event_id, d.target) == (event_id, target.name)
    ]
    return found


@contextmanager
def lanes(
    path: Path,
    targets: list[Target],
    schedule: Backoff = QUICK,
    count: int = 1,
    lease_seconds: float = 30,
) -> Iterator[threading.Event]:
    """``count`` lanes delivering to ``targets`` in threads; stopped and joined afterwards."""
    stopping = threading.Event()
    deliverer = Deliverer(targets)
    ledgers = [Ledger(path) for _ in range(count)]
    threads = [
        threading.Thread(
            target=DeliveryLane(
                f"lane-{n}",
                ledger,
                deliverer,
                schedule,
                [t.name for t in targets],
                lease_seconds=lease_seconds,
                poll_seconds=0.02,
                stopping=stopping,
            ).run
        )
        for n, ledger in enumerate(ledgers)
    ]
    for thread in threads:
        thread.start()
    try:
        yield stopping
    finally:
        stopping.set()
        for thread in threads:
            thread.join(timeout=30)
        for ledger in ledgers:
            ledger.close()
        deliverer.close()
    assert not any(t.is_alive() for t in threads)


# decide: what an attempt comes to -------------------------------------------------------


def test_decide_follows_the_attempt_and_the_schedule() -> None:
    schedule = Backoff((5, 300), jitter=0)
    assert decide(Attempt("delivered", 204, "ok"), 1, schedule) == (DeliveryState.DELIVERED, None)
    assert decide(Attempt("dead", 410, "gone"), 1, schedule) == (DeliveryState.DEAD, None)
    assert decide(Attempt("retry", 503, "x"), 1, schedule) == (DeliveryState.PENDING, 5.0)
    assert decide(Attempt("retry", None, "x"), 2, schedule) == (DeliveryState.PENDING, 300.0)
    assert decide(Attempt("retry", 503, "x"), 3, schedule) == (DeliveryState.DEAD, None)
    # Retry-After is a floor, never a way to come back sooner than the schedule says
    assert decide(Attempt("retry", 429, "x", 60.0), 1, schedule) == (DeliveryState.PENDING, 60.0)
    assert decide(Attempt("retry", 429, "x", 1.0), 2, schedule) == (DeliveryState.PENDING, 300.0)
    assert decide(Attempt("retry", 429, "x", 60.0), 3, schedule) == (DeliveryState.DEAD, None)


# lanes against real receivers -----------------------------------------------------------


def test_failures_then_2xx_resend_the_same_id_and_bytes_signed_each_time(tmp_path: Path) -> None:
    with WebhookReceiver(secret=SECRET) as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        event_id = announce(ledger, target)
        receiver.fail_next(503, times=2)
        with lanes(ledger.path, [target]):
            wait_for(
                lambda: delivery_of(ledger, event_id, target).state is DeliveryState.DELIVERED,
                what="delivered",
            )
        delivery = delivery_of(ledger, event_id, target)
        assert (delivery.attempts, delivery.last_status) == (3, 204)
        assert [r.status for r in receiver.received] == [503, 503, 204]
        assert {r.headers["webhook-id"] for r in receiver.received} == {event_id}
        assert {r.body for r in receiver.received} == {delivery.body.encode()}
        for got in receiver.received:
            assert Webhook(SECRET).verify(got.body, got.headers) == json.loads(delivery.body)
        # the retries waited for the schedule
        gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
        assert min(gaps) >= 0.04
        actions = [e.action for e in audit.audit_entries(ledger, subject=event_id)]
        assert actions == ["delivery.retry", "delivery.retry", "delivery.delivered"]


def test_past_the_schedule_the_delivery_is_dead(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        receiver.stop()  # nobody listens any more
        event_id = announce(ledger, target)
        with lanes(ledger.path, [target]):
            wait_for(
                lambda: delivery_of(ledger, event_id, target).state is DeliveryState.DEAD,
                what="dead",
            )
        delivery = delivery_of(ledger, event_id, target)
        assert delivery.attempts == 4  # the first try and one per delay of the schedule
        assert delivery.last_status is None
        assert delivery.last_error is not None and "connection failed" in delivery.last_error


def test_410_is_dead_at_once(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        receiver.always(410)
        event_id = announce(ledger, target)
        with lanes(ledger.path, [target]):
            wait_for(
                lambda: delivery_of(ledger, event_id, target).state is DeliveryState.DEAD,
                what="dead",
            )
            time.sleep(0.2)  # the lane would have retried by now
        delivery = delivery_of(ledger, event_id, target)
        assert (delivery.attempts, delivery.last_status) == (1, 410)
        assert len(receiver.received) == 1


def test_429_retry_after_is_honoured(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        receiver.fail_next(429, retry_after=1)
        event_id = announce(ledger, target)
        with lanes(ledger.path, [target]):
            wait_for(
                lambda: delivery_of(ledger, event_id, target).state is DeliveryState.DELIVERED,
                what="delivered",
            )
        first, second = receiver.received
        assert (first.status, second.status) == (429, 204)
        assert second.at - first.at >= 1.0  # not before Retry-After, though the schedule says 0.05


def test_a_slow_target_holds_up_only_its_own_lane(tmp_path: Path) -> None:
    with (
        WebhookReceiver() as slow,
        WebhookReceiver() as fast,
        Ledger(tmp_path / "l.db") as ledger,
    ):
        slow.delay = 2.0
        targets = [hook(slow, "slow"), hook(fast, "fast")]
        events = [announce(ledger, *targets) for _ in range(3)]
        with lanes(ledger.path, targets, count=2):
            slow.wait_for(1)
            began = time.monotonic()
            fast.wait_for(3, timeout=1.5)  # all three while the slow one answers its first
            assert time.monotonic() - began < 1.5
            assert len(slow.received) == 1  # never two in flight to one target
        # stopping finished the slow attempt in hand and recorded it
        first_slow = delivery_of(ledger, slow.received[0].headers["webhook-id"], targets[0])
        assert first_slow.state is DeliveryState.DELIVERED
        assert {r.headers["webhook-id"] for r in fast.received} == set(events)


def test_an_attempt_longer_than_the_lease_is_sent_once(tmp_path: Path) -> None:
    # The lane renews its lease while the slow target answers: the other lane, hungry for
    # the same target, never takes the delivery over and never sends it a second time.
    with WebhookReceiver(secret=SECRET) as slow, Ledger(tmp_path / "l.db") as ledger:
        slow.delay = 3.0
        target = hook(slow)
        event_id = announce(ledger, target)
        with lanes(tmp_path / "l.db", [target], count=2, lease_seconds=1):
            delivered = wait_for(
                lambda: delivery_of(ledger, event_id, target).state is DeliveryState.DELIVERED,
                timeout=10,
                what="the slow delivery",
            )
        assert delivered
        delivery = delivery_of(ledger, event_id, target)
        assert (delivery.attempts, delivery.last_status) == (1, 204)
        assert len(slow.received) == 1


def test_a_deliverer_failure_is_retried_and_the_lane_lives_on(tmp_path: Path) -> None:
    class Broken(Deliverer):
        calls = 0

        def attempt(self, *args: Any, **kwargs: Any) -> Attempt:
            Broken.calls += 1
            if Broken.calls == 1:
                raise RuntimeError("unforeseen")
            return super().attempt(*args, **kwargs)

    with WebhookReceiver() as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        event_id = announce(ledger, target)
        stopping = threading.Event()
        lane = DeliveryLane(
            "lane",
            ledger,
            Broken([target]),
            QUICK,
            [target.name],
            lease_seconds=30,
            poll_seconds=0.02,
            stopping=stopping,
        )
        assert lane.step() is True
        delivery = delivery_of(ledger, event_id, target)
        assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
        assert delivery.last_error == "RuntimeError: unforeseen"
        assert lane.step() is False  # not due yet
        time.sleep(0.06)
        assert lane.step() is True
        assert delivery_of(ledger, event_id, target).state is DeliveryState.DELIVERED
        assert len(receiver.received) == 1


# the worker's lanes ---------------------------------------------------------------------

FAST = {
    "WORKER_THREADS": "1",
    "WORKER_POLL_SECONDS": "0.05",
    "JOB_LEASE_SECONDS": "10",
    "SWEEP_INTERVAL_SECONDS": "0",
    "VCS_WEBHOOK_SECRET": SECRET,
    "VCS_RETRY_SCHEDULE": "0.05,0.05",
}


def lane_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if "/deliver-" in t.name]


def test_a_dead_job_announces_its_failure_to_every_target(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    missing = str(uuid.uuid4())
    with WebhookReceiver(secret=SECRET) as one, WebhookReceiver(secret=SECRET) as two:
        urls = f"{one.url},{two.url}"
        settings = make_settings(simulator, tmp_path, **FAST, VCS_WEBHOOK_URLS=urls)
        with Ledger(settings.archiver_db) as ledger:
            job_id, _ = jobs.enqueue(ledger, missing, "flow", reason="event")
            worker = Worker(settings)
            with running_worker(worker):
                assert len(lane_threads()) == 2
                # Generous: on a loaded machine the job's one try has taken 20 s.
                (got_one,) = one.wait_for(1, timeout=60)
                (got_two,) = two.wait_for(1, timeout=60)
        assert got_one.body == got_two.body
        assert got_one.headers["webhook-id"] == got_two.headers["webhook-id"]
        event = Webhook(SECRET).verify(got_one.body, got_one.headers)
        assert event["type"] == "strategy.archive.failed"
        assert event["data"]["strategyId"] == missing
        assert event["data"]["jobId"] == job_id
        assert event["data"]["tries"] == 1
        assert "404" in event["data"]["error"]
        assert lane_threads() == []


def test_a_worker_without_targets_runs_no_lane(simulator: SimulatorServer, tmp_path: Path) -> None:
    settings = make_settings(simulator, tmp_path, **FAST)
    with running_worker(Worker(settings)):
        assert lane_threads() == []


@pytest.mark.parametrize("count", [3, 11])
def test_one_lane_per_target_and_at_most_eight(
    simulator: SimulatorServer, tmp_path: Path, count: int
) -> None:
    urls = ",".join(f"http://127.0.0.1:9/hook{n}" for n in range(count))
    settings = make_settings(simulator, tmp_path, **FAST, VCS_WEBHOOK_URLS=urls)
    with running_worker(Worker(settings)):
        assert len(lane_threads()) == min(count, 8)
