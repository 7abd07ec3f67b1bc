"""``archiver worker`` and ``archiver sweep`` as real processes: killed, stopped, side by side."""

from __future__ import annotations

import json
import os
import signal
import time
from functools import partial
from pathlib import Path

import pytest

from service.ledger import (
    DeliveryState,
    JobState,
    Ledger,
    Submission,
    archives,
    audit,
    jobs,
    outbox,
)
from service.simulator import DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from service.simulator.receivers import WebhookReceiver
from tests.helpers import WORKER_TUNING, archiver, cli_env, wait_for
from tests.processes import Process, workers

WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def job_state(path: Path, job_id: str) -> JobState | None:
    with Ledger(path) as ledger:
        job = jobs.get_job(ledger, job_id)
        return job.state if job else None


def running_in(worker: Process, path: Path, job_id: str, tries: int) -> bool:
    """Whether ``worker`` (alive) holds the job, on its ``tries``-th try."""
    assert worker.alive(), worker.output
    with Ledger(path) as ledger:
        job = jobs.get_job(ledger, job_id)
    assert job is not None
    return job.tries == tries and f":{worker.pid}:" in (job.lease_owner or "")


def job_actions(ledger: Ledger) -> list[tuple[str, str | None]]:
    """(action, strategy) of every job.* audit entry, in commit order."""
    return [
        (e.action, e.subject) for e in audit.audit_entries(ledger) if e.action.startswith("job.")
    ]


@pytest.mark.parametrize("endpoint_stored_it", [False, True], ids=["lost", "stored-unanswered"])
def test_a_worker_killed_mid_job_is_finished_once_by_another(
    simulator: SimulatorServer, tmp_path: Path, endpoint_stored_it: bool
) -> None:
    db = tmp_path / "ledger.db"
    with ArchivalSink() as sink:
        tuning = {**WORKER_TUNING, "JOB_LEASE_SECONDS": "2"}
        env = cli_env(simulator, tmp_path, **tuning, ARCHIVAL_ENDPOINT=sink.url)
        with Ledger(db) as ledger:
            job_id, _ = jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        release = sink.state.hold_next(store_first=endpoint_stored_it)
        with workers(env, tmp_path) as (victim,):
            while not sink.state.held.wait(0.05):
                assert victim.alive(), victim.output
            with Ledger(db) as ledger:
                (pending,) = archives.pending_submissions(ledger)
                job = jobs.get_job(ledger, job_id)
                assert job is not None and job.state is JobState.RUNNING
                assert f":{victim.process.pid}:" in (job.lease_owner or "")
            victim.kill()
            release.set()
        assert victim.process.returncode == -signal.SIGKILL

        with workers(env, tmp_path) as (successor,):
            wait_for(lambda: job_state(db, job_id) is JobState.DONE, what="the job to finish")
            assert successor.terminate() == 0, successor.output

        document = (tmp_path / "archive" / pending.location).read_bytes()
        assert sink.state.stored == {pending.idempotency_key: document}
        accepted = sorted(r.status for r in sink.state.received if r.status in (201, 409))
        assert accepted == ([201, 409] if endpoint_stored_it else [201])
        with Ledger(db) as ledger:
            (archive,) = archives.list_archives(ledger)
            assert archive.id == pending.id
            assert archive.submission is Submission.SUBMITTED
            job = jobs.get_job(ledger, job_id)
            assert job is not None and job.tries == 2  # taken over once the lease ran out
            assert job.result is not None and job.result["finishedEarlier"] == [archive.id]
        assert len(list((tmp_path / "archive").rglob("*.json"))) == 1


