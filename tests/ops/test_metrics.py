"""``GET /metrics`` in this process (single-process mode): what each part counts, the
ledger's gauges, and the names. Counters are this process's, shared by every test, so
each test compares a scrape after with a scrape before."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from service.archive.submit import ArchivalClient
from service.backoff import Backoff
from service.clock import iso, utcnow
from service.config import load_settings
from service.genesys.client import GenesysClient
from service.ledger import JobState, Ledger, Submission, archives, outbox
from service.ledger import jobs as ledger_jobs
from service.ops import multiprocess
from service.ops.metrics import (
    DELIVERY_KINDS,
    DELIVERY_OUTCOMES,
    GENESYS_OUTCOMES,
    JOB_OUTCOMES,
    SUBMISSION_OUTCOMES,
    WEBHOOK_RESULTS,
)
from service.simulator import DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from service.simulator.receivers import FakeGitHub, WebhookReceiver
from service.worker import Worker
from tests.helpers import INBOUND_TOKEN, make_settings, wait_for
from tests.outbound.events import SECRET

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
STANDARD_PREFIXES = ("process_", "python_")
FAST_RETRY = Backoff.exponential(0.01, cap=0.02, tries=3, full_jitter=True, max_retry_after=180.0)


def scrape(client: FlaskClient) -> Samples:
    """Every sample of ``GET /metrics`` by name and labels."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    return samples(answer.get_data(as_text=True))


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def notification(strategy_id: str | None = None) -> dict[str, Any]:
    strategy_id = strategy_id or str(uuid.uuid4())
    return {
        "topicName": f"v2.routing.strategies.{strategy_id}",
        "version": "2",
        "eventBody": {"id": strategy_id},
        "metadata": {"CorrelationId": str(uuid.uuid4())},
    }


def post(client: FlaskClient, body: bytes | str, **headers: str) -> int:
    sent = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "application/json"}
    sent.update(headers)
    answer = client.post("/webhooks/genesys", data=body, headers=sent)
    return answer.status_code


