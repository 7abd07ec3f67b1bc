"""``archiver demo``: the whole pipeline on embedded defaults, end to end.

Starts, all on 127.0.0.1: the bundled Genesys Cloud simulator and a local archival
endpoint (in this process), the web process under real gunicorn and an ``archiver
worker`` (as child processes). The simulator sends its change notifications to the
web process, as EventBridge or Genesys would; the worker archives what they announce.
Everything lands in ``var/demo``; the web and worker logs stay there to read. It needs
nothing but the installed package: the web process takes the packaged gunicorn settings
(``service/gunicorn_conf.py``), as ``archiver web`` does.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests

from .commands.web import CONFIG as GUNICORN_CONFIG
from .demo_history import caught_up, demo_tour
from .demo_queue import queue_step, queue_tour
from .http import make_session
from .ledger import Ledger, audit, events
from .simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from .simulator.archival import ArchivalSink
from .simulator.receivers import FakeGitHub, WebhookReceiver

DEMO_DIR = Path("var/demo")
INBOUND_TOKEN = "demo-inbound-token"
ADMIN_TOKEN = "demo-admin-token"
ARCHIVAL_TOKEN = "demo-archival-token"
WEBHOOK_SECRET = "whsec_ZGVtby13ZWJob29rLXNpZ25pbmctc2VjcmV0"
GITHUB_TOKEN = "demo-github-token"
MISSING_STRATEGY = "00000000-0000-4000-8000-00000000dead"


def run_demo(folder: Path = DEMO_DIR) -> int:
    """Run the demo in ``folder`` (emptied first); return the exit status."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    folder = folder.resolve()
    with ExitStack() as stack:
        sim = stack.enter_context(SimulatorServer(port=0))
        sink = stack.enter_context(ArchivalSink(token=ARCHIVAL_TOKEN))
        receiver = stack.enter_context(WebhookReceiver(secret=WEBHOOK_SECRET))
        github = stack.enter_context(FakeGitHub(token=GITHUB_TOKEN))
        port = _free_port()
        env = _environment(folder, sim, sink, port)
        env["VCS_WEBHOOK_URLS"] = receiver.url
        env["VCS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        env["VCS_TARGETS"] = json.dumps(
            [
                {
                    "name": "routing-repo",
                    "type": "github",
                    "repository": "acme/routing-history",
                    "token": GITHUB_TOKEN,
                    "baseUrl": github.url,
                }
            ]
        )
        web_url = f"http://127.0.0.1:{port}"
        stack.enter_context(_process("web", _web_command(port), env, folder))
        stack.enter_context(
            _process("worker", [sys.executable, "-m", "service.cli", "worker"], env, folder)
        )
        admin = _Admin(web_url)
        _wait(lambda: admin.session.get(f"{web_url}/readyz", timeout=2).ok, "the web process")
        _say(f"Genesys Cloud simulator  {sim.url}")
        _say(f"web (gunicorn)           {web_url}   logs: {folder / 'web.log'}")
        _say(f"worker                   archiver worker   logs: {folder / 'worker.log'}")
        _say(f"archival endpoint        {sink.url}")
        _say(f"webhook receiver         {receiver.url} (checks both signatures, 401 if wrong)")
        _say(f"GitHub API (fake)        {github.url}/repos/acme/routing-history/dispatches")
        _say(f"ledger and archives      {folder}\n")
        sim.state.notify_url = f"{web_url}/webhooks/genesys"
        sim.state.notify_token = INBOUND_TOKEN

        _say("1. Two flow versions are published; Genesys tells us through EventBridge")
        sim.state.notify_form = "eventbridge"
        sim.state.add_versions(DEMO_FLOW_ID, 2)
        _say("2. A routing strategy changes; the notification comes directly")
        sim.state.notify_form = "direct"
        sim.state.add_versions(DEMO_STRATEGY_ID, 1)
        _wait(lambda: len(admin.archives()) >= 2, "the first archives")
        _show(admin.archives())
        _say("3. One more flow version, announced on the audit topic through EventBridge")
        _say("   (the change topic known to reach EventBridge): only that one is archived")
        sim.state.notify_form = "eventbridge"
        sim.state.notify_topics = ["audit"]
        new = sim.state.add_versions(DEMO_FLOW_ID, 1)
        _wait(lambda: len(admin.archives()) >= 3, "the incremental archive")
        latest = admin.archives()[0]
        _say(f"   newest archive holds {latest['versionIds']} (published: {new})")
        _say(f"   {_who(folder)}\n")
        _show(admin.archives())
        _say("4. An admin asks for a strategy Genesys does not know: the job dies at once")
        admin.post("/archives", {"strategyId": MISSING_STRATEGY, "sourceType": "flow"})
        _say("5. The flow is deleted in Genesys: its audit Delete event marks it deleted")
        _say("   (one strategy.deleted event; its archives stay, the sweep passes it over)")
        sim.state.delete_flow(DEMO_FLOW_ID)
        _wait(lambda: len(receiver.received) >= 5 and len(github.dispatches) >= 5, "the events")
        _say("   completion events at the webhook receiver:")
        for got in receiver.received:
            event = got.json()
            _say(
                f"   {got.status} {event['type']:<28} webhook-id {got.headers['webhook-id']}"
                f"  signatures ok: {got.status == 204}"
            )
        _say("   repository_dispatch events at GitHub (acme/routing-history):")
        for dispatch in github.dispatches:
            payload = dispatch["client_payload"]
            _say(f"   {dispatch['event_type']}: {payload['type']} {payload['data']['strategyId']}")
        _say("")
        queue = queue_step(sim.url, admin.post, admin.archives, _say, _wait)
        _show(queue)
        _wait(lambda: caught_up(folder / "ledger.db"), "the history's commits")
        sim.state.wait_notifications(10)
        answers = sorted({str(n.status) for n in sim.state.notifications})
        _say(f"Notifications sent: {len(sim.state.notifications)}, answered {answers}")
        _say(
            f"Archival endpoint: {len(sink.state.received)} POSTs, "
            f"{len(sink.state.stored)} distinct Idempotency-Keys stored"
        )
    with Ledger(folder / "ledger.db") as ledger:
        checked, broken = audit.verify_audit(ledger)
    if broken:
        _say(f"audit log BROKEN: {broken}")
        return 1
    _say(f"Audit log: {checked} entries, hash chain intact\n")
    demo_tour(folder / "history.git", folder / "ledger.db", DEMO_FLOW_ID, env, _say)
    queue_tour(queue, env, _say)
    _next_steps(folder)
    return 0


