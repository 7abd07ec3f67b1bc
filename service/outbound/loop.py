"""The delivery lanes of the worker: claim a due delivery, attempt it, record the outcome.

Each lane is a thread with its own ledger connection; lanes share one ``Deliverer``.
The ledger never hands out two deliveries to one target at once, so a slow or dead
target occupies one lane at most, and the others keep serving the other targets.
What to record after an attempt is decided by ``decide``, from the attempt and the
retry schedule alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from ..archive.job import describe
from ..backoff import Backoff
from ..ledger import Delivery, DeliveryState, Ledger, outbox
from ..ops.metrics import count_delivery
from .deliver import Attempt, AttemptOutcome, Deliverer

log = logging.getLogger("service.outbound")

MAX_LANES = 8
_LEVELS = {DeliveryState.PENDING: logging.WARNING, DeliveryState.DEAD: logging.ERROR}
_OUTCOME_LABELS = {
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.PENDING: "retry",
    DeliveryState.DEAD: "dead",
}


def decide(
    attempt: Attempt, attempts: int, schedule: Backoff
) -> tuple[DeliveryState, float | None]:
    """The state to record after the ``attempts``-th attempt, and the seconds until the next.

    2xx is delivered and 410 dead at once. Anything else is retried on the schedule,
    never sooner than the receiver's ``Retry-After`` (itself at most the schedule's
    ``max_retry_after``), and dead once the schedule ends.
    """
    if attempt.outcome == AttemptOutcome.DELIVERED:
        return DeliveryState.DELIVERED, None
    if attempt.outcome == AttemptOutcome.DEAD:
        return DeliveryState.DEAD, None
    delay = schedule.delay(attempts)
    if delay is None:
        return DeliveryState.DEAD, None
    if attempt.retry_after is not None:
        delay = max(delay, min(attempt.retry_after, schedule.max_retry_after))
    return DeliveryState.PENDING, delay


class DeliveryLane:
    """One delivery thread's loop: until ``stopping``, claim, attempt, record; idle, wait."""

    def __init__(
        self,
        owner: str,
        ledger: Ledger,
        deliverer: Deliverer,
        schedule: Backoff,
        targets: Sequence[str],
        *,
        lease_seconds: float,
        poll_seconds: float,
        stopping: threading.Event,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self.owner = owner
        self.ledger = ledger
        self.deliverer = deliverer
        self.schedule = schedule
        self.targets = list(targets)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.stopping = stopping
        self.kinds = dict(kinds or {})  # target name -> kind, for metrics; webhook by default

    def run(self) -> None:
        """Deliver until ``stopping`` is set; the attempt in hand is finished and recorded."""
        while not self.stopping.is_set():
            try:
                busy = self.step()
            except Exception as exc:  # never lose the lane; an unrecorded lease runs out
                log.error(
                    "%s: delivery loop failed: %s",
                    self.owner,
                    describe(exc),
                    extra={"lane": self.owner},
                )
                busy = False
            if not busy:
                self.stopping.wait(self.poll_seconds)

    def step(self) -> bool:
        """Attempt one due delivery and record its outcome; False when none was due."""
        delivery = outbox.claim_delivery(
            self.ledger, self.owner, lease_seconds=self.lease_seconds, targets=self.targets
        )
        if delivery is None:
            return False
        began = time.monotonic()
        with self._renewing(delivery):
            attempt = self._attempt(delivery)
        attempts = delivery.attempts + 1
        state, retry_in = decide(attempt, attempts, self.schedule)
        detail = attempt.detail or ""  # stored and logged redacted (ledger, log formatter)
        recorded = outbox.record_attempt(
            self.ledger,
            delivery.id,
            self.owner,
            outcome=state,
            status=attempt.status,
            detail=detail,
            retry_in=retry_in,
        )
        took = time.monotonic() - began
        fields = {
            "delivery_id": delivery.id,
            "event_id": delivery.event_id,
            "event_type": delivery.event_type,
            "target": delivery.target,
            "attempts": attempts,
            "status": attempt.status,
        }
        if recorded is None:
            log.warning(
                "delivery %s to %s: lease lost after %.1f s; outcome (%s) not recorded",
                delivery.id,
                delivery.target,
                took,
                detail,
                extra=fields,
            )
            return True
        count_delivery(self.kinds.get(delivery.target, "webhook"), _OUTCOME_LABELS[state])
        outcome = f"retry in {retry_in:g} s" if state is DeliveryState.PENDING else str(state)
        log.log(
            _LEVELS.get(state, logging.INFO),
            "delivery %s of %s %s to %s: %s after attempt %d (%.1f s): %s",
            delivery.id,
            delivery.event_type,
            delivery.event_id,
            delivery.target,
            outcome,
            attempts,
            took,
            detail,
            extra=fields,
        )
        return True

    @contextmanager
    def _renewing(self, delivery: Delivery) -> Iterator[None]:
        """Renew the delivery's lease every third of it while the attempt runs, as the
        heartbeat does for jobs: a slow target must not let another lane send it again.

        The renewing thread shares the lane's connection: the lane does not touch the
        ledger until the attempt is over, and the thread is joined before it does.
        """
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease_seconds / 3):
                try:
                    held = outbox.extend_delivery_lease(
                        self.ledger, delivery.id, self.owner, lease_seconds=self.lease_seconds
                    )
                except Exception as exc:  # busy or failing for a moment: try next time
                    log.warning(
                        "could not renew the lease of delivery %s: %s",
                        delivery.id,
                        describe(exc),
                        extra={"delivery_id": delivery.id},
                    )
                    continue
                if not held:
                    return  # lost: recording the outcome will say so

        thread = threading.Thread(target=renew, name=f"{self.owner}/lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _attempt(self, delivery: Delivery) -> Attempt:
        try:
            return self.deliverer.attempt(
                delivery.target, delivery.event_id, delivery.event_type, delivery.body.encode()
            )
        except Exception as exc:  # a bug or an unforeseen failure: retried on the schedule
            return Attempt(AttemptOutcome.RETRY, None, describe(exc))
