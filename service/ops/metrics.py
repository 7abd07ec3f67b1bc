"""Every Prometheus metric of the service, and what ``GET /metrics`` answers.

Counters and histograms live in the process that counts; under gunicorn and
``archiver worker`` each process writes them to its own file in ``METRICS_DIR``
(``multiprocess.use_folder``) and a scrape adds up every file. Gauges about the
ledger are read from the ledger at scrape time instead, so that they are right
whichever process changed it. Label values come from short fixed lists, never ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from flask import Response, g
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from ..clock import parse_iso, utcnow
from ..genesys.sources import SOURCE_TYPES
from ..http import on_response
from ..ledger import gauges
from .multiprocess import folder_in_use

if TYPE_CHECKING:
    from ..ledger import Ledger

# No ``*_created`` series: multiprocess mode has none, and both modes should read the same.
disable_created_metrics()

WEBHOOK_RESULTS = (
    "accepted",
    "unauthorized",
    "unsupported_media_type",
    "too_large",
    "bad_json",
    "invalid",
    "error",
)
JOB_OUTCOMES = ("done", "retry", "superseded", "dead", "deleted", "lease_lost")
GENESYS_OUTCOMES = (
    "ok",
    "rate_limited",
    "unauthorized",
    "client_error",
    "server_error",
    "network_error",
)
SUBMISSION_OUTCOMES = ("accepted", "conflict", "rejected", "retry", "network_error")
DELIVERY_KINDS = ("webhook", "github", "gitlab", "git")
DELIVERY_OUTCOMES = ("delivered", "retry", "dead")

# The answer EventBridge waits for at most 5 s; a healthy one takes milliseconds.
INGEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# From an archive with nothing new (a few calls) to a flow with hundreds of versions.
JOB_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

WEBHOOK_REQUESTS = Counter(
    "archiver_webhook_requests_total",
    "Answers to POST /webhooks/genesys, by result.",
    ["result"],
)
INGEST_DURATION = Histogram(
    "archiver_ingest_duration_seconds",
    "Time to answer POST /webhooks/genesys, whatever the answer.",
    buckets=INGEST_BUCKETS,
)
ARCHIVE_JOB_DURATION = Histogram(
    "archiver_archive_job_duration_seconds",
    "Time one try of an archive job took, whatever its outcome.",
    buckets=JOB_BUCKETS,
)
ARCHIVE_JOBS = Counter(
    "archiver_archive_jobs_total",
    "Tries of archive jobs, by how they ended.",
    ["outcome"],
)
GENESYS_REQUESTS = Counter(
    "archiver_genesys_requests_total",
    "HTTP requests to Genesys Cloud (API and OAuth), each try counted, by outcome.",
    ["outcome"],
)
ARCHIVAL_SUBMISSIONS = Counter(
    "archiver_archival_submissions_total",
    "POSTs of archives to ARCHIVAL_ENDPOINT, each try counted, by outcome.",
    ["outcome"],
)
SKIPPED_VERSIONS = Counter(
    "archiver_skipped_versions_total",
    "Version entries left out of an archive run because they failed validation, by the kind"
    " of object (source type).",
    ["kind"],
)
DELIVERIES = Counter(
    "archiver_deliveries_total",
    "Delivery attempts of completion events, by target kind and the outcome recorded.",
    ["kind", "outcome"],
)
HISTORY_COMMITS = Counter(
    "archiver_history_commits_total",
    "Commits the history lane recorded (those a stopped run had made included).",
)
HISTORY_FAILURES = Counter(
    "archiver_history_failures_total",
    "Runs of the history lane that failed (the items wait for the next run).",
)

# Every series exists from the start, at 0, so that rates and alerts need no special case.
for _value in WEBHOOK_RESULTS:
    WEBHOOK_REQUESTS.labels(_value)
for _value in JOB_OUTCOMES:
    ARCHIVE_JOBS.labels(_value)
for _value in GENESYS_OUTCOMES:
    GENESYS_REQUESTS.labels(_value)
for _value in SUBMISSION_OUTCOMES:
    ARCHIVAL_SUBMISSIONS.labels(_value)
for _value in SOURCE_TYPES:
    SKIPPED_VERSIONS.labels(_value)
for _kind in DELIVERY_KINDS:
    for _value in DELIVERY_OUTCOMES:
        DELIVERIES.labels(_kind, _value)

_WEBHOOK_STATUS = {
    202: "accepted",
    401: "unauthorized",
    415: "unsupported_media_type",
    413: "too_large",
    400: "bad_json",
    422: "invalid",
}

# A job's state after a try, as the outcome of that try.
_JOB_STATES = {
    "done": "done",
    "waiting": "retry",
    "superseded": "superseded",
    "dead": "dead",
    "deleted": "deleted",
}


# Recording ---------------------------------------------------------------------------


def start_ingest_timer() -> None:
    """``before_request`` of the webhook blueprint: note when the request began."""
    g.archiver_ingest_started = time.perf_counter()


def count_webhook(response: Response) -> Response:
    """``after_request`` of the webhook blueprint: count the answer and time it."""
    started = g.pop("archiver_ingest_started", None)
    if started is not None:
        INGEST_DURATION.observe(time.perf_counter() - started)
    WEBHOOK_REQUESTS.labels(_WEBHOOK_STATUS.get(response.status_code, "error")).inc()
    return response


def count_genesys(status: int | None) -> None:
    """One try of a request to Genesys Cloud ended with ``status`` (None: no answer)."""
    if status is None:
        outcome = "network_error"
    elif status < 400:
        outcome = "ok"
    elif status == 429:
        outcome = "rate_limited"
    elif status == 401:
        outcome = "unauthorized"
    elif status < 500:
        outcome = "client_error"
    else:
        outcome = "server_error"
    GENESYS_REQUESTS.labels(outcome).inc()


def count_submission(status: int | None) -> None:
    """One POST to the archival endpoint ended with ``status`` (None: no answer)."""
    if status is None:
        outcome = "network_error"
    elif 200 <= status < 300:
        outcome = "accepted"
    elif status == 409:
        outcome = "conflict"
    elif status == 429 or status >= 500:
        outcome = "retry"
    else:
        outcome = "rejected"
    ARCHIVAL_SUBMISSIONS.labels(outcome).inc()


def install_hooks() -> None:
    """Count every answer of Genesys Cloud and of the archival endpoint, as their clients
    report them (``service.http.on_response``). Each process's wiring calls it: the web
    app, the worker and the command line; calling it again changes nothing."""
    on_response("genesys", count_genesys)
    on_response("archival", count_submission)


def observe_job(state: str | None, seconds: float) -> None:
    """One try of an archive job took ``seconds`` and left the job in ``state``.

    ``state`` is the job's state once the try is recorded; None: the lease was lost.
    """
    ARCHIVE_JOB_DURATION.observe(seconds)
    ARCHIVE_JOBS.labels(_JOB_STATES.get(state or "", "lease_lost")).inc()


def count_skipped_versions(source_type: str, count: int) -> None:
    """An archive run of a ``source_type`` object left ``count`` bad version entries out."""
    if count > 0:
        SKIPPED_VERSIONS.labels(source_type).inc(count)


def count_delivery(kind: str, outcome: str) -> None:
    """One delivery attempt to a target of ``kind`` was recorded as ``outcome``."""
    DELIVERIES.labels(kind, outcome).inc()


def count_history(commits: int, *, failed: bool = False) -> None:
    """One run of the history lane recorded ``commits`` commits, or failed."""
    if failed:
        HISTORY_FAILURES.inc()
    elif commits:
        HISTORY_COMMITS.inc(commits)


# Scraping ----------------------------------------------------------------------------


class LedgerCollector:
    """Gauges read from the ledger on each scrape."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[Metric]:
        """The ledger's gauges as they are now."""
        found = gauges.ledger_gauges(self.ledger)
        now = utcnow()
        oldest = 0.0
        if found.oldest_waiting_created_at:
            age = now - parse_iso(found.oldest_waiting_created_at)
            oldest = max(0.0, age.total_seconds())
        last = parse_iso(found.last_archive_at).timestamp() if found.last_archive_at else 0.0
        yield GaugeMetricFamily(
            "archiver_jobs_waiting",
            "Archive jobs queued or waiting for their next try.",
            found.jobs_waiting,
        )
        yield GaugeMetricFamily(
            "archiver_jobs_running", "Archive jobs claimed by a worker.", found.jobs_running
        )
        yield GaugeMetricFamily(
            "archiver_outbox_backlog",
            "Completion event deliveries neither delivered nor dead.",
            found.outbox_backlog,
        )
        yield GaugeMetricFamily(
            "archiver_oldest_waiting_job_age_seconds",
            "Time since the oldest waiting archive job was queued (0: none waits).",
            oldest,
        )
        yield GaugeMetricFamily(
            "archiver_last_archive_timestamp_seconds",
            "Unix time an archive was last submitted, or stored without an endpoint (0: never).",
            last,
        )


def exposition(ledger: Ledger) -> bytes:
    """Every metric in Prometheus text format: all processes' files, or this process's."""
    registry = CollectorRegistry()
    folder = folder_in_use()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))
    else:
        registry.register(REGISTRY)
    registry.register(LedgerCollector(ledger))
    return generate_latest(registry)
