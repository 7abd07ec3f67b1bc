"""Completion events delivered by ``archiver worker`` processes to real local receivers:
retried past the schedule and sent again by an admin, after a SIGKILL, past a slow target."""

from __future__ import annotations

import json
import time
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from service.ledger import Delivery, DeliveryState, JobState, Ledger, archives, jobs, outbox
from service.simulator import DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.receivers import Received, WebhookReceiver
from tests.helpers import WORKER_TUNING, archiver, cli_env, wait_for
from tests.processes import workers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def env_for(simulator: SimulatorServer, tmp_path: Path, *urls: str, **extra: str) -> dict[str, str]:
    outbound = {"VCS_WEBHOOK_URLS": ",".join(urls), "VCS_WEBHOOK_SECRET": SECRET}
    return cli_env(simulator, tmp_path, **{**WORKER_TUNING, **outbound, **extra})


def only_delivery(path: Path) -> Delivery:
    with Ledger(path) as ledger:
        (delivery,) = outbox.list_deliveries(ledger, limit=None)
        return delivery


def delivery_in(path: Path, state: DeliveryState) -> Delivery | None:
    with Ledger(path) as ledger:
        found = outbox.list_deliveries(ledger, state=str(state), limit=None)
    return found[0] if found else None


def assert_copies_of(delivery: Delivery, received: list[Received]) -> None:
    """Every request is the delivery's event: same webhook-id, same bytes, valid signature."""
    assert received
    for got in received:
        assert got.headers["webhook-id"] == delivery.event_id
        assert got.body == delivery.body.encode()
        assert Webhook(SECRET).verify(got.body, got.headers) == json.loads(delivery.body)


def test_a_dead_delivery_is_listed_then_sent_again_on_request(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    with WebhookReceiver(secret=SECRET) as receiver:
        receiver.always(503)
        env = env_for(simulator, tmp_path, receiver.url, VCS_RETRY_SCHEDULE="0.05,0.05")
        with Ledger(db) as ledger:
            jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        with workers(env, tmp_path) as (worker,):
            wait_for(lambda: delivery_in(db, DeliveryState.DEAD), what="the delivery to die")
            listed = archiver(
                "ledger", "deliveries", "--status", "dead", "--json", env=env, cwd=tmp_path
            )
            assert listed.returncode == 0, listed.stderr
            (dead,) = json.loads(listed.stdout)
            assert (dead["target"], dead["attempts"], dead["lastStatus"]) == (receiver.url, 3, 503)
            assert dead["eventType"] == "strategy.archive.completed"
            assert len(receiver.received) == 3  # the first try and one per delay

            receiver.always(None)
            again = archiver("outbox", "redeliver", "--dead", env=env, cwd=tmp_path)
            assert (again.returncode, again.stdout) == (
                0,
                "1 dead delivery(ies) pending again, due now\n",
            )
            delivered = wait_for(
                lambda: delivery_in(db, DeliveryState.DELIVERED), what="the redelivery"
            )
            assert worker.terminate() == 0, worker.output
        assert delivered.id == dead["deliveryId"]
        assert (delivered.attempts, delivered.last_status) == (1, 204)
        assert [r.status for r in receiver.received] == [503, 503, 503, 204]
        assert_copies_of(delivered, receiver.received)
        assert f"delivery {delivered.id} " in worker.output
        assert "dead after attempt 3" in worker.output
        assert "delivered after attempt 1" in worker.output
        assert SECRET not in worker.output


def test_a_worker_killed_before_the_delivery_is_answered_is_relieved_by_another(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    with WebhookReceiver(secret=SECRET) as receiver:
        receiver.delay = 60  # holds the first delivery open: the worker dies waiting
        env = env_for(simulator, tmp_path, receiver.url, JOB_LEASE_SECONDS="2")
        with Ledger(db) as ledger:
            job_id, _ = jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        with workers(env, tmp_path) as (victim,):
            receiver.wait_for(1, timeout=30)
            with Ledger(db) as ledger:
                job = jobs.get_job(ledger, job_id)
                assert job is not None and job.state is JobState.DONE
            assert only_delivery(db).state is DeliveryState.PENDING
            victim.kill()
        receiver.delay = 0
        with workers(env, tmp_path) as (successor,):
            delivered = wait_for(
                lambda: delivery_in(db, DeliveryState.DELIVERED), timeout=30, what="delivered"
            )
            assert successor.terminate() == 0, successor.output
        assert delivered == only_delivery(db)  # one event, one delivery: never written twice
        assert (delivered.attempts, delivered.last_status) == (1, 204)  # the successor's
        assert len(receiver.received) == 2
        assert_copies_of(delivered, receiver.received)
        with Ledger(db) as ledger:
            assert len(archives.list_archives(ledger)) == 1


def test_a_slow_target_delays_neither_a_fast_one_nor_archiving(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    more = [simulator.state.add_strategy("routing-strategy", versions=1) for _ in range(2)]
    with WebhookReceiver(secret=SECRET) as slow, WebhookReceiver(secret=SECRET) as fast:
        slow.delay = 4.0
        env = env_for(simulator, tmp_path, slow.url, fast.url)
        with Ledger(db) as ledger, workers(env, tmp_path) as (worker,):
            jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
            slow.wait_for(1, timeout=30)
            blocked = time.monotonic()
            fast.wait_for(1, timeout=2)
            for strategy in more:
                jobs.enqueue(ledger, strategy, "routing-strategy", reason="event")
            wait_for(
                lambda: jobs.job_counts(ledger) == {"done": 3}, timeout=3, what="the other jobs"
            )
            fast.wait_for(3, timeout=3)
            assert time.monotonic() - blocked < 3.5  # all while the slow target still answers
            assert len(slow.received) == 1
            # SIGTERM now: the attempt in hand is finished and recorded, then the worker exits
            assert worker.terminate() == 0, worker.output
            in_hand = slow.received[0].headers["webhook-id"]
            states = {(d.event_id, d.target): d.state for d in outbox.list_deliveries(ledger)}
        assert states[(in_hand, slow.url)] is DeliveryState.DELIVERED
        assert [s for (_, target), s in states.items() if target == fast.url] == [
            DeliveryState.DELIVERED
        ] * 3
        assert list(states.values()).count(DeliveryState.PENDING) == 2  # the slow one's others
        assert "stopping" in worker.output
