"""The whole product as it is deployed: gunicorn and ``archiver worker`` as real processes.

The simulator (in this process) notifies new versions to the web process, which records
them and queues jobs; the worker archives them to cold storage and the archival endpoint;
the admin API shows the result. Also ``archiver simulate --notify-url`` on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, Response, request

from service.ledger import Ledger
from service.ledger import jobs as ledger_jobs
from service.simulator import SimulatorServer
from service.simulator.archival import ArchivalSink
from service.simulator.serving import BackgroundServer
from tests.helpers import ADMIN_TOKEN, ARCHIVER, INBOUND_TOKEN, cli_env, wait_for
from tests.processes import (
    STOP_SECONDS,
    WORKER_COMMAND,
    Process,
    archives_of,
    children_of,
    free_port,
    running,
    running_still,
    settled_archives,
    web_process,
)


def version_ids(sim: SimulatorServer, source_type: str, strategy_id: str) -> list[str]:
    item = sim.state.item(source_type, strategy_id)
    assert item is not None
    return [version.id for version in item.versions]


def test_notifications_become_archives_through_gunicorn_and_a_worker(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    state = simulator.state
    flow = state.add_strategy("flow", versions=3)
    strategy = state.add_strategy("routing-strategy", versions=2)
    sources = {flow: "flow", strategy: "routing-strategy"}
    with ArchivalSink() as sink:
        env = cli_env(
            simulator,
            tmp_path,
            INBOUND_TOKEN=INBOUND_TOKEN,
            ADMIN_TOKEN=ADMIN_TOKEN,
            ARCHIVAL_ENDPOINT=sink.url,
            WEB_CONCURRENCY="2",
            WORKER_POLL_SECONDS="0.05",
            JOB_LEASE_SECONDS="5",
            # No sweep: its jobs ("sweep") would race the notifications' ("event") under load.
            SWEEP_INTERVAL_SECONDS="0",
        )
        with (
            web_process(env, tmp_path) as (web, base),
            running([*WORKER_COMMAND, "worker"], env, tmp_path, "worker") as worker,
            requests.Session() as admin,
        ):
            admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            wait_for(
                lambda: "started" in worker.output, what="the worker", details=lambda: worker.output
            )
            state.notify_url = f"{base}/webhooks/genesys"
            state.notify_token = INBOUND_TOKEN

            def logs() -> str:
                sent = "\n".join(
                    f"{n.topic} {n.form}: {n.status} {n.error}" for n in state.notifications
                )
                return (
                    f"--- notifications\n{sent}\n--- web\n{web.output}\n--- worker\n{worker.output}"
                )

            # First round: the ledger has archived nothing, so each archive holds every version.
            state.notify_form = "eventbridge"
            state.add_versions(flow, 1)
            state.notify_form = "direct"
            state.add_versions(strategy, 1)
            first = {}
            for strategy_id in sources:
                (archive,) = wait_for(
                    partial(settled_archives, admin, base, strategy_id, 1),
                    what=f"the first archive of {strategy_id}",
                    details=logs,
                )
                first[strategy_id] = archive
                assert archive["sourceType"] == sources[strategy_id]
                expected = version_ids(simulator, sources[strategy_id], strategy_id)
                assert len(expected) == (4 if strategy_id == flow else 3)
                assert sorted(archive["versionIds"]) == sorted(expected)

            # Second round: two more versions each, archived incrementally.
            made = {}
            state.notify_form = "eventbridge"
            made[flow] = state.add_versions(flow, 2)
            state.notify_form = "direct"
            made[strategy] = state.add_versions(strategy, 2)
            latest = {}
            for strategy_id in sources:
                both = wait_for(
                    partial(settled_archives, admin, base, strategy_id, 2),
                    what=f"the second archive of {strategy_id}",
                    details=logs,
                )
                (newer,) = [a for a in both if a["archiveId"] != first[strategy_id]["archiveId"]]
                assert sorted(newer["versionIds"]) == sorted(made[strategy_id])
                assert newer["versionCount"] == 2
                assert both[0]["archiveId"] == newer["archiveId"]  # newest first
                latest[strategy_id] = newer

            # Every notification was answered 202, in the form it was sent.
            assert state.wait_notifications(timeout=10)
            sent = state.notifications
            assert len(sent) == 6, sent
            assert [n.status for n in sent] == [202] * 6, sent
            assert {(n.topic.split(".")[1], n.form) for n in sent} == {
                ("flows", "eventbridge"),
                ("routing", "direct"),
            }

            # Each archive's document is what the endpoint got, once, under its key.
            archives = [*first.values(), *latest.values()]
            assert len(sink.state.received) == len(archives)
            for record in archives:
                key = record["idempotencyKey"]
                assert [r.status for r in sink.state.received if r.key == key] == [201]
                stored = sink.state.stored[key]
                assert hashlib.sha256(stored).hexdigest() == record["contentSha256"]
                assert stored == (tmp_path / "archive" / record["location"]).read_bytes()
                one = admin.get(f"{base}/archives/{record['archiveId']}", timeout=10)
                assert one.status_code == 200, one.text
                payload = one.json()["payload"]
                assert payload == json.loads(stored)
                assert payload["idempotencyKey"] == key
                assert payload["strategyId"] == record["strategyId"]
                assert payload["sourceType"] == sources[record["strategyId"]]
                matrix = [row["versionId"] for row in payload["versionMatrix"]]
                assert sorted(matrix) == sorted(record["versionIds"])
                assert len(payload["versions"]) == len(matrix)

            # The jobs the notifications queued (all answered, so all queued by now) end done,
            # as the admin API shows them: one more may follow an archive and find nothing new.
            with Ledger(tmp_path / "ledger.db") as ledger:
                queued = ledger_jobs.list_jobs(ledger, limit=None)
            assert {job.reason for job in queued} == {"event"}
            assert {job.strategy_id for job in queued} == set(sources)

            def states() -> list[dict[str, Any]] | None:
                shown = [admin.get(f"{base}/jobs/{job.id}", timeout=10) for job in queued]
                assert all(answer.status_code == 200 for answer in shown), shown
                jobs = [answer.json() for answer in shown]
                return jobs if all(job["state"] == "done" for job in jobs) else None

            for shown_job in wait_for(states, what="the queued jobs to be done", details=logs):
                assert shown_job["lastError"] is None and shown_job["tries"] == 1, shown_job

            # A job asked for over the admin API finds nothing new.
            asked = admin.post(
                f"{base}/archives",
                json={"strategyId": strategy, "sourceType": "routing-strategy"},
                timeout=10,
            )
            assert asked.status_code == 202, asked.text
            job_id = asked.json()["jobId"]

            def job_done() -> dict[str, Any] | None:
                answer = admin.get(f"{base}/jobs/{job_id}", timeout=10)
                assert answer.status_code == 200, answer.text
                job: dict[str, Any] = answer.json()
                assert job["state"] in ("waiting", "running", "done"), job
                return job if job["state"] == "done" else None

            job = wait_for(job_done, what=f"job {job_id} to be done", details=logs)
            assert job["strategyId"] == strategy and job["tries"] == 1
            assert job["lastError"] is None
            assert not (job["result"] or {}).get("archiveId"), job  # nothing new to archive
            assert len(archives_of(admin, base, strategy)) == 2
            assert len(sink.state.received) == len(archives)

            admin.close()
            assert worker.terminate() == 0, worker.output
            workers = children_of(web.pid)
            assert len(workers) == 2, workers
            assert web.terminate() == 0, web.output
            wait_for(
                lambda: not any(running_still(p) for p in workers),
                timeout=STOP_SECONDS,
                what="gunicorn's workers to exit",
            )
        for process in (web, worker):
            assert "Traceback" not in process.output, process.output


# ``archiver simulate --notify-url``: the simulator as a separate process, notifying.


class Receiver(BackgroundServer):
    """A webhook receiver that keeps each request's headers and JSON body, answering 202."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[dict[str, str], Any]] = []

    def create_app(self) -> Flask:
        app = Flask("receiver")

        @app.post("/hook")
        def hook() -> tuple[Response, int]:
            self.received.append((dict(request.headers), request.get_json()))
            return Response("{}", mimetype="application/json"), 202

        return app