def test_sigterm_finishes_the_job_in_hand_then_exits_0(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    other = simulator.state.add_strategy("routing-strategy", versions=2)
    with ArchivalSink() as sink:
        env = cli_env(simulator, tmp_path, **WORKER_TUNING, ARCHIVAL_ENDPOINT=sink.url)
        with Ledger(db) as ledger:
            first, _ = jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
            second, _ = jobs.enqueue(ledger, other, "routing-strategy", reason="event")
        release = sink.state.hold_next()
        with workers(env, tmp_path) as (worker,):
            while not sink.state.held.wait(0.05):
                assert worker.alive(), worker.output
            worker.process.send_signal(signal.SIGTERM)
            wait_for(lambda: "stopping" in worker.output, what="the worker to take the signal")
            assert job_state(db, first) is JobState.RUNNING
            release.set()
            assert worker.process.wait(timeout=30) == 0, worker.output
        assert job_state(db, first) is JobState.DONE
        assert job_state(db, second) is JobState.WAITING  # never claimed
        assert len(sink.state.stored) == 1
        assert f"job {first} done" in worker.output
        assert f"job {second}" not in worker.output


def test_a_second_sigterm_exits_at_once_in_one_clean_line(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    """The handlers never log (a signal may land inside a log call: "reentrant call"); the
    worker says it is stopping once, from its main thread, and the second signal leaves at
    once with one line, the job's lease handing it to another worker later."""
    db = tmp_path / "ledger.db"
    with ArchivalSink() as sink:
        env = cli_env(simulator, tmp_path, **WORKER_TUNING, ARCHIVAL_ENDPOINT=sink.url)
        with Ledger(db) as ledger:
            job_id, _ = jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        release = sink.state.hold_next()
        try:
            with workers(env, tmp_path) as (worker,):
                while not sink.state.held.wait(0.05):
                    assert worker.alive(), worker.output
                worker.process.send_signal(signal.SIGTERM)
                wait_for(lambda: "stopping" in worker.output, what="the worker to take the signal")
                worker.process.send_signal(signal.SIGTERM)
                assert worker.process.wait(timeout=30) == 1, worker.output
                output = worker.output
        finally:
            release.set()
    assert "archiver worker: second SIGTERM, exiting now" in output
    assert output.count("stopping: finishing the jobs") == 1
    assert "Logging error" not in output and "reentrant" not in output
    assert job_state(db, job_id) is JobState.RUNNING  # its lease hands it to another worker


def test_the_concurrency_limit_holds_across_worker_processes(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    simulator.state.latency = 0.15  # three calls a job: about half a second each
    strategies = [simulator.state.add_strategy("routing-strategy", versions=2) for _ in range(6)]
    env = cli_env(simulator, tmp_path, **{**WORKER_TUNING, "WORKER_THREADS": "2"})
    env["MAX_CONCURRENT_ARCHIVES"] = "2"
    with Ledger(db) as ledger, workers(env, tmp_path, count=2) as both:
        # four threads in two processes, all hungry before any job is queued
        wait_for(lambda: all("2 thread(s)" in w.output for w in both), what="both workers")
        for strategy in strategies:
            jobs.enqueue(ledger, strategy, "routing-strategy", reason="sweep")
        seen = []
        deadline = time.monotonic() + 60
        while (counts := jobs.job_counts(ledger)).get("done", 0) < 6:
            seen.append(counts.get("running", 0))
            assert time.monotonic() < deadline, [w.output for w in both]
            time.sleep(0.01)
        assert [w.terminate() for w in both] == [0, 0]
        assert max(seen) == 2  # reached, never passed
        # the audit log is in commit order: replaying it gives the exact number running
        running = peak = 0
        for action, _ in job_actions(ledger):
            running += {"job.started": 1, "job.done": -1}.get(action, 0)
            peak = max(peak, running)
        assert peak == 2
        assert jobs.job_counts(ledger) == {"done": 6}
        assert len(archives.list_archives(ledger)) == 6


def test_two_workers_never_archive_one_strategy_at_once(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    simulator.state.latency = 0.03
    env = cli_env(simulator, tmp_path, **{**WORKER_TUNING, "WORKER_THREADS": "2"})
    with Ledger(db) as ledger, workers(env, tmp_path, count=2) as both:
        queued = set()
        until = time.monotonic() + 3
        while time.monotonic() < until:
            simulator.state.add_versions(DEMO_STRATEGY_ID)
            queued.add(
                jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")[0]
            )
            time.sleep(0.05)
        wait_for(lambda: set(jobs.job_counts(ledger)) == {"done"}, what="every job to finish")
        assert [w.terminate() for w in both] == [0, 0]
        done = jobs.list_jobs(ledger, strategy_id=DEMO_STRATEGY_ID, limit=None)
        assert {job.id for job in done} == queued
        assert len(queued) >= 3  # jobs really queued behind running ones
        # in commit order, each start of this strategy is followed by its end before the next
        actions = [a for a, subject in job_actions(ledger) if subject == DEMO_STRATEGY_ID]
        lifecycle = [a for a in actions if a in ("job.started", "job.done")]
        assert lifecycle == ["job.started", "job.done"] * len(queued)
        # every version made was archived, each exactly once
        archived = [v for a in archives.list_archives(ledger) for v in a.version_ids]
        assert len(archived) == len(set(archived))


def test_sweep_queues_a_job_for_every_known_strategy(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    empty = archiver("sweep", env=env, cwd=tmp_path)
    assert (empty.returncode, empty.stderr) == (0, "")
    assert empty.stdout == "sweep: 0 strategies, 0 job(s) queued, 0 joined a waiting job\n"
    with Ledger(tmp_path / "ledger.db") as ledger:
        done, _ = jobs.enqueue(
            ledger, simulator.state.strategy_ids("flow")[0], "flow", reason="event"
        )
        jobs.claim(ledger, "w", lease_seconds=60, max_running=5)
        jobs.complete(ledger, done, "w", {})
        jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")  # waiting
    result = archiver("sweep", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "sweep: 2 strategies, 1 job(s) queued, 1 joined a waiting job\n"
    assert simulator.state.requests == []  # without --discover, Genesys is not called
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert jobs.job_counts(ledger) == {"done": 1, "waiting": 2}
        swept = [j for j in jobs.list_jobs(ledger, state="waiting") if j.reason == "sweep"]
        assert len(swept) == 1


def test_sweep_discover_queues_every_flow_and_routing_strategy(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    flows = simulator.state.strategy_ids("flow")
    routing = simulator.state.strategy_ids("routing-strategy")
    env = cli_env(simulator, tmp_path, SOURCES="flow,routing-strategy")  # the others: elsewhere
    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    total = len(flows) + len(routing)
    assert result.stdout.splitlines() == [
        f"discovered {len(flows)} flow(s) and {len(routing)} routing strategy(ies)",
        f"sweep: {total} strategies, {total} job(s) queued, 0 joined a waiting job",
    ]
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert sorted(jobs.known_strategies(ledger)) == sorted(
            [(f, "flow") for f in flows] + [(r, "routing-strategy") for r in routing]
        )
        assert jobs.job_counts(ledger) == {"waiting": total}
    again = archiver("sweep", "--discover", env=env, cwd=tmp_path)
    assert again.stdout.splitlines()[-1] == (
        f"sweep: {total} strategies, 0 job(s) queued, {total} joined a waiting job"
    )


def test_sweep_discover_treats_a_404_strategy_listing_as_none(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.state.inject_fault(404, path="/api/v2/routing/strategies")  # as real Genesys
    flows = simulator.state.strategy_ids("flow")
    env = cli_env(simulator, tmp_path, SOURCES="flow,routing-strategy")
    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()[0]
        == f"discovered {len(flows)} flow(s) and 0 routing strategy(ies)"
    )
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert {source for _, source in jobs.known_strategies(ledger)} == {"flow"}


def test_sweep_discover_fails_with_1_or_2_as_the_contract_says(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    # Every listing refused (a failing listing is reported and the others go on).
    simulator.state.inject_fault(403, times=2, path="/api/v2/")
    env = cli_env(simulator, tmp_path, SOURCES="flow,routing-strategy")
    refused = archiver("sweep", "--discover", env=env, cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith("archiver: ") and "403" in refused.stderr
    del env["GENESYS_CLIENT_ID"]
    unconfigured = archiver("sweep", "--discover", env=env, cwd=tmp_path)
    assert unconfigured.returncode == 2
    assert "GENESYS_CLIENT_ID is required" in unconfigured.stderr
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert jobs.job_counts(ledger) == {}


def test_worker_exits_2_naming_a_bad_setting(simulator: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(simulator, tmp_path, JOB_LEASE_SECONDS="soon")
    result = archiver("worker", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "archiver: JOB_LEASE_SECONDS is invalid: must be a number (got 'soon')"
    )
    del env["JOB_LEASE_SECONDS"], env["GENESYS_CLIENT_SECRET"]
    result = archiver("worker", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "GENESYS_CLIENT_SECRET is required" in result.stderr


def test_a_job_whose_worker_keeps_being_killed_dies_after_its_tries(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    simulator.state.latency = 2.0  # every Genesys call: the job is always still running
    with WebhookReceiver(secret=WEBHOOK_SECRET) as receiver:
        env = cli_env(
            simulator,
            tmp_path,
            **{**WORKER_TUNING, "JOB_LEASE_SECONDS": "1", "JOB_MAX_TRIES": "2"},
            VCS_WEBHOOK_URLS=receiver.url,
            VCS_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        with Ledger(db) as ledger:
            job_id, _ = jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        for tries in (1, 2):
            with workers(env, tmp_path) as (victim,):
                wait_for(
                    partial(running_in, victim, db, job_id, tries),
                    what=f"try {tries} to run in the victim",
                )
                victim.kill()
            assert victim.process.returncode == -signal.SIGKILL
        with workers(env, tmp_path) as (last,):
            wait_for(
                lambda: job_state(db, job_id) is JobState.DEAD,
                timeout=15,
                what="the job to die",
                details=lambda: last.output,
            )
            receiver.wait_for(1, timeout=15)
            assert last.terminate() == 0, last.output
        with Ledger(db) as ledger:
            job = jobs.get_job(ledger, job_id)
            assert job is not None and job.tries == 2
            assert job.last_error == "the worker running it stopped (lease expired) on try 2 of 2"
            (delivery,) = outbox.list_deliveries(ledger, limit=None)
            assert (delivery.event_type, delivery.state) == (
                "strategy.archive.failed",
                DeliveryState.DELIVERED,
            )
            assert [a for a, _ in job_actions(ledger)].count("job.started") == 2
        (received,) = receiver.received
        sent = json.loads(received.body)
        assert sent["type"] == "strategy.archive.failed"
        assert (sent["data"]["jobId"], sent["data"]["tries"]) == (job_id, 2)


def niceness(pid: int) -> set[int]:
    """The niceness of every thread of process ``pid`` (Linux keeps one per thread)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        found.add(int(fields[16]))  # field 19 of stat: nice
    return found


def test_the_worker_runs_below_the_web_process_at_worker_nice(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    wanted = max(7, os.getpriority(os.PRIO_PROCESS, 0))  # a niced test run stays as it is
    env = cli_env(simulator, tmp_path, **WORKER_TUNING, WORKER_NICE=str(wanted))
    with workers(env, tmp_path) as (worker,):
        wait_for(lambda: "started" in worker.output, what="the worker to start")
        assert niceness(worker.pid) == {wanted}, worker.output
