"""``/metrics`` as deployed: real gunicorn with two workers and a real ``archiver worker``,
each writing its own files in ``METRICS_DIR``; every scrape adds them all up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from service.ledger import JobState, Ledger
from service.ledger import archives as ledger_archives
from service.ledger import jobs as ledger_jobs
from service.simulator import SimulatorServer
from service.simulator.archival import ArchivalSink
from tests.helpers import ADMIN_TOKEN, INBOUND_TOKEN, cli_env, wait_for
from tests.processes import (
    GUNICORN,
    REPO,
    WORKER_COMMAND,
    children_of,
    running,
    web_process,
)

BATCH = 24  # webhook requests sent at once, each on a new connection
SCRAPES = 8


def scrape(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One ``GET /metrics`` on a new connection, by sample name and labels."""
    answer = requests.get(f"{base}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str):
    return found.get((name, frozenset(labels.items())), 0.0)


def webhook_counts(found: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, float]:
    return {
        dict(labels)["result"]: count
        for (name, labels), count in found.items()
        if name == "archiver_webhook_requests_total" and count
    }


def counted_in_file(path: Path) -> float:
    """Webhook requests one process's counter file holds."""
    if not path.exists():
        return 0.0
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge([str(path)])
        if metric.name == "archiver_webhook_requests"
        for sample in metric.samples
    )


def send(url: str, strategy_id: str, token: str) -> int:
    """One notification for ``strategy_id`` on a connection of its own."""
    body = {
        "topicName": f"v2.routing.strategies.{strategy_id}",
        "version": "2",
        "eventBody": {"id": strategy_id},
        "metadata": {"CorrelationId": str(uuid.uuid4())},
    }
    answer = requests.post(url, json=body, headers={"X-Archiver-Token": token}, timeout=10)
    return answer.status_code


