"""The job queue: coalescing, atomic leased claims, retries, dead jobs, the sweep claim."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from service.backoff import JOBS, Backoff, jobs
from service.clock import parse_iso, utcnow
from service.ledger import JobState, LeaseLost, Ledger, audit, outbox, present
from service.ledger import jobs as ledger_jobs
from service.ledger.migrations import MIGRATIONS
from tests.helpers import wait_for

ROUTING = "routing-strategy"
NO_RETRY_WAIT = jobs(max_tries=3, base=0.0)


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


def test_hundreds_of_enqueues_for_one_strategy_coalesce_into_one_waiting_job(
    ledger: Ledger,
) -> None:
    strategy = new_id()
    results = [
        ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event", events=1) for _ in range(300)
    ]
    job_ids = {job_id for job_id, _ in results}
    assert len(job_ids) == 1
    assert [joined for _, joined in results] == [False] + [True] * 299
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=strategy)
    assert job.state is JobState.WAITING
    assert job.events == 300
    assert ledger_jobs.job_counts(ledger) == {"waiting": 1}
    assert ledger_jobs.known_strategies(ledger) == [(strategy, ROUTING)]
    queued = [e for e in audit.audit_entries(ledger) if e.action == "job.queued"]
    assert len(queued) == 1  # joins are not new jobs


def test_full_is_kept_when_a_full_request_joins_a_waiting_job(ledger: Ledger) -> None:
    strategy = new_id()
    job_id, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="admin", full=True)
    ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    job = ledger_jobs.get_job(ledger, job_id)
    assert job is not None and job.full is True


def test_an_enqueue_while_one_runs_leaves_exactly_one_waiting_behind_it(ledger: Ledger) -> None:
    strategy = new_id()
    first, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    running = ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    assert running is not None and running.id == first
    behind = {ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")[0] for _ in range(50)}
    assert len(behind) == 1 and first not in behind
    assert ledger_jobs.job_counts(ledger) == {"running": 1, "waiting": 1}
    # the job behind never runs beside the one running
    assert ledger_jobs.claim(ledger, "w2", lease_seconds=60, max_running=5) is None
    ledger_jobs.complete(ledger, first, "w1", {"archiveId": None})
    after = ledger_jobs.claim(ledger, "w2", lease_seconds=60, max_running=5)
    assert after is not None and after.id in behind


def test_claim_respects_max_running(ledger: Ledger) -> None:
    for _ in range(5):
        ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="sweep")
    claimed = [
        ledger_jobs.claim(ledger, f"w{i}", lease_seconds=60, max_running=3) for i in range(5)
    ]
    assert [job is not None for job in claimed] == [True, True, True, False, False]
    assert ledger_jobs.job_counts(ledger) == {"running": 3, "waiting": 2}
    first = claimed[0]
    assert first is not None
    ledger_jobs.complete(ledger, first.id, "w0", {})
    assert ledger_jobs.claim(ledger, "w9", lease_seconds=60, max_running=3) is not None
    assert ledger_jobs.claim(ledger, "w9", lease_seconds=60, max_running=3) is None


def test_claim_never_gives_two_jobs_of_one_strategy(ledger: Ledger) -> None:
    strategy, other = new_id(), new_id()
    ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    one = ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=10)
    ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")  # waits behind the running one
    ledger_jobs.enqueue(ledger, other, ROUTING, reason="event")
    two = ledger_jobs.claim(ledger, "w2", lease_seconds=60, max_running=10)
    assert one is not None and one.strategy_id == strategy
    assert two is not None and two.strategy_id == other
    assert ledger_jobs.claim(ledger, "w3", lease_seconds=60, max_running=10) is None


def test_claimed_job_carries_owner_lease_and_try(ledger: Ledger) -> None:
    job_id, _ = ledger_jobs.enqueue(ledger, new_id(), "flow", reason="event")
    before = utcnow()
    job = ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    assert job is not None and job.id == job_id
    assert (job.state, job.lease_owner, job.tries) == (JobState.RUNNING, "w1", 1)
    assert isinstance(job.lease_until, float)  # Unix seconds, compared as a number
    expires = datetime.fromtimestamp(job.lease_until, UTC)
    assert before + timedelta(seconds=59) <= expires <= utcnow() + timedelta(seconds=60)
    started = [e for e in audit.audit_entries(ledger) if e.action == "job.started"]
    assert started[0].detail == {"jobId": job_id, "tries": 1, "worker": "w1"}


def test_an_expired_lease_is_taken_over_and_the_old_owner_loses_the_job(ledger: Ledger) -> None:
    job_id, _ = ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="event")
    assert ledger_jobs.claim(ledger, "dead-worker", lease_seconds=0.05, max_running=1) is not None
    taken = wait_for(
        lambda: ledger_jobs.claim(ledger, "new-worker", lease_seconds=60, max_running=1),
        what="takeover",
    )
    assert taken.id == job_id
    assert (taken.lease_owner, taken.tries) == ("new-worker", 2)
    assert ledger_jobs.extend_lease(ledger, job_id, "dead-worker", lease_seconds=60) is False
    with pytest.raises(LeaseLost):
        ledger_jobs.complete(ledger, job_id, "dead-worker", {"archiveId": "stale"})
    with pytest.raises(LeaseLost):
        ledger_jobs.fail(ledger, job_id, "dead-worker", "late", retryable=True, retry=JOBS)
    assert ledger_jobs.extend_lease(ledger, job_id, "new-worker", lease_seconds=60) is True
    done = ledger_jobs.complete(ledger, job_id, "new-worker", {"archiveId": "fresh"})
    assert (done.state, done.result) == (JobState.DONE, {"archiveId": "fresh"})
    assert done.lease_owner is None and done.finished_at is not None


def test_a_live_lease_is_not_taken_over_and_extending_keeps_it(ledger: Ledger) -> None:
    job_id, _ = ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="event")
    assert ledger_jobs.claim(ledger, "w1", lease_seconds=0.5, max_running=5) is not None
    for _ in range(4):
        assert ledger_jobs.extend_lease(ledger, job_id, "w1", lease_seconds=0.5) is True
        assert ledger_jobs.claim(ledger, "w2", lease_seconds=60, max_running=5) is None
        time.sleep(0.2)  # beyond the first lease in total; renewed each time
    job = ledger_jobs.get_job(ledger, job_id)
    assert job is not None and job.lease_owner == "w1"


def test_a_retryable_failure_waits_with_a_later_run_at(ledger: Ledger) -> None:
    job_id, _ = ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="event")
    ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    before = utcnow()
    failed = ledger_jobs.fail(ledger, job_id, "w1", "503 upstream", retryable=True, retry=JOBS)
    assert failed.state is JobState.WAITING
    assert (failed.tries, failed.last_error, failed.lease_owner) == (1, "503 upstream", None)
    # JOBS: 30 s for the second try, plus up to 50 % jitter
    wait = parse_iso(failed.run_at) - before
    assert timedelta(seconds=29) <= wait <= timedelta(seconds=46)
    assert ledger_jobs.claim(ledger, "w2", lease_seconds=60, max_running=5) is None  # not due yet
    assert [e.action for e in audit.audit_entries(ledger)][-1] == "job.failed"


def test_retry_delays_grow_and_are_capped() -> None:
    retry = Backoff.exponential(2.0, cap=10.0, tries=10, jitter=0.5)
    for tries, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (9, 10.0)]:
        delays = [retry.delay(tries) for _ in range(50)]
        assert all(ceiling <= d <= ceiling * 1.5 for d in delays)


def test_a_failure_is_superseded_when_a_newer_job_waits(ledger: Ledger) -> None:
    strategy = new_id()
    first, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    newer, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    failed = ledger_jobs.fail(ledger, first, "w1", "timeout", retryable=True, retry=JOBS)
    assert failed.state is JobState.SUPERSEDED and failed.finished_at is not None
    assert ledger_jobs.job_counts(ledger) == {"superseded": 1, "waiting": 1}
    due = ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    assert due is not None and due.id == newer


def test_a_job_dies_after_max_tries_and_at_once_when_not_retryable(ledger: Ledger) -> None:
    strategy = new_id()
    job_id, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    states = []
    for _ in range(NO_RETRY_WAIT.max_tries):
        job = wait_for(
            lambda: ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5), what="retry"
        )
        assert job.id == job_id
        states.append(
            ledger_jobs.fail(ledger, job_id, "w1", "503", retryable=True, retry=NO_RETRY_WAIT).state
        )
    assert states == [JobState.WAITING, JobState.WAITING, JobState.DEAD]
    dead = ledger_jobs.get_job(ledger, job_id)
    assert dead is not None and (dead.tries, dead.last_error) == (3, "503")
    assert ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5) is None

    other, _ = ledger_jobs.enqueue(ledger, new_id(), "flow", reason="event")
    ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    final = ledger_jobs.fail(
        ledger, other, "w1", "404 not found", retryable=False, retry=NO_RETRY_WAIT
    )
    assert (final.state, final.tries) == (JobState.DEAD, 1)
    deaths = [e for e in audit.audit_entries(ledger) if e.action == "job.dead"]
    assert [(e.detail["jobId"], e.detail["tries"]) for e in deaths] == [(job_id, 3), (other, 1)]
    assert deaths[1].detail["error"] == "404 not found"


def test_a_dead_strategy_can_be_queued_again(ledger: Ledger) -> None:
    strategy = new_id()
    job_id, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    ledger_jobs.fail(ledger, job_id, "w1", "gone", retryable=False, retry=JOBS)
    again, joined = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="sweep")
    assert again != job_id and joined is False


def test_list_jobs_filters_and_orders_newest_first(ledger: Ledger) -> None:
    a, b = new_id(), new_id()
    first, _ = ledger_jobs.enqueue(ledger, a, ROUTING, reason="event")
    second, _ = ledger_jobs.enqueue(ledger, b, "flow", reason="sweep")
    assert [j.id for j in ledger_jobs.list_jobs(ledger)] == [second, first]
    assert [j.id for j in ledger_jobs.list_jobs(ledger, strategy_id=a)] == [first]
    assert [j.id for j in ledger_jobs.list_jobs(ledger, state="running")] == []
    view = present.job(ledger_jobs.list_jobs(ledger, strategy_id=b)[0])
    assert view["jobId"] == second and view["state"] == "waiting"
    assert view["sourceType"] == "flow" and view["reason"] == "sweep"


def test_claim_sweep_is_won_once_per_interval_across_connections(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as one, Ledger(tmp_path / "l.db") as two:
        assert ledger_jobs.claim_sweep(one, 3600) is True
        assert ledger_jobs.claim_sweep(two, 3600) is False
        assert ledger_jobs.claim_sweep(one, 3600) is False
        wins = [ledger_jobs.claim_sweep(one, 0.3), ledger_jobs.claim_sweep(two, 0.3)]
        assert wins == [False, False]  # the last sweep is younger than 0.3 s
        winner = wait_for(
            lambda: ledger_jobs.claim_sweep(two, 0.3) and "two", what="the next interval"
        )
        assert winner == "two"
        assert ledger_jobs.claim_sweep(one, 0.3) is False


# Two processes claiming from one queue ----------------------------------------------------


def _claimer(
    path: str,
    owner: str,
    max_running: int,
    quota: int,
    ready: Any,
    go: Any,
    running: Any,
    peak: Any,
    claimed: Any,
) -> None:
    """Claim up to ``max_running`` jobs, hold them a moment, complete them; repeat (child).

    Each process stops after ``quota`` jobs, so that both must take part.
    """
    with Ledger(Path(path)) as ledger:
        ready.put(owner)
        go.wait(60)
        deadline = time.monotonic() + 60
        done = 0
        while done < quota and time.monotonic() < deadline:
            held = []
            while len(held) < max_running and done + len(held) < quota:
                job = ledger_jobs.claim(ledger, owner, lease_seconds=60, max_running=max_running)
                if job is None:
                    break
                # counted from the claim's commit to just before completion: never more than
                # the ledger holds as running, so a peak over the limit is a real breach
                with running.get_lock():
                    running.value += 1
                    peak.value = max(peak.value, running.value)
                claimed.put(job.id)
                held.append(job)
            if not held:
                counts = ledger_jobs.job_counts(ledger)
                if not counts.get("waiting") and not counts.get("running"):
                    return
                continue
            time.sleep(0.005)
            for job in held:
                with running.get_lock():
                    running.value -= 1
                ledger_jobs.complete(ledger, job.id, owner, {"by": owner})
                done += 1


def test_two_processes_never_claim_one_job_twice_nor_exceed_max_running(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    total, limit = 60, 3
    with Ledger(path) as ledger:
        queued = {
            ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="sweep")[0] for _ in range(total)
        }
    context = multiprocessing.get_context("spawn")
    ready, go = context.Queue(), context.Event()
    running, peak = context.Value("i", 0), context.Value("i", 0)
    claimed = context.Queue()
    processes = [
        context.Process(
            target=_claimer,
            args=(str(path), f"p{n}", limit, total // 2, ready, go, running, peak, claimed),
        )
        for n in range(2)
    ]
    for process in processes:
        process.start()
    assert {ready.get(timeout=60) for _ in processes} == {"p0", "p1"}
    go.set()
    ids = [claimed.get(timeout=30) for _ in range(total)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(ids) == len(set(ids)) == total
    assert set(ids) == queued
    assert 2 <= peak.value <= limit  # the limit was reached for, and held
    with Ledger(path) as ledger:
        assert ledger_jobs.job_counts(ledger) == {"done": total}
        owners = [
            job.result["by"] for job in ledger_jobs.list_jobs(ledger, limit=None) if job.result
        ]
        assert sorted(owners) == ["p0"] * (total // 2) + ["p1"] * (total // 2)


def expire(ledger: Ledger, job_id: str) -> None:
    """Let the job's lease run out now, as it does when its worker is killed."""
    ledger.db.execute("UPDATE jobs SET lease_until = 0 WHERE id = ?", [job_id])


