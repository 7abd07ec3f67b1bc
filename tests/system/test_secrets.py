"""No secret in logs, the ledger or archive documents: the whole pipeline with known secrets.

Real gunicorn and a real ``archiver worker`` at ``LOG_LEVEL=DEBUG``, against the simulator
(which only gives tokens for the configured client secret), an archival endpoint that
wants its bearer token, a signed-webhook receiver and a GitHub fake that check theirs. The
run goes through failures that end in logs and ``last_error`` texts, some from servers that
echo credentials back; then every byte the product wrote is searched for every secret.

Then each edge where text leaves the process on its own: the ledger storing a job's last
error, a delivery's error and an endpoint's answer; and a command's line on stderr.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from service import backoff
from service.commands import cli
from service.commands.base import CommandEnv
from service.ledger import DeliveryState, JobState, Ledger, archives, jobs, outbox
from service.ledger import audit as ledger_audit
from service.outbound import Deliverer, outbound_from
from service.outbound.loop import DeliveryLane
from service.simulator import DEMO_FLOW_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from service.simulator.receivers import FakeGitHub, WebhookReceiver
from service.worker import Worker
from tests.helpers import WORKER_TUNING, cli_env, make_settings, running_worker, wait_for
from tests.processes import (
    WORKER_COMMAND,
    running,
    settled_archives,
    web_process,
)

# Known values, random so that no fixture or seeded text contains one by chance.
CLIENT_ID = "archiver-client"
CLIENT_SECRET = f"client-secret-{secrets.token_hex(8)}"
ARCHIVAL_TOKEN = f"archival-token-{secrets.token_hex(8)}"
INBOUND_TOKEN = f"inbound-token-{secrets.token_hex(8)}"
ADMIN_TOKEN = f"admin-token-{secrets.token_hex(8)}"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
GITHUB_TOKEN = f"ghp_{secrets.token_hex(18)}"
# A credential no setting knows, echoed by a failing receiver: only the patterns catch it.
STRANGER_TOKEN = f"eyJ{secrets.token_hex(12)}.{secrets.token_hex(8)}"
REPOSITORY = "acme/routing-history"


def test_no_secret_reaches_logs_ledger_or_archives(tmp_path: Path) -> None:
    with (
        SimulatorServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as simulator,
        ArchivalSink(token=ARCHIVAL_TOKEN) as sink,
        WebhookReceiver(secret=WEBHOOK_SECRET) as receiver,
        FakeGitHub(token=GITHUB_TOKEN, repositories={REPOSITORY}) as github,
    ):
        state = simulator.state
        refused = requests.post(
            f"{simulator.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, "not-the-secret"),
            timeout=10,
        )
        assert refused.status_code == 401  # the secret is really needed, so really sent
        target = {
            "name": "routing-repo",
            "type": "github",
            "repository": REPOSITORY,
            "token": GITHUB_TOKEN,
            "baseUrl": github.url,
        }
        env = cli_env(
            simulator,
            tmp_path,
            GENESYS_CLIENT_ID=CLIENT_ID,
            GENESYS_CLIENT_SECRET=CLIENT_SECRET,
            INBOUND_TOKEN=INBOUND_TOKEN,
            ADMIN_TOKEN=ADMIN_TOKEN,
            ARCHIVAL_ENDPOINT=sink.url,
            ARCHIVAL_TOKEN=ARCHIVAL_TOKEN,
            VCS_WEBHOOK_URLS=receiver.url,
            VCS_WEBHOOK_SECRET=WEBHOOK_SECRET,
            VCS_TARGETS=json.dumps([target]),
            VCS_RETRY_SCHEDULE="1,1,1,1",
            LOG_LEVEL="DEBUG",
            WEB_CONCURRENCY="2",
            WORKER_POLL_SECONDS="0.05",
            JOB_LEASE_SECONDS="15",
            JOB_RETRY_BASE_SECONDS="0.2",
            JOB_MAX_TRIES="3",
            SWEEP_INTERVAL_SECONDS="0",
        )
        flow = state.add_strategy("flow", versions=2)
        unknown = str(uuid.uuid4())
        # Failures, some echoing credentials: more 503s than one submission retries (so the
        # job fails once, with a last_error), a receiver and GitHub failing once each.
        sink.state.fail_next(
            503, times=6, message=f"proxy refused Authorization: Bearer {ARCHIVAL_TOKEN}"
        )
        receiver.fail_next(
            500, message=f"cannot verify {WEBHOOK_SECRET}; Authorization: Bearer {STRANGER_TOKEN}"
        )
        github.fail_next(500, message=f"token {GITHUB_TOKEN} broke something")
        with (
            web_process(env, tmp_path) as (web, base),
            running([*WORKER_COMMAND, "worker"], env, tmp_path, "worker") as worker,
            requests.Session() as admin,
        ):
            admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"

            def logs() -> str:
                return f"--- web\n{web.output}\n--- worker\n{worker.output}"

            wait_for(lambda: "started" in worker.output, what="the worker", details=logs)
            state.notify_url = f"{base}/webhooks/genesys"
            state.notify_token = INBOUND_TOKEN
            state.add_versions(flow, 1)  # notified to the web process, with INBOUND_TOKEN
            stranger = requests.post(
                f"{base}/webhooks/genesys",
                json={"topicName": f"v2.flows.{flow}"},
                headers={"Authorization": f"Bearer {STRANGER_TOKEN}"},
                timeout=10,
            )
            assert stranger.status_code == 401
            asked = admin.post(
                f"{base}/archives",
                json={"strategyId": unknown, "sourceType": "routing-strategy"},
                timeout=10,
            )
            assert asked.status_code == 202, asked.text
            dead_job = asked.json()["jobId"]

            wait_for(
                lambda: settled_archives(admin, base, flow, 1),
                timeout=60,
                what="the flow's archive, accepted by the endpoint",
                details=logs,
            )

            def job(job_id: str) -> dict[str, Any]:
                answer = admin.get(f"{base}/jobs/{job_id}", timeout=10)
                assert answer.status_code == 200, answer.text
                found: dict[str, Any] = answer.json()
                return found

            wait_for(lambda: job(dead_job)["state"] == "dead", what="the dead job", details=logs)
            assert "404" in job(dead_job)["lastError"]

            def delivered() -> bool:
                hooks = [r.status for r in receiver.received]
                return hooks.count(204) == 2 and len(github.dispatches) == 2

            wait_for(delivered, timeout=60, what="both events at both targets", details=logs)
            assert state.wait_notifications(timeout=10)
            assert [n.status for n in state.notifications] == [202]
            admin.close()
            assert worker.terminate() == 0, worker.output
            assert web.terminate() == 0, web.output

        # Each secret was really used, so that not finding it means something.
        assert {r.authorization for r in sink.state.received} == {f"Bearer {ARCHIVAL_TOKEN}"}
        assert sorted(r.status for r in receiver.received) == [204, 204, 500]
        assert sorted(r.status for r in github.received) == [204, 204, 500]
        with state._lock:  # the simulator keeps the access tokens it issued to itself
            issued = list(state._tokens)
        assert issued, "the worker never asked the simulator for a token"

    forbidden = [
        CLIENT_SECRET,
        ARCHIVAL_TOKEN,
        INBOUND_TOKEN,
        ADMIN_TOKEN,
        WEBHOOK_SECRET,
        WEBHOOK_SECRET.removeprefix("whsec_"),
        GITHUB_TOKEN,
        STRANGER_TOKEN,
        base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode(),  # HTTP Basic
        *issued,
    ]
    ledger_files = sorted(tmp_path.glob("ledger.db*"))
    documents = sorted((tmp_path / "archive").rglob("*.json"))
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker")}
    assert tmp_path / "ledger.db" in ledger_files and documents
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert set(ledger_files) | set(documents) | set(logs.values()) <= set(written)
    leaks = [  # every byte the product wrote: logs, ledger files, documents, metrics
        f"{path.relative_to(tmp_path)} holds forbidden[{index}]"
        for path in written
        for index, secret in enumerate(forbidden)
        if secret.encode() in path.read_bytes()
    ]
    assert leaks == []
    # The endpoint's echo was recorded (the job's last error, in the audit log), masked.
    ledger_bytes = b"".join(path.read_bytes() for path in ledger_files)
    assert b"proxy refused Authorization: Bearer ***" in ledger_bytes

    web_lines = json_lines(logs["web"])
    worker_lines = json_lines(logs["worker"])
    assert {line["process"] for line in web_lines} == {"web"}
    assert {line["process"] for line in worker_lines} == {"worker"}
    # The web process: gunicorn's own lines, DEBUG lines of accepted webhooks, the refusal.
    assert any(line["logger"] == "gunicorn.error" for line in web_lines)
    assert any(line["msg"].startswith("webhook accepted") for line in web_lines)
    (refusal,) = [line for line in web_lines if line["msg"].startswith("webhook refused")]
    assert refusal["status"] == 401 and refusal["level"] == "INFO"
    # The worker: each job's lines carry its ids, failures are logged above INFO, and
    # third-party loggers (urllib3 at DEBUG) come through the same JSON handler.
    job_lines = [line for line in worker_lines if line["msg"].startswith("job ")]
    assert job_lines
    for line in job_lines:
        assert line.get("job_id") and line.get("strategy_id"), line
    assert {line["strategy_id"] for line in job_lines} == {flow, unknown}
    failures = [line for line in worker_lines if line["level"] in ("WARNING", "ERROR")]
    assert any(line.get("job_id") == dead_job for line in failures), failures
    assert any(line.get("strategy_id") == flow for line in failures), failures
    archived = [line for line in worker_lines if line.get("archive_id")]
    assert archived and all(line["strategy_id"] == flow for line in archived)
    deliveries = [line for line in worker_lines if line.get("delivery_id")]
    assert {line["target"] for line in deliveries} == {receiver.url, "routing-repo"}
    assert all(line.get("event_id") for line in deliveries)
    # The receiver's echo, in the line of the attempt it failed, masked.
    assert any("Authorization: Bearer ***" in line["msg"] for line in deliveries), deliveries
    assert any(line["logger"].startswith("urllib3") for line in worker_lines)


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The file's lines, each a JSON object (any other line fails the test)."""
    text = path.read_text()
    assert text.strip(), f"{path.name} is empty"
    parsed = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name}: not a JSON line: {line!r}") from None
        assert isinstance(value, dict) and {"ts", "level", "logger", "msg"} <= set(value), line
        parsed.append(value)
    return parsed