def a_finished_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_every_process_is_counted_once_whichever_worker_answers_the_scrape(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    strategies = [simulator.state.add_strategy("routing-strategy", versions=2) for _ in range(3)]
    folder = tmp_path / "metrics"  # the default: beside ARCHIVER_DB
    folder.mkdir()
    # What an earlier run left: it would add 1000 to every scrape were it not cleared.
    stale_file = folder / f"counter_{a_finished_pid()}.db"
    stale = MmapedDict(str(stale_file))
    stale.write_value(
        mmap_key(
            "archiver_webhook_requests",
            "archiver_webhook_requests_total",
            ["result"],
            ["accepted"],
            "Answers to POST /webhooks/genesys, by result.",
        ),
        1000.0,
        0.0,
    )
    stale.close()

    with ArchivalSink() as sink:
        env = cli_env(
            simulator,
            tmp_path,
            INBOUND_TOKEN=INBOUND_TOKEN,
            ADMIN_TOKEN=ADMIN_TOKEN,
            ARCHIVAL_ENDPOINT=sink.url,
            WEB_CONCURRENCY="2",
            WEB_THREADS="4",
            WORKER_POLL_SECONDS="0.05",
            JOB_LEASE_SECONDS="5",
            SWEEP_INTERVAL_SECONDS="0",
        )
        with (
            web_process(env, tmp_path) as (web, base),
            running([*WORKER_COMMAND, "worker"], env, tmp_path, "worker") as worker,
        ):

            def logs() -> str:
                return f"--- web\n{web.output}\n--- worker\n{worker.output}"

            wait_for(lambda: "started" in worker.output, what="the worker", details=logs)
            assert not stale_file.exists()
            web_pids = [pid for pid, _ in children_of(web.pid)]
            assert len(web_pids) == 2, web_pids

            # Notifications on new connections, in parallel, until both web workers took some.
            url = f"{base}/webhooks/genesys"
            sent = {202: 0, 401: 0}
            deadline = time.monotonic() + 60
            with ThreadPoolExecutor(max_workers=8) as pool:
                while True:
                    tokens = [INBOUND_TOKEN if n % 4 else "wrong-token" for n in range(BATCH)]
                    answers = pool.map(
                        send, [url] * BATCH, [strategies[n % 3] for n in range(BATCH)], tokens
                    )
                    for status in answers:
                        sent[status] += 1
                    per_worker = [counted_in_file(folder / f"counter_{p}.db") for p in web_pids]
                    if all(per_worker):
                        break
                    assert time.monotonic() < deadline, f"one worker took nothing: {per_worker}"
            assert sum(per_worker) == sum(sent.values())
            expected = {"accepted": sent[202], "unauthorized": sent[401]}

            # Any worker may answer a scrape: every one shows the same totals, exactly.
            with ThreadPoolExecutor(max_workers=2) as pool:
                scrapes = list(pool.map(scrape, [base] * SCRAPES))
            for found in scrapes:
                assert webhook_counts(found) == expected
                assert value(found, "archiver_ingest_duration_seconds_count") == sum(sent.values())

            # The worker process's jobs show too, and the ledger's gauges.
            with Ledger(tmp_path / "ledger.db") as ledger:

                def settled() -> list[Any] | None:
                    jobs = ledger_jobs.list_jobs(ledger, limit=None)
                    return jobs if all(j.state is JobState.DONE for j in jobs) else None

                jobs = wait_for(settled, what="every job done", details=logs)
                archives = ledger_archives.list_archives(ledger)
            assert len(archives) == 3
            assert (folder / f"counter_{worker.pid}.db").exists()

            def jobs_counted() -> dict[Any, float] | None:
                found = scrape(base)
                done = value(found, "archiver_archive_jobs_total", outcome="done")
                return found if done == len(jobs) else None

            found = wait_for(jobs_counted, what="the worker's job metrics", details=logs)
            assert value(found, "archiver_archive_job_duration_seconds_count") == len(jobs)
            assert value(found, "archiver_genesys_requests_total", outcome="ok") >= 3
            assert value(found, "archiver_archival_submissions_total", outcome="accepted") == 3
            assert value(found, "archiver_jobs_waiting") == 0
            assert value(found, "archiver_last_archive_timestamp_seconds") >= time.time() - 120
            assert webhook_counts(found) == expected

            # A web worker killed outright: its counts stay in the totals.
            os.kill(web_pids[0], signal.SIGKILL)
            wait_for(
                lambda: (
                    len(children_of(web.pid)) == 2
                    and web_pids[0] not in {pid for pid, _ in children_of(web.pid)}
                ),
                what="gunicorn to replace the killed worker",
                details=logs,
            )
            wait_for(
                lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 200,
                what="the web process to answer again",
            )
            for _ in range(4):
                assert webhook_counts(scrape(base)) == expected

            assert web.terminate() == 0, web.output

            # A new web process clears the files of processes that have ended, not those of
            # running ones: the old web workers' counts go, the worker's job counts stay.
            with web_process(env, tmp_path) as (again, base):
                found = scrape(base)
                assert webhook_counts(found) == {}
                assert value(found, "archiver_archive_jobs_total", outcome="done") == len(jobs)
                assert again.terminate() == 0, again.output
            assert worker.terminate() == 0, worker.output
        for process in (web, worker):
            assert "Traceback" not in process.output, process.output


def test_an_unusable_metrics_dir_stops_web_and_worker_at_start(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    env = cli_env(simulator, tmp_path, INBOUND_TOKEN=INBOUND_TOKEN, METRICS_DIR=str(taken))
    web = subprocess.run(
        [str(GUNICORN), "-c", str(REPO / "gunicorn.conf.py"), "service.app:create_app()"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    worker = subprocess.run(
        [*WORKER_COMMAND, "worker"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for process in (web, worker):
        assert process.returncode == 2, process.stderr
        (line,) = process.stderr.strip().splitlines()
        assert "METRICS_DIR is invalid" in line and str(taken) in line, line
