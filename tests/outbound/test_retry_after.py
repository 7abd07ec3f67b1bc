"""A target's ``Retry-After``, however large, lengthens a wait by a bounded amount only.

Real local receivers answer 429 with absurd ``Retry-After`` values; real lanes record the
attempts in a real ledger file. The delivery stays on its schedule and ends dead when the
schedule ends, instead of failing to be recorded and being resent at every lease.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.backoff import Backoff
from service.clock import parse_iso
from service.http import DAY
from service.ledger import Delivery, DeliveryState, Ledger, outbox
from service.outbound.deliver import Attempt, Deliverer
from service.outbound.loop import DeliveryLane, decide
from service.outbound.targets import Target, WebhookTarget
from service.simulator.receivers import WebhookReceiver
from tests.helpers import wait_for

from .events import SECRET

STRATEGY = "5a0f6a43-2b4b-4f0e-9d3c-1f2e3d4c5b6a"
HUGE = "99999999999999999999"


def hook(receiver: WebhookReceiver) -> Target:
    return WebhookTarget(name=receiver.url, url=receiver.url, secret=SECRET)


def announce(ledger: Ledger, target: Target) -> str:
    event_id = outbox.add_event(
        ledger,
        "strategy.archive.completed",
        STRATEGY,
        {"strategyId": STRATEGY, "archiveId": str(uuid.uuid4()), "versionCount": 1},
        [target.name],
    )
    assert event_id is not None
    return event_id


def only_delivery(ledger: Ledger) -> Delivery:
    (delivery,) = outbox.list_deliveries(ledger, limit=None)
    return delivery


def due_in(delivery: Delivery) -> float:
    """Seconds from now until the delivery's next attempt."""
    due = delivery.next_attempt_at
    at = parse_iso(due).timestamp() if isinstance(due, str) else float(due)
    return at - time.time()


@contextmanager
def lane(path: Path, target: Target, schedule: Backoff) -> Iterator[None]:
    """One delivery lane in a thread, as the worker runs it; stopped and joined afterwards."""
    stopping = threading.Event()
    deliverer = Deliverer([target])
    with Ledger(path) as ledger:
        worker = DeliveryLane(
            "lane-0",
            ledger,
            deliverer,
            schedule,
            [target.name],
            lease_seconds=1,  # a lost record would show as a resend within the test
            poll_seconds=0.02,
            stopping=stopping,
        )
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            yield
        finally:
            stopping.set()
            thread.join(timeout=30)
            deliverer.close()
    assert not thread.is_alive()


def test_a_huge_retry_after_is_recorded_as_a_wait_of_one_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="service.outbound")
    schedule = Backoff((0.05, 0.05), jitter=0)
    with WebhookReceiver() as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        receiver.always(429, retry_after=HUGE)
        announce(ledger, target)
        with lane(ledger.path, target, schedule):
            wait_for(lambda: only_delivery(ledger).attempts == 1, timeout=5, what="one attempt")
            time.sleep(1.5)  # past the lease: an attempt left unrecorded would be sent again
        delivery = only_delivery(ledger)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.PENDING,
        1,
        429,
    )
    assert DAY - 60 <= due_in(delivery) <= DAY
    assert len(receiver.received) == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_schedule_still_ends_dead_under_capped_retry_afters(tmp_path: Path) -> None:
    schedule = Backoff((0.05, 0.05), jitter=0, max_retry_after=0.3)
    with WebhookReceiver() as receiver, Ledger(tmp_path / "l.db") as ledger:
        target = hook(receiver)
        receiver.always(429, retry_after=HUGE)
        announce(ledger, target)
        with lane(ledger.path, target, schedule):
            wait_for(
                lambda: only_delivery(ledger).state is DeliveryState.DEAD, timeout=10, what="dead"
            )
        delivery = only_delivery(ledger)
    assert (delivery.attempts, delivery.last_status) == (3, 429)
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.3  # the capped Retry-After, not the 0.05 steps


@pytest.mark.parametrize(
    "value", [HUGE, "9" * 400, "inf", "Fri, 31 Dec 9999 23:59:59 GMT"], ids=str.split
)
def test_an_attempt_reports_at_most_a_day(receiver: WebhookReceiver, value: str) -> None:
    receiver.fail_next(429, retry_after=value)
    deliverer = Deliverer([hook(receiver)])
    attempt = deliverer.attempt(receiver.url, "evt-1", "strategy.archive.completed", b"{}")
    deliverer.close()
    assert (attempt.outcome, attempt.status, attempt.retry_after) == ("retry", 429, DAY)


def test_decide_bounds_retry_after_by_the_schedule() -> None:
    schedule = Backoff((5, 300), jitter=0, max_retry_after=600)
    assert decide(Attempt("retry", 429, "x", 1e20), 1, schedule) == (DeliveryState.PENDING, 600)
    assert decide(Attempt("retry", 429, "x", 60.0), 1, schedule) == (DeliveryState.PENDING, 60)
    assert decide(Attempt("retry", 429, "x", 1e20), 3, schedule) == (DeliveryState.DEAD, None)
    with pytest.raises(ValueError, match="max_retry_after"):
        Backoff((), max_retry_after=float("inf"))