def _next_steps(folder: Path) -> None:
    """How to look at what the demo made: the commands that read, with the demo's settings."""
    settings = (
        f"ARCHIVER_DB={shlex.quote(str(folder / 'ledger.db'))}"
        f" ARCHIVE_DIR={shlex.quote(str(folder / 'archive'))}"
    )
    archiver = _archiver_program()
    _say(f"\nWhat the demo made is in {folder} (archive documents under archive/, logs).")
    _say("To look at it (these commands only read):")
    for args in (
        "ledger archives",
        "ledger strategies",
        f"report history {DEMO_FLOW_ID[:8]}",
        f"history log {DEMO_FLOW_ID[:8]}",
        "verify-archives",
    ):
        _say(f"  {settings} {archiver} {args}")


def _archiver_program() -> str:
    """The ``archiver`` next to this Python (``.venv/bin/archiver`` from a checkout), as a
    person would type it from the current folder; else plain ``archiver``."""
    program = Path(sys.executable).parent / "archiver"
    if not program.is_file():
        return "archiver"
    try:
        return shlex.quote(str(program.absolute().relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(program.absolute()))


def _who(folder: Path) -> str:
    """Who made the change the newest recorded event announces, as the ledger has it."""
    with Ledger(folder / "ledger.db") as ledger:
        (event,) = events.list_events(ledger, limit=1)
    return (
        f"event {event['topic']}: by {event['user_name'] or event['user_id'] or 'unknown'}"
        f" (OAuth client {event['client_id'] or 'unknown'})"
    )


class _Admin:
    """The admin API, as an operator's script would use it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = make_session(auth=ADMIN_TOKEN)

    def get(self, path: str) -> Any:
        answer = self.session.get(f"{self.url}{path}", timeout=5)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = self.session.post(f"{self.url}{path}", json=body, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def archives(self) -> list[dict[str, Any]]:
        archives: list[dict[str, Any]] = self.get("/archives")["archives"]
        return archives


def _show(archives: list[dict[str, Any]]) -> None:
    _say("   archives (GET /archives, newest first):")
    for a in archives:
        _say(
            f"   {a['createdAt']}  {a['sourceType']:<16} {a['strategyName']:<18}"
            f" {a['versionCount']:>2} versions  {a['submission']:<9}"
            f" archive {a['archiveId']} (key {a['idempotencyKey']})"
        )
    _say("")


def _environment(
    folder: Path, sim: SimulatorServer, sink: ArchivalSink, port: int
) -> dict[str, str]:
    """The children's whole environment: the demo's settings, nothing of the caller's but
    where programs and this Python's code are found (so they run the demo's own code)."""
    env = {name: os.environ[name] for name in ("PYTHONPATH",) if os.environ.get(name)}
    return env | {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GENESYS_API_URL": sim.url,
        "GENESYS_LOGIN_URL": sim.url,
        "GENESYS_CLIENT_ID": "demo-client",
        "GENESYS_CLIENT_SECRET": "demo-client-secret",
        "ARCHIVER_DB": str(folder / "ledger.db"),
        "ARCHIVE_DIR": str(folder / "archive"),
        "HISTORY_REPO": str(folder / "history.git"),
        "ARCHIVAL_ENDPOINT": sink.url,
        "ARCHIVAL_TOKEN": ARCHIVAL_TOKEN,
        "INBOUND_TOKEN": INBOUND_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WORKER_POLL_SECONDS": "0.1",
        "SWEEP_INTERVAL_SECONDS": "0",
    }


def _web_command(port: int) -> list[str]:
    """gunicorn with the packaged settings, listening on 127.0.0.1 only."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        GUNICORN_CONFIG,
        "--bind",
        f"127.0.0.1:{port}",
        "service.app:create_app()",
    ]


@contextmanager
def _process(name: str, command: list[str], env: dict[str, str], folder: Path) -> Iterator[None]:
    """A child process logging to ``folder/<name>.log``, stopped with SIGTERM at the end."""
    with open(folder / f"{name}.log", "wb") as log:
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=log)
    try:
        yield
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait(ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the demo gave up waiting for {what} after {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _say(text: str) -> None:
    print(text, flush=True)
