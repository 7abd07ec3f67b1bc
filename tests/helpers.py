"""Test helpers, one module: settings and environments pointing at the simulator, the
``archiver`` command line, one ``wait_for``, a worker's threads. Fixtures: conftest.py."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from service.config import Settings, load_settings
from service.simulator import SimulatorServer
from service.worker import Worker
from tests.gitserver import git as run_git_command


def make_settings(sim: SimulatorServer, tmp_path: Path, **overrides: str) -> Settings:
    """Settings pointing at ``sim``, with a fresh ledger and archive folder under ``tmp_path``."""
    return load_settings(cli_env(sim, tmp_path, **overrides))


ARCHIVER = [sys.executable, "-m", "service.cli"]


def cli_env(sim: SimulatorServer, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A subprocess environment pointing ``archiver`` at ``sim`` and files under ``tmp_path``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GENESYS_API_URL": sim.url,
        "GENESYS_LOGIN_URL": sim.url,
        "GENESYS_CLIENT_ID": "test-client",
        "GENESYS_CLIENT_SECRET": "test-secret-value",
        "ARCHIVER_DB": str(tmp_path / "ledger.db"),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "HISTORY_REPO": "",  # no history unless a test asks for one (history_env)
    }
    if os.environ.get("PYTHONPATH"):  # the code under test, when it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(overrides)
    return env


INBOUND_TOKEN = "inbound-token-for-tests"
ADMIN_TOKEN = "admin-token-for-tests"


def web_config(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A settings mapping for ``create_app`` with a fresh ledger and archive folder."""
    config = {
        "INBOUND_TOKEN": INBOUND_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "ARCHIVER_DB": str(tmp_path / "ledger.db"),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "HISTORY_REPO": "",
    }
    config.update(overrides)
    return config


def history_env(tmp_path: Path) -> dict[str, str]:
    """Overrides that turn the history on, in a bare repository under ``tmp_path``."""
    return {"HISTORY_REPO": str(tmp_path / "history.git"), "HISTORY_BRANCH": "main"}


def git(repo: Path, *args: str) -> str:
    """The real ``git`` on the bare repository ``repo``; its output (a failure fails the test)."""
    return run_git_command("--git-dir", str(repo), *args)


def branch_ids(repo: Path, branch: str = "main") -> list[str]:
    """The branch's commits, oldest first, as the real ``git`` lists them."""
    return git(repo, "rev-list", "--reverse", branch).split()


# Worker settings for tests: one thread, quick polls and retries, no scheduled sweep.
WORKER_TUNING = {
    "WORKER_THREADS": "1",
    "WORKER_POLL_SECONDS": "0.05",
    "JOB_LEASE_SECONDS": "10",
    "JOB_RETRY_BASE_SECONDS": "0.1",
    "SWEEP_INTERVAL_SECONDS": "0",
}


def wait_for(
    check: Callable[[], Any],
    timeout: float = 30.0,
    what: str = "condition",
    details: Callable[[], str] = str,
) -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds.

    ``details`` is called on failure only (for example to show the processes' output).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}\n{details()}")
        time.sleep(0.02)


@contextmanager
def running_worker(worker: Worker) -> Iterator[Worker]:
    """The worker's threads started; stopped and joined afterwards."""
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        worker.join()


def archiver(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``archiver ARGS`` as a real process, its output captured as text."""
    return subprocess.run(
        [*ARCHIVER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def archiver_on_terminal(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """``archiver ARGS`` with stderr on a pseudo-terminal: the process and what it drew there."""
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [*ARCHIVER, *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=timeout,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other side is closed: all is read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    return result, drawn