def test_a_job_whose_worker_keeps_dying_dies_with_its_failed_event(ledger: Ledger) -> None:
    strategy = new_id()
    job_id, _ = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    limits = {"lease_seconds": 60, "max_running": 5, "max_tries": 2, "notify": ["hook"]}
    first = ledger_jobs.claim(ledger, "killed-1", **limits)
    assert first is not None and first.tries == 1
    expire(ledger, job_id)
    second = ledger_jobs.claim(ledger, "killed-2", **limits)
    assert second is not None and (second.id, second.tries) == (job_id, 2)
    expire(ledger, job_id)
    other, _ = ledger_jobs.enqueue(ledger, new_id(), "flow", reason="event")

    taken = ledger_jobs.claim(ledger, "w3", **limits)  # buries the spent job, then takes the next

    assert taken is not None and taken.id == other
    dead = ledger_jobs.get_job(ledger, job_id)
    assert dead is not None
    assert (dead.state, dead.tries, dead.lease_owner) == (JobState.DEAD, 2, None)
    assert dead.last_error == "the worker running it stopped (lease expired) on try 2 of 2"
    assert dead.finished_at is not None
    (death,) = [e for e in audit.audit_entries(ledger) if e.action == "job.dead"]
    assert death.detail == {"jobId": job_id, "tries": 2, "error": dead.last_error}
    (delivery,) = outbox.list_deliveries(ledger)
    assert (delivery.target, delivery.event_type) == ("hook", "strategy.archive.failed")
    assert json.loads(delivery.body)["data"] == {
        "strategyId": strategy,
        "sourceType": ROUTING,
        "jobId": job_id,
        "tries": 2,
        "error": dead.last_error,
    }
    assert audit.verify_audit(ledger)[1] is None