# Each edge alone: a server echoes a configured secret and a credential no setting knows.


def test_an_upstream_error_body_is_stored_as_the_job_last_error_redacted(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    with ArchivalSink(token=ARCHIVAL_TOKEN) as sink:
        settings = make_settings(
            simulator,
            tmp_path,
            **WORKER_TUNING,
            ARCHIVAL_ENDPOINT=sink.url,
            ARCHIVAL_TOKEN=ARCHIVAL_TOKEN,
        )
        echo = f"you sent {ARCHIVAL_TOKEN}, and Authorization: Bearer {STRANGER_TOKEN}"
        sink.state.fail_next(400, message=echo)  # a refusal: the job dies at once
        with Ledger(settings.archiver_db) as ledger:
            job_id, _ = jobs.enqueue(ledger, DEMO_FLOW_ID, "flow", reason="event")
            with running_worker(Worker(settings)):
                job = wait_for(lambda: _dead(ledger, job_id), what="the job dead")
            (archive,) = archives.list_archives(ledger)
            audit = [e.detail for e in ledger_audit.audit_entries(ledger, subject=DEMO_FLOW_ID)]
    assert [r.status for r in sink.state.received] == [400]  # the token was sent
    assert job.last_error is not None
    assert "archival endpoint refused archive" in job.last_error
    assert "you sent ***, and Authorization: Bearer ***" in job.last_error
    assert archive.submission_detail is not None
    assert "you sent ***, and Authorization: Bearer ***" in archive.submission_detail
    stored = json.dumps(audit) + job.last_error + archive.submission_detail
    assert ARCHIVAL_TOKEN not in stored and STRANGER_TOKEN not in stored


def _dead(ledger: Ledger, job_id: str) -> Any:
    job = jobs.get_job(ledger, job_id)
    return job if job is not None and job.state is JobState.DEAD else None


def test_a_delivery_error_is_stored_redacted(simulator: SimulatorServer, tmp_path: Path) -> None:
    with WebhookReceiver(secret=WEBHOOK_SECRET) as receiver:
        settings = make_settings(
            simulator,
            tmp_path,
            VCS_WEBHOOK_URLS=receiver.url,
            VCS_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        receiver.fail_next(500, message=f"cannot verify {WEBHOOK_SECRET}; Bearer {STRANGER_TOKEN}")
        outbound = outbound_from(settings)
        targets = outbound.names
        deliverer = Deliverer(outbound.targets)
        with Ledger.from_settings(settings) as ledger:
            outbox.add_event(ledger, "strategy.archived", DEMO_FLOW_ID, {"n": 1}, targets)
            lane = DeliveryLane(
                "test/deliver-0",
                ledger,
                deliverer,
                backoff.deliveries("1,1"),
                targets,
                lease_seconds=10,
                poll_seconds=0.05,
                stopping=threading.Event(),
            )
            try:
                assert lane.step() is True
            finally:
                deliverer.close()
            (delivery,) = outbox.list_deliveries(ledger)
            audit = [
                e.detail for e in ledger_audit.audit_entries(ledger) if e.action == "delivery.retry"
            ]
    assert receiver.received[0].status == 500
    assert delivery.state is DeliveryState.PENDING and delivery.last_status == 500
    assert delivery.last_error is not None
    assert "cannot verify ***; Bearer ***" in delivery.last_error
    stored = json.dumps(audit) + delivery.last_error
    assert audit and WEBHOOK_SECRET not in stored and STRANGER_TOKEN not in stored
    assert WEBHOOK_SECRET.removeprefix("whsec_") not in stored


def test_a_command_error_on_stderr_is_redacted(simulator: SimulatorServer, tmp_path: Path) -> None:
    with ArchivalSink(token=ARCHIVAL_TOKEN) as sink:
        environ = cli_env(
            simulator, tmp_path, ARCHIVAL_ENDPOINT=sink.url, ARCHIVAL_TOKEN=ARCHIVAL_TOKEN
        )
        sink.state.fail_next(400, message=f"no: {ARCHIVAL_TOKEN} / Bearer {STRANGER_TOKEN}")
        result = CliRunner().invoke(cli, ["archive", DEMO_FLOW_ID], obj=CommandEnv(environ))
    assert [r.status for r in sink.state.received] == [400]
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("archiver: ")]
    assert "archival endpoint refused archive" in line
    assert "no: *** / Bearer ***" in line
    assert ARCHIVAL_TOKEN not in result.output and STRANGER_TOKEN not in result.output