@contextmanager
def simulate(*args: str, env: dict[str, str], cwd: Path) -> Iterator[tuple[Process, str]]:
    """``archiver simulate`` on a free port, once it has printed its banner."""
    port = free_port()
    argv = [*ARCHIVER, "simulate", "--port", str(port), *args]
    with running(argv, env, cwd, "simulate") as sim:
        wait_for(
            lambda: sim.output.count("\n") >= 2 or not sim.alive(),
            what="the simulator's banner",
            details=lambda: sim.output,
        )
        assert sim.alive(), sim.output
        yield sim, f"http://127.0.0.1:{port}"
        assert sim.terminate() == 0, sim.output


@pytest.mark.parametrize("form", ["direct", "eventbridge", None])
def test_simulate_notifies_new_versions_to_notify_url(tmp_path: Path, form: str | None) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "INBOUND_TOKEN": INBOUND_TOKEN}
    with Receiver() as receiver:
        url = f"{receiver.url}/hook"
        options = ["--notify-url", url] + (["--notify-form", form] if form else [])
        expected_form = form or "direct"
        with simulate(*options, env=env, cwd=tmp_path) as (sim, base):
            lines = sim.output.splitlines()
            assert lines[0] == f"Genesys Cloud simulator listening on {base}"
            assert lines[1] == f"notifying new versions to {url} ({expected_form})"
            flows = requests.get(f"{base}/_sim/strategies", timeout=10).json()["flow"]
            made = requests.post(
                f"{base}/_sim/strategies/{flows[0]}/versions", json={"count": 1}, timeout=10
            )
            assert made.status_code == 201, made.text
            wait_for(lambda: receiver.received, what="the notification", details=lambda: sim.output)
            # The simulator records the answer just after the receiver has the request.
            status = wait_for(
                lambda: requests.get(f"{base}/_sim/notifications", timeout=10).json(),
                what="the notification's answer to be recorded",
            )
            assert [n["status"] for n in status] == [202]
            assert [n["form"] for n in status] == [expected_form]
        ((headers, body),) = receiver.received
        if expected_form == "eventbridge":
            assert headers["X-Archiver-Token"] == INBOUND_TOKEN
            assert "Authorization" not in headers
            assert body["detail-type"] == "v2.flows.{id}"
            notification = body["detail"]
        else:
            assert headers["Authorization"] == f"Bearer {INBOUND_TOKEN}"
            notification = body
        assert notification["topicName"] == f"v2.flows.{flows[0]}"
        assert notification["eventBody"]["currentOperation"]["actionStatus"] == "SUCCESS"


def test_simulate_without_inbound_token_notifies_without_credentials(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    with Receiver() as receiver:
        with simulate("--notify-url", f"{receiver.url}/hook", env=env, cwd=tmp_path) as (sim, base):
            routing = requests.get(f"{base}/_sim/strategies", timeout=10).json()
            strategy = routing["routing-strategy"][0]
            requests.post(f"{base}/_sim/strategies/{strategy}/versions", timeout=10)
            wait_for(lambda: receiver.received, what="the notification", details=lambda: sim.output)
        ((headers, body),) = receiver.received
        assert "Authorization" not in headers and "X-Archiver-Token" not in headers
        assert body["topicName"] == f"v2.routing.strategies.{strategy}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--notify-url", "127.0.0.1:8000/webhooks/genesys"], "--notify-url must be an http"),
        (["--notify-url", "http://127.0.0.1:1/x", "--notify-form", "sns"], "is not one of"),
    ],
    ids=["url-without-scheme", "unknown-form"],
)
def test_simulate_refuses_bad_notify_options_with_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = subprocess.run(
        [*ARCHIVER, "simulate", "--port", str(free_port()), *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