def test_an_expired_job_with_tries_left_is_still_taken_over(ledger: Ledger) -> None:
    job_id, _ = ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="event")
    ledger_jobs.claim(ledger, "killed", lease_seconds=60, max_running=5, max_tries=3)
    expire(ledger, job_id)
    taken = ledger_jobs.claim(ledger, "w2", lease_seconds=60, max_running=5, max_tries=3)
    assert taken is not None and (taken.id, taken.tries, taken.lease_owner) == (job_id, 2, "w2")
    assert outbox.list_deliveries(ledger) == []


def test_a_flow_and_a_routing_strategy_with_one_id_are_separate_jobs(ledger: Ledger) -> None:
    strategy = new_id()
    flow_job, flow_joined = ledger_jobs.enqueue(ledger, strategy, "flow", reason="event")
    routing_job, routing_joined = ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="admin")
    assert flow_job != routing_job
    assert (flow_joined, routing_joined) == (False, False)
    assert ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="sweep") == (routing_job, True)
    routing = ledger_jobs.get_job(ledger, routing_job)
    assert routing is not None and routing.source_type == ROUTING
    # the sweep remembers both source types of the id
    assert sorted(ledger_jobs.known_strategies(ledger)) == sorted(
        [(strategy, "flow"), (strategy, ROUTING)]
    )
    # one running does not hold the other back
    claimed = {
        ledger_jobs.claim(ledger, f"w{n}", lease_seconds=60, max_running=5) for n in range(2)
    }
    assert {job.id for job in claimed if job} == {flow_job, routing_job}
    # a waiting job of the other source type does not supersede a failing one
    ledger_jobs.enqueue(ledger, strategy, ROUTING, reason="event")
    failed = ledger_jobs.fail(ledger, flow_job, "w0", "503", retryable=True, retry=JOBS)
    assert failed.state is JobState.WAITING


