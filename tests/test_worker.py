"""The worker in this process: real threads, a real ledger file, the simulator as Genesys."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from service.archive import Archiver
from service.archive.job import describe, is_retryable
from service.archive.submit import ArchivalClient
from service.backoff import Backoff
from service.clock import iso, parse_iso, utcnow
from service.config import Settings, load_settings
from service.errors import (
    ConfigError,
    LedgerError,
    StorageError,
    UpstreamError,
    UsageError,
    ValidationFailed,
)
from service.genesys.client import GenesysClient
from service.ledger import IncomingEvent, Job, JobState, Ledger, archives
from service.ledger import audit as ledger_audit
from service.ledger import events as ledger_events
from service.ledger import jobs as ledger_jobs
from service.simulator import DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from service.sweep import sweep_known
from service.worker import Worker
from tests.helpers import WORKER_TUNING, make_settings, running_worker, wait_for


def job_in(ledger: Ledger, job_id: str, *states: JobState) -> Job | None:
    job = ledger_jobs.get_job(ledger, job_id)
    return job if job is not None and job.state in states else None


@contextmanager
def fast_genesys_retries(settings: Settings, ledger: Ledger) -> Iterator[Archiver]:
    """``open_archiver`` with a Genesys client that gives up after two quick tries."""
    genesys = GenesysClient.from_settings(
        settings,
        retry=Backoff.exponential(0.01, cap=30.0, tries=2, full_jitter=True, max_retry_after=180.0),
    )
    archival = ArchivalClient.from_settings(settings)
    try:
        yield Archiver(settings, ledger, genesys, archival)
    finally:
        genesys.close()
        if archival:
            archival.close()


def test_a_queued_job_runs_end_to_end(simulator: SimulatorServer, tmp_path: Path) -> None:
    settings = make_settings(simulator, tmp_path, **WORKER_TUNING)
    with Ledger(settings.archiver_db) as ledger:
        job_id, _ = ledger_jobs.enqueue(
            ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event"
        )
        with running_worker(Worker(settings)):
            job = wait_for(lambda: job_in(ledger, job_id, JobState.DONE), what="job done")
        (archive,) = archives.list_archives(ledger)
        assert archive.strategy_id == DEMO_STRATEGY_ID
        assert (settings.archive_dir / archive.location).is_file()
        assert job.tries == 1 and job.result is not None
        assert job.result["archiveId"] == archive.id
        assert job.result["versionCount"] == len(archive.version_ids) > 0
        assert job.result["created"] is True
        actions = [e.action for e in ledger_audit.audit_entries(ledger, subject=DEMO_STRATEGY_ID)]
        assert actions == ["job.queued", "job.started", "archive.stored", "job.done"]


def test_a_genesys_404_job_goes_dead_at_once(simulator: SimulatorServer, tmp_path: Path) -> None:
    settings = make_settings(simulator, tmp_path, **WORKER_TUNING)
    missing = str(uuid.uuid4())
    with Ledger(settings.archiver_db) as ledger:
        job_id, _ = ledger_jobs.enqueue(ledger, missing, "flow", reason="event")
        with running_worker(Worker(settings)):
            job = wait_for(lambda: job_in(ledger, job_id, JobState.DEAD), what="job dead")
        assert job.tries == 1
        assert job.last_error is not None and "404" in job.last_error
        assert archives.list_archives(ledger) == []
        (dead,) = [
            e for e in ledger_audit.audit_entries(ledger, subject=missing) if e.action == "job.dead"
        ]
        assert dead.detail["jobId"] == job_id


def test_a_retryable_failure_is_retried_later_and_then_succeeds(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(simulator, tmp_path, **WORKER_TUNING)
    versions = f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions"
    simulator.state.inject_fault(503, times=2, path=versions)  # both tries of the first run
    with Ledger(settings.archiver_db) as ledger:
        job_id, _ = ledger_jobs.enqueue(
            ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event"
        )
        with running_worker(Worker(settings, archiver_factory=fast_genesys_retries)):
            job = wait_for(lambda: job_in(ledger, job_id, JobState.DONE), what="job done")
        assert job.tries == 2
        assert job.last_error is not None and "503" in job.last_error
        entries = [e for e in ledger_audit.audit_entries(ledger, subject=DEMO_STRATEGY_ID)]
        actions = [e.action for e in entries if e.action.startswith("job.")]
        assert actions == ["job.queued", "job.started", "job.failed", "job.started", "job.done"]
        failed, retried = entries[2], entries[3]
        assert failed.action == "job.failed" and retried.action == "job.started"
        # the retry waited for its delay (0.1 s base, up to 50 % jitter)
        assert (parse_iso(retried.at) - parse_iso(failed.at)).total_seconds() >= 0.09
        assert len(archives.list_archives(ledger)) == 1


def test_a_lost_lease_drops_the_result(
    simulator: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.worker")
    with ArchivalSink() as sink:
        settings = make_settings(
            simulator,
            tmp_path,
            **{**WORKER_TUNING, "JOB_LEASE_SECONDS": "1"},
            ARCHIVAL_ENDPOINT=sink.url,
        )
        release = sink.state.hold_next(store_first=True)
        with Ledger(settings.archiver_db) as ledger:
            job_id, _ = ledger_jobs.enqueue(
                ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event"
            )
            with running_worker(Worker(settings)):
                assert sink.state.held.wait(20), "the job never reached the endpoint"
                # Another worker takes the job over, as if this one had stalled past its lease.
                ledger.db.execute(
                    "UPDATE jobs SET lease_until = 946684800.0 WHERE id = ?",  # in 2000
                    [job_id],
                )
                taken = ledger_jobs.claim(ledger, "intruder", lease_seconds=60, max_running=5)
                assert taken is not None and taken.id == job_id
                release.set()
                wait_for(
                    lambda: any("result dropped" in r.getMessage() for r in caplog.records),
                    what="the worker to drop its result",
                )
            job = ledger_jobs.get_job(ledger, job_id)
            assert job is not None
            assert (job.state, job.lease_owner, job.tries) == (JobState.RUNNING, "intruder", 2)
            assert [
                e.action for e in ledger_audit.audit_entries(ledger) if e.action == "job.done"
            ] == []


def test_the_worker_sweeps_known_strategies_every_interval(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(
        simulator, tmp_path, **{**WORKER_TUNING, "SWEEP_INTERVAL_SECONDS": "1"}
    )
    with Ledger(settings.archiver_db) as ledger:
        first, _ = ledger_jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        claimed = ledger_jobs.claim(ledger, "setup", lease_seconds=60, max_running=1)
        assert claimed is not None
        ledger_jobs.complete(ledger, first, "setup", {})
        worker = Worker(settings)
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:

            def sweep_jobs_done() -> list[Job]:
                jobs = ledger_jobs.list_jobs(ledger, strategy_id=DEMO_STRATEGY_ID, state="done")
                swept = [j for j in jobs if j.reason == "sweep"]
                return swept if len(swept) >= 2 else []

            swept = wait_for(sweep_jobs_done, what="two sweeps")
        finally:
            worker.stop()
            thread.join(timeout=30)
        assert not thread.is_alive()
        newest, older = swept[0], swept[1]
        gap = parse_iso(newest.created_at) - parse_iso(older.created_at)
        assert gap.total_seconds() >= 0.95  # one sweep per interval
        assert len(archives.list_archives(ledger)) == 1  # nothing new to archive after the first


def test_stopping_lets_the_job_in_hand_finish_and_claims_no_more(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    with ArchivalSink() as sink:
        settings = make_settings(simulator, tmp_path, **WORKER_TUNING, ARCHIVAL_ENDPOINT=sink.url)
        release = sink.state.hold_next()
        other = simulator.state.add_strategy("routing-strategy", versions=1)
        with Ledger(settings.archiver_db) as ledger:
            first, _ = ledger_jobs.enqueue(
                ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event"
            )
            second, _ = ledger_jobs.enqueue(ledger, other, "routing-strategy", reason="event")
            worker = Worker(settings)
            worker.start()
            assert sink.state.held.wait(20), "the job never reached the endpoint"
            worker.stop()
            release.set()
            worker.join()
            assert job_in(ledger, first, JobState.DONE)
            assert job_in(ledger, second, JobState.WAITING)


def test_worker_settings_defaults_and_checks() -> None:
    defaults = load_settings({})
    assert defaults.worker_threads is None
    assert defaults.worker_thread_count == defaults.max_concurrent_archives == 5
    assert (defaults.worker_poll_seconds, defaults.job_lease_seconds) == (1.0, 60.0)
    assert (defaults.job_max_tries, defaults.job_retry_base_seconds) == (5, 30.0)
    tuned = load_settings(
        {"WORKER_THREADS": "3", "MAX_CONCURRENT_ARCHIVES": "2", "JOB_RETRY_BASE_SECONDS": "0.1"}
    )
    assert (tuned.worker_thread_count, tuned.job_retry_base_seconds) == (3, 0.1)
    retry = Worker(load_settings({"JOB_MAX_TRIES": "7", "JOB_RETRY_BASE_SECONDS": "2"})).retry
    assert (retry.max_tries, retry.delays[0]) == (7, 2.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WORKER_THREADS": "0"}, "WORKER_THREADS is invalid: must be at least 1"),
        ({"WORKER_THREADS": "two"}, "WORKER_THREADS is invalid: must be a whole number"),
        ({"WORKER_POLL_SECONDS": "0"}, "WORKER_POLL_SECONDS is invalid: must be at least 0.01"),
        ({"WORKER_POLL_SECONDS": "nan"}, "WORKER_POLL_SECONDS is invalid: must be a number"),
        ({"JOB_LEASE_SECONDS": "0.5"}, "JOB_LEASE_SECONDS is invalid: must be at least 1"),
        ({"JOB_LEASE_SECONDS": "inf"}, "JOB_LEASE_SECONDS is invalid: must be a number"),
        ({"JOB_MAX_TRIES": "0"}, "JOB_MAX_TRIES is invalid: must be at least 1"),
        ({"JOB_RETRY_BASE_SECONDS": "-1"}, "JOB_RETRY_BASE_SECONDS is invalid: must be at least 0"),
    ],
)
def test_bad_worker_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (UpstreamError("503 kept failing", status=503, retryable=True), True),
        (UpstreamError("429 slow down", status=429, retryable=True), True),
        (UpstreamError("404 not found", status=404), False),
        (UpstreamError("422 refused", status=422), False),
        (ValidationFailed("Genesys flow", {"id": ["required field"]}), False),
        (UsageError("strategy id must be a UUID"), False),
        (ConfigError("GENESYS_CLIENT_ID is required"), False),
        (LedgerError("database is locked"), True),
        (StorageError("disk full"), True),
        (ConnectionError("connection reset"), True),
        (RuntimeError("unforeseen"), True),
    ],
)
def test_retryable_is_decided_from_the_error(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_errors_are_described_on_one_line() -> None:
    assert (
        describe(UpstreamError("GET /x answered\n404  not found"))
        == "GET /x answered 404 not found"
    )
    assert describe(KeyError("id")) == "KeyError: 'id'"
    assert describe(RuntimeError()) == "RuntimeError"


def test_the_worker_empties_old_event_bodies_and_keeps_rows_and_recent_ones(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(simulator, tmp_path, **WORKER_TUNING, EVENT_RETENTION_DAYS="7")
    assert settings.event_retention_days == 7
    with Ledger(settings.archiver_db) as ledger:
        events = [
            IncomingEvent(
                dedup_key=f"heartbeat|{n}",
                topic="v2.flows.x",
                body=f'{{"n":{n}}}',
                source_type="flow",
                ignore_reason="test",
            )
            for n in range(4)
        ]
        ledger_events.accept_events(ledger, events)
        for n, days in [(0, 8), (1, 30), (2, 6)]:
            ledger.db.execute(
                "UPDATE events SET received_at = ? WHERE dedup_key = ?",
                [iso(utcnow() - timedelta(days=days)), f"heartbeat|{n}"],
            )
        audit = ledger_audit.audit_entries(ledger)
        worker = Worker(settings)
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:

            def bodies() -> dict[str, str] | None:
                found = {
                    e["dedup_key"]: e["body"] for e in ledger_events.list_events(ledger, limit=None)
                }
                return found if found["heartbeat|0"] == "" else None

            kept = wait_for(bodies, timeout=10, what="the worker to prune old bodies")
        finally:
            worker.stop()
            thread.join(timeout=30)
        assert kept == {
            "heartbeat|0": "",
            "heartbeat|1": "",
            "heartbeat|2": '{"n":2}',
            "heartbeat|3": '{"n":3}',
        }
        assert ledger_audit.audit_entries(ledger) == audit
        assert ledger_audit.verify_audit(ledger) == (len(audit), None)


def test_event_retention_days_is_checked() -> None:
    assert load_settings({}).event_retention_days == 30
    assert load_settings({"EVENT_RETENTION_DAYS": "0"}).event_retention_days == 0  # forever
    for bad, why in [("-1", "must be at least 0"), ("a month", "must be a whole number")]:
        with pytest.raises(ConfigError) as raised:
            load_settings({"EVENT_RETENTION_DAYS": bad})
        assert str(raised.value) == f"EVENT_RETENTION_DAYS is invalid: {why} (got {bad!r})"


def test_the_sweep_queues_every_source_type_of_an_id(tmp_path: Path) -> None:
    shared = str(uuid.uuid4())
    with Ledger(tmp_path / "ledger.db") as ledger:
        for source_type in ("flow", "routing-strategy"):
            job_id, _ = ledger_jobs.enqueue(ledger, shared, source_type, reason="admin")
            claimed = ledger_jobs.claim(ledger, "setup", lease_seconds=60, max_running=5)
            assert claimed is not None and claimed.id == job_id
            ledger_jobs.complete(ledger, job_id, "setup", {})
        result = sweep_known(ledger)
        assert (result.queued, result.joined) == (2, 0)
        waiting = ledger_jobs.list_jobs(ledger, state="waiting")
        assert sorted(j.source_type for j in waiting) == ["flow", "routing-strategy"]