@contextmanager
def refusing_url() -> Iterator[str]:
    """A 127.0.0.1 URL on which nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


# The web process -----------------------------------------------------------------------


def test_webhook_answers_are_counted_by_result_and_timed(client: FlaskClient) -> None:
    before = scrape(client)
    statuses = [
        post(client, json.dumps(notification())),
        post(client, json.dumps([notification(), notification()])),
        post(client, json.dumps(notification()), Authorization="Bearer wrong"),
        post(client, json.dumps(notification()), **{"Content-Type": "text/plain"}),
        post(client, b"x" * (1024 * 1024 + 1)),
        post(client, b"{not json"),
        post(client, b"{not json"),
        post(client, json.dumps({"topicName": 3})),
    ]
    assert statuses == [202, 202, 401, 415, 413, 400, 400, 422]
    after = scrape(client)

    counted = {
        result: delta(before, after, "archiver_webhook_requests_total", result=result)
        for result in WEBHOOK_RESULTS
    }
    assert counted == {
        "accepted": 2,
        "unauthorized": 1,
        "unsupported_media_type": 1,
        "too_large": 1,
        "bad_json": 2,
        "invalid": 1,
        "error": 0,
    }
    assert delta(before, after, "archiver_ingest_duration_seconds_count") == len(statuses)
    assert delta(before, after, "archiver_ingest_duration_seconds_sum") > 0
    buckets = sorted(
        (float(dict(labels)["le"]), found)
        for (name, labels), found in after.items()
        if name == "archiver_ingest_duration_seconds_bucket"
    )
    bounds = [bound for bound, _ in buckets]
    assert bounds[0] <= 0.001 and 5.0 in bounds and bounds[-1] == float("inf")
    counts = [found for _, found in buckets]
    assert counts == sorted(counts), "buckets are cumulative"
    assert counts[-1] == value(after, "archiver_ingest_duration_seconds_count")
    # A request answered in the test client takes far less than 5 s.
    assert value(after, "archiver_ingest_duration_seconds_bucket", le="5.0") == counts[-1]


def test_metrics_needs_no_auth_and_other_routes_are_not_counted(client: FlaskClient) -> None:
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/webhooks/genesys").status_code == 405
    answer = client.get("/metrics", headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 200
    after = samples(answer.get_data(as_text=True))
    assert sum(
        delta(before, after, name, **dict(labels))
        for name, labels in after
        if name.startswith(("archiver_webhook", "archiver_ingest"))
    ) == pytest.approx(0)


def test_ledger_gauges_follow_jobs_deliveries_and_archives(
    client: FlaskClient, tmp_path: Path
) -> None:
    empty = scrape(client)
    for name in (
        "archiver_jobs_waiting",
        "archiver_jobs_running",
        "archiver_outbox_backlog",
        "archiver_oldest_waiting_job_age_seconds",
        "archiver_last_archive_timestamp_seconds",
    ):
        assert (name, frozenset()) in empty and empty[(name, frozenset())] == 0, name

    with Ledger(tmp_path / "ledger.db") as ledger:
        first, _ = ledger_jobs.enqueue(ledger, str(uuid.uuid4()), "flow", reason="event")
        ledger_jobs.enqueue(ledger, str(uuid.uuid4()), "flow", reason="event")
        ledger_jobs.enqueue(ledger, str(uuid.uuid4()), "routing-strategy", reason="event")
        # The first was queued an hour ago.
        an_hour_ago = iso(utcnow() - timedelta(hours=1))
        with ledger.transaction() as db:
            db.execute("UPDATE jobs SET created_at = ? WHERE id = ?", [an_hour_ago, first])
        claimed = ledger_jobs.claim(ledger, "test-owner", lease_seconds=60, max_running=5)
        assert claimed is not None and claimed.id == first  # the oldest due job first
        with ledger.transaction():
            outbox.add_event(ledger, "strategy.archive.completed", None, {}, ["a", "b"])
        before_archive = time.time()
        key = str(uuid.uuid4())
        archives.record_archive(
            ledger,
            idempotency_key=key,
            strategy_id=claimed.strategy_id,
            source_type="flow",
            strategy_name="Main inbound",
            version_ids=["1.0"],
            archive_timestamp=iso(utcnow()),
            sha256="ab" * 32,
            size=10,
            location=f"flow/{claimed.strategy_id}/{key}.json",
            submission=Submission.LOCAL,
            notify=["a"],
        )
        after_archive = time.time()

    found = scrape(client)
    assert value(found, "archiver_jobs_waiting") == 2
    assert value(found, "archiver_jobs_running") == 1
    assert value(found, "archiver_outbox_backlog") == 3  # two deliveries, then one more
    # The oldest *waiting* job is one of the two queued just now, not the claimed one.
    assert 0 <= value(found, "archiver_oldest_waiting_job_age_seconds") < 60
    last = value(found, "archiver_last_archive_timestamp_seconds")
    assert before_archive - 0.01 <= last <= after_archive + 0.01

    with Ledger(tmp_path / "ledger.db") as ledger, ledger.transaction() as db:
        db.execute("UPDATE jobs SET created_at = ? WHERE state = 'waiting'", [an_hour_ago])
    aged = value(scrape(client), "archiver_oldest_waiting_job_age_seconds")
    assert 3600 <= aged < 3600 + 60


def test_names_follow_prometheus_conventions(client: FlaskClient, tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger_jobs.enqueue(ledger, str(uuid.uuid4()), "flow", reason="event")
    post(client, json.dumps(notification()))
    text = client.get("/metrics").get_data(as_text=True)
    families = list(text_string_to_metric_families(text))
    ours = [f for f in families if f.name.startswith("archiver_")]
    assert {f.name for f in ours} >= {
        "archiver_webhook_requests",
        "archiver_ingest_duration_seconds",
        "archiver_archive_job_duration_seconds",
        "archiver_archive_jobs",
        "archiver_genesys_requests",
        "archiver_archival_submissions",
        "archiver_deliveries",
        "archiver_jobs_waiting",
        "archiver_jobs_running",
        "archiver_outbox_backlog",
        "archiver_oldest_waiting_job_age_seconds",
        "archiver_last_archive_timestamp_seconds",
    }
    for family in families:
        for sample in family.samples:
            assert sample.name.startswith(("archiver_", *STANDARD_PREFIXES)), sample.name
            if family.type == "counter":
                assert sample.name.endswith("_total"), sample.name
            for label, shown in sample.labels.items():
                assert not UUID.search(shown), (sample.name, label, shown)
        if family.name.startswith("archiver_") and family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
    for family in ours:
        assert family.documentation, family.name
        labels = {label for s in family.samples for label in s.labels if label != "le"}
        assert labels <= {"result", "outcome", "kind"}, (family.name, labels)
    assert "_created" not in text  # the same series in both modes


# Genesys, the archival endpoint, the worker's jobs and deliveries ----------------------------


def test_genesys_calls_are_counted_by_outcome_429_included(
    client: FlaskClient, simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(simulator, tmp_path)
    path = f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}"
    before = scrape(client)
    with GenesysClient.from_settings(settings, retry=FAST_RETRY) as genesys:
        simulator.state.inject_fault(429, path=path, retry_after=0)
        simulator.state.inject_fault(503, path=path)
        genesys.get(path)
        simulator.state.inject_fault(404, path=path)
        with pytest.raises(Exception, match="404"):
            genesys.get(path)
    after = scrape(client)
    counted = {
        outcome: delta(before, after, "archiver_genesys_requests_total", outcome=outcome)
        for outcome in GENESYS_OUTCOMES
    }
    # ok: the token request and the third try of the first GET.
    assert counted == {
        "ok": 2,
        "rate_limited": 1,
        "unauthorized": 0,
        "client_error": 1,
        "server_error": 1,
        "network_error": 0,
    }


def test_a_genesys_network_error_is_counted(client: FlaskClient) -> None:
    with refusing_url() as url:
        genesys = GenesysClient(
            api_url=url, login_url=url, client_id="c", client_secret="s", retry=FAST_RETRY
        )
        before = scrape(client)
        with genesys, pytest.raises(Exception, match="kept failing"):
            genesys.get("/api/v2/flows")
    after = scrape(client)
    assert delta(before, after, "archiver_genesys_requests_total", outcome="network_error") == 3


def test_archival_submissions_are_counted_by_outcome(client: FlaskClient) -> None:
    key = str(uuid.uuid4())
    with ArchivalSink() as sink:
        archival = ArchivalClient(sink.url, retry=FAST_RETRY)
        before = scrape(client)
        sink.state.fail_next(503)
        sink.state.fail_next(429, retry_after=0)
        assert archival.submit(key, b'{"a": 1}').status == 201
        assert archival.submit(key, b'{"a": 1}').status == 409
        assert archival.submit(key, b'{"a": 2}').status == 422
        archival.close()
    with refusing_url() as url:
        refused = ArchivalClient(url, retry=FAST_RETRY)
        with pytest.raises(Exception, match="network error"):
            refused.submit(key, b"{}")
        refused.close()
    after = scrape(client)
    counted = {
        outcome: delta(before, after, "archiver_archival_submissions_total", outcome=outcome)
        for outcome in SUBMISSION_OUTCOMES
    }
    assert counted == {
        "accepted": 1,
        "conflict": 1,
        "rejected": 1,
        "retry": 2,
        "network_error": 3,
    }


def test_worker_jobs_and_deliveries_are_counted(
    client: FlaskClient, simulator: SimulatorServer, tmp_path: Path
) -> None:
    with WebhookReceiver(secret=SECRET) as hook, FakeGitHub(token="gh-token") as github:
        github_target = {
            "name": "gh",
            "type": "github",
            "repository": "owner/repo",
            "token": "gh-token",
            "baseUrl": github.url,
        }
        settings = make_settings(
            simulator,
            tmp_path,
            WORKER_THREADS="1",
            WORKER_POLL_SECONDS="0.05",
            JOB_LEASE_SECONDS="10",
            SWEEP_INTERVAL_SECONDS="0",
            VCS_WEBHOOK_URLS=hook.url,
            VCS_WEBHOOK_SECRET=SECRET,
            VCS_TARGETS=json.dumps([github_target]),
            VCS_RETRY_SCHEDULE="0.05,0.05,0.05",
        )
        hook.fail_next(500)  # the first try of the webhook delivery is retried
        before = scrape(client)
        worker = Worker(settings)
        with Ledger(settings.archiver_db) as ledger:
            done, _ = ledger_jobs.enqueue(
                ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event"
            )
            dead, _ = ledger_jobs.enqueue(ledger, str(uuid.uuid4()), "flow", reason="event")
            worker.start()
            try:
                for job_id, state in ((done, JobState.DONE), (dead, JobState.DEAD)):
                    wait_for(
                        lambda job_id=job_id, state=state: (
                            ledger_jobs.get_job(ledger, job_id).state is state
                        ),
                        what=f"job {job_id} {state}",
                    )
                # Each job's event, to each of the two targets; the webhook's first try fails.
                wait_for(lambda: outbox.outbox_backlog(ledger) == 0, what="every delivery made")
            finally:
                worker.stop()
                worker.join()
        after = scrape(client)

    jobs = {
        outcome: delta(before, after, "archiver_archive_jobs_total", outcome=outcome)
        for outcome in JOB_OUTCOMES
    }
    assert jobs == {
        "done": 1,
        "retry": 0,
        "superseded": 0,
        "dead": 1,
        "deleted": 0,
        "lease_lost": 0,
    }
    assert delta(before, after, "archiver_archive_job_duration_seconds_count") == 2
    assert delta(before, after, "archiver_archive_job_duration_seconds_sum") > 0
    assert delta(before, after, "archiver_genesys_requests_total", outcome="ok") >= 2
    assert delta(before, after, "archiver_genesys_requests_total", outcome="client_error") == 1
    deliveries = {
        (kind, outcome): delta(
            before, after, "archiver_deliveries_total", kind=kind, outcome=outcome
        )
        for kind in DELIVERY_KINDS
        for outcome in DELIVERY_OUTCOMES
    }
    assert {k: v for k, v in deliveries.items() if v} == {
        ("webhook", "retry"): 1,
        ("webhook", "delivered"): 2,
        ("github", "delivered"): 2,
    }
    assert value(after, "archiver_outbox_backlog") == 0
    assert value(after, "archiver_jobs_waiting") == 0


# Where the files go ----------------------------------------------------------------------


def test_metrics_dir_defaults_to_a_folder_beside_the_ledger(tmp_path: Path) -> None:
    settings = load_settings({"ARCHIVER_DB": str(tmp_path / "data" / "ledger.db")})
    assert settings.metrics_dir == tmp_path / "data" / "metrics"
    chosen = load_settings({"METRICS_DIR": str(tmp_path / "elsewhere")})
    assert chosen.metrics_dir == tmp_path / "elsewhere"
    assert load_settings({}).metrics_dir == Path("var/metrics")


def test_stale_files_are_those_of_processes_that_no_longer_run(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    for name in (
        f"counter_{dead_pid}.db",
        f"histogram_{dead_pid}.db",
        f"counter_{os.getpid()}.db",
        f"gauge_livesum_{os.getpid()}.db",
        "notes.txt",
    ):
        (tmp_path / name).write_bytes(b"")
    removed = multiprocess.remove_stale(tmp_path)
    assert sorted(p.name for p in removed) == [f"counter_{dead_pid}.db", f"histogram_{dead_pid}.db"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db", "notes.txt"]
    )


def test_the_folder_must_be_chosen_before_prometheus_client_is_imported(tmp_path: Path) -> None:
    # This process imported prometheus_client in single-process mode long ago.
    with pytest.raises(RuntimeError, match="imported before"):
        multiprocess.use_folder(tmp_path / "metrics")
    assert multiprocess.folder_in_use() is None