def test_leases_are_stored_as_unix_seconds(ledger: Ledger) -> None:
    job_id, _ = ledger_jobs.enqueue(ledger, new_id(), ROUTING, reason="event")
    before = time.time()
    ledger_jobs.claim(ledger, "w1", lease_seconds=60, max_running=5)
    kind, value = ledger.db.execute(
        "SELECT typeof(lease_until), lease_until FROM jobs WHERE id = ?", [job_id]
    ).fetchone()
    assert kind == "real" and before + 59 <= value <= time.time() + 60


def test_migrating_a_ledger_keeps_leases_and_every_queued_source_type(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    strategy, routing_only = new_id(), new_id()
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    MIGRATIONS.apply(db, stop_before="0004_job_keys_numeric_leases")
    conn.executescript(
        f"""
        INSERT INTO strategies (id, source_type, first_seen_at) VALUES
            ('{strategy}', 'flow', '2026-01-01T00:00:00.000Z'),
            ('{routing_only}', 'routing-strategy', '2026-01-01T00:00:00.000Z');
        INSERT INTO jobs (id, strategy_id, source_type, state, reason, run_at, created_at,
            lease_owner, lease_expires_at, tries) VALUES
            ('j1', '{strategy}', 'flow', 'running', 'event', '2026-01-01T00:00:00.000Z',
             '2026-01-01T00:00:00.000Z', 'w1', '2026-01-01T00:01:00.500Z', 1),
            ('j2', '{strategy}', 'routing-strategy', 'done', 'admin', '2026-01-02T00:00:00.000Z',
             '2026-01-02T00:00:00.000Z', NULL, NULL, 1),
            ('j3', '{routing_only}', 'flow', 'dead', 'admin', '2026-01-02T00:00:00.000Z',
             '2026-01-02T00:00:00.000Z', NULL, NULL, 1);
        """
    )
    conn.close()
    with Ledger(path) as ledger:
        running = ledger_jobs.get_job(ledger, "j1")
        assert running is not None and running.lease_owner == "w1"
        assert running.lease_until == datetime(2026, 1, 1, 0, 1, 0, 500000, UTC).timestamp()
        # the routing strategy queued for a flow's id before was lost; a dead one stays out
        assert sorted(ledger_jobs.known_strategies(ledger)) == sorted(
            [(strategy, "flow"), (strategy, ROUTING), (routing_only, ROUTING)]
        )
