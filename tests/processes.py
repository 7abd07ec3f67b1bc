"""The product as it is deployed, for tests: gunicorn and ``archiver worker`` as real
processes, each with its output in a file, always stopped (and reaped) at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.helpers import ADMIN_TOKEN, ARCHIVER, INBOUND_TOKEN, wait_for

if TYPE_CHECKING:
    from service.simulator.state import SimulatorState

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
# The console script, as the Procfile runs it; the module when it is not installed.
WORKER_COMMAND = [str(BIN / "archiver")] if (BIN / "archiver").exists() else list(ARCHIVER)

STOP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Process:
    """A subprocess with its output in a file the test can read."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, name: str) -> None:
        self.name = name
        self.log = cwd / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self, timeout: float = STOP_SECONDS) -> int:
        """SIGTERM, then the exit status (fails the test when it does not come in time)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} still running {timeout} s after SIGTERM:\n{self.output}")

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=STOP_SECONDS)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, so that gunicorn reaps its workers; SIGKILL after ``grace`` seconds."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(timeout=STOP_SECONDS)


# A process as (pid, start time in clock ticks): unlike a pid alone, never reused.
Ident = tuple[int, str]


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after ``(comm)``: state, ppid, ...; None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()  # comm may hold spaces and parentheses


def children_of(pid: int) -> set[Ident]:
    """The processes whose parent is ``pid`` (Linux /proc; none elsewhere)."""
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(entry.name)
        if fields and len(fields) > 19 and fields[1] == str(pid):
            found.add((int(entry.name), fields[19]))
    return found


def running_still(process: Ident) -> bool:
    """Whether ``process`` still runs (a zombie counts as gone)."""
    fields = _stat(process[0])
    if fields is None or len(fields) <= 19:
        return False
    return fields[19] == process[1] and fields[0] != "Z"


def web_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """An environment for gunicorn: one worker of four threads, files under ``tmp_path``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INBOUND_TOKEN": INBOUND_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "ARCHIVER_DB": str(tmp_path / "ledger.db"),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4",
    }
    if os.environ.get("PYTHONPATH"):  # the code under test, when it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(overrides)
    return env


@contextmanager
def running(argv: list[str], env: dict[str, str], cwd: Path, name: str) -> Iterator[Process]:
    """``argv`` as a subprocess, stopped at the end whatever happened."""
    started = Process(argv, env, cwd, name)
    try:
        yield started
    finally:
        started.stop()


@contextmanager
def web_process(
    env: dict[str, str], cwd: Path, *, probe: str = "/readyz", forks: int = 2
) -> Iterator[tuple[Process, str]]:
    """gunicorn as the Procfile runs it, on a free port of 127.0.0.1; its workers reaped too.

    Ready once ``probe`` answers 200 and ``forks`` workers exist (``WEB_CONCURRENCY``).
    """
    port = free_port()
    argv = [
        str(GUNICORN),
        "-c",
        str(REPO / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "service.app:create_app()",
    ]
    workers: set[Ident] = set()
    with running(argv, env, cwd, "web") as web:
        try:
            base = f"http://127.0.0.1:{port}"

            def ready() -> bool:
                assert web.alive(), f"gunicorn exited {web.process.returncode}:\n{web.output}"
                workers.update(children_of(web.pid))
                try:
                    return requests.get(f"{base}{probe}", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait_for(ready, what=f"gunicorn to answer {probe} 200", details=lambda: web.output)
            wait_for(
                lambda: len(workers.union(children_of(web.pid))) >= forks,
                timeout=30,
                what=f"{forks} gunicorn worker(s)",
            )
            workers.update(children_of(web.pid))
            yield web, base
        finally:
            web.stop()
            for process in workers:  # a worker left behind by a master that had to be killed
                if running_still(process):
                    os.kill(process[0], signal.SIGKILL)


def archives_of(admin: requests.Session, base: str, strategy_id: str) -> list[dict[str, Any]]:
    answer = admin.get(f"{base}/archives", params={"strategyId": strategy_id}, timeout=10)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["archives"]
    return found


def settled_archives(
    admin: requests.Session, base: str, strategy_id: str, count: int
) -> list[dict[str, Any]] | None:
    """The strategy's archives once there are ``count``, each accepted by the endpoint."""
    found = archives_of(admin, base, strategy_id)
    assert len(found) <= count, found
    if len(found) == count and all(a["submission"] == "submitted" for a in found):
        return found
    return None


@contextmanager
def workers(env: dict[str, str], cwd: Path, count: int = 1) -> Iterator[list[Process]]:
    """``count`` ``archiver worker`` processes, killed at the end whatever happened."""
    started = [Process([*ARCHIVER, "worker"], env, cwd, f"worker{n}") for n in range(count)]
    try:
        yield started
    finally:
        for worker in started:
            worker.kill()


def archived(admin: requests.Session, base: str, strategy_id: str) -> list[dict[str, Any]] | None:
    """The object's archives, or None while there is none (a ``wait_for`` check)."""
    return archives_of(admin, base, strategy_id) or None


@dataclass
class AuditedDeployment:
    """One gunicorn and one worker that the simulator's audit notifications reach."""

    base: str
    admin: requests.Session  # authorised for the admin API
    logs: Callable[[], str]  # what was sent, and both processes' output


@contextmanager
def audited_deployment(
    state: SimulatorState, env: dict[str, str], cwd: Path
) -> Iterator[AuditedDeployment]:
    """gunicorn (one fork) and ``archiver worker`` on ``env``, the simulator sending only
    the audit topic to the webhook route; both stopped at the end whatever happened."""
    with (
        web_process(env, cwd, forks=1) as (web, base),
        running([*WORKER_COMMAND, "worker"], env, cwd, "worker") as worker,
        requests.Session() as admin,
    ):
        admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"

        def logs() -> str:
            sent = "\n".join(f"{n.topic} {n.form}: {n.status}" for n in state.notifications)
            return f"--- sent\n{sent}\n--- web\n{web.output}\n--- worker\n{worker.output}"

        state.notify_url = f"{base}/webhooks/genesys"
        state.notify_token = INBOUND_TOKEN
        state.notify_topics = ["audit"]
        yield AuditedDeployment(base, admin, logs)
