"""Both processes create and migrate the ledger as they start, before any write."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from service.simulator import SimulatorServer
from tests.helpers import ARCHIVER, WORKER_TUNING, cli_env, wait_for
from tests.processes import web_env, web_process, workers


def ledger_events(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ARCHIVER, "ledger", "events", "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_web_process_creates_the_ledger_at_start(tmp_path: Path) -> None:
    env = web_env(tmp_path)
    with web_process(env, tmp_path, probe="/healthz", forks=1):
        done = ledger_events(env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_worker_creates_the_ledger_at_start(simulator: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(simulator, tmp_path, **WORKER_TUNING)
    if os.environ.get("PYTHONPATH"):  # the code under test, when it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    ledger = tmp_path / "ledger.db"
    with workers(env, tmp_path) as (worker,):
        wait_for(
            lambda: "started" in worker.output,
            timeout=30,
            what="the worker to start",
            details=lambda: worker.output,
        )
        done = ledger_events(env, tmp_path)
    assert ledger.is_file()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
