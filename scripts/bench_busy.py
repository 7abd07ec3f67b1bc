"""The busy worker of ``scripts/bench_ingest.py``'s harder mix: ``archiver worker`` at work.

A real ``archiver simulate`` process serves Genesys with the hot strategies, each given a
new version every ``CHANGE_SECONDS`` (what the events report), and a rate limit high
enough that the worker is held back by nothing but the ledger and the CPU. A real
``archiver worker`` process (default settings, no scheduled sweep) claims, archives and
finishes their jobs on a ledger while a target is measured: each claim, archive and
finish takes the ledger's write lock, against the requests.

Against the product, the webhook's events keep a job waiting for every hot strategy.
Beside the bare route (no ledger) a feeder thread does the same on a ledger of the
worker's own: beside both targets the worker runs flat out, never short of a job, and
the archive work is the same (the versions the simulator makes).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ARCHIVER = [sys.executable, "-m", "service.cli"]  # the code of ``root`` (PYTHONPATH)
RATE_LIMIT = "60000/60"  # API requests per window: far above what one worker can ask
CHANGE_SECONDS = 0.5  # each hot strategy gets a new version this often
FEED_SECONDS = 0.05  # beside the bare route, jobs are topped up this often
START_SECONDS = 60.0


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL should it not have ended within ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def base_env(root: Path) -> dict[str, str]:
    """This environment, with ``root``'s code first on the path of every process started."""
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{path}" if path else str(root))


def start(command: list[str], env: dict[str, str], log: Path, ready: str) -> subprocess.Popen:
    """Start ``command`` writing to ``log``; return once the log says ``ready``."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + START_SECONDS
    while ready not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"{' '.join(command[3:])} did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def _post(url: str, body: dict[str, object]) -> object:
    asked = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(asked, timeout=10) as answer:
        return json.load(answer)


@dataclass(frozen=True)
class Simulator:
    url: str
    pid: int
    strategies: list[tuple[str, str]]  # (source type, id)


@contextmanager
def simulator(root: Path, folder: Path, port: int, hot: int) -> Iterator[Simulator]:
    """``archiver simulate`` with ``hot`` new strategies (flows and routing strategies
    alternating, 3 versions each), each changing every ``CHANGE_SECONDS``."""
    url = f"http://127.0.0.1:{port}"
    command = [*ARCHIVER, "simulate", "--port", str(port), "--rate-limit", RATE_LIMIT]
    process = start(command, base_env(root), folder / "simulator.log", "listening")
    stopping = threading.Event()
    changer = threading.Thread(target=lambda: None)
    try:
        strategies = []
        for n in range(hot):
            source_type = "flow" if n % 2 else "routing-strategy"
            made = _post(f"{url}/_sim/strategies", {"sourceType": source_type, "versions": 3})
            assert isinstance(made, dict)
            strategies.append((source_type, str(made["id"])))
        changer = threading.Thread(
            target=_change, args=(url, strategies, stopping), name="changer", daemon=True
        )
        changer.start()
        yield Simulator(url, process.pid, strategies)
    finally:
        stopping.set()
        if changer.is_alive():
            changer.join()
        stop(process)


def _change(url: str, strategies: list[tuple[str, str]], stopping: threading.Event) -> None:
    """A new version of every strategy every ``CHANGE_SECONDS``, until ``stopping``."""
    while not stopping.wait(CHANGE_SECONDS):
        for _, strategy_id in strategies:
            _post(f"{url}/_sim/strategies/{strategy_id}/versions", {"count": 1})


def worker_env(root: Path, sim_url: str, db: Path) -> dict[str, str]:
    """The worker's settings: the simulator, ``db`` and files beside it, no scheduled sweep;
    defaults otherwise (the history in git on)."""
    return dict(
        base_env(root),
        GENESYS_API_URL=sim_url,
        GENESYS_LOGIN_URL=sim_url,
        GENESYS_CLIENT_ID="bench-client",
        GENESYS_CLIENT_SECRET="bench-client-secret",
        ARCHIVER_DB=str(db),
        ARCHIVE_DIR=str(db.parent / f"{db.stem}-archive"),
        HISTORY_REPO=str(db.parent / f"{db.stem}-history.git"),
        SWEEP_INTERVAL_SECONDS="0",
    )


@contextmanager
def busy_worker(
    root: Path, sim_url: str, db: Path, feed: list[tuple[str, str]] | None
) -> Iterator[subprocess.Popen[bytes]]:
    """``archiver worker`` on ``db`` until the block ends. With ``feed`` (strategies), a
    thread keeps a job waiting for each of them meanwhile."""
    env = worker_env(root, sim_url, db)
    process = start([*ARCHIVER, "worker"], env, db.parent / f"{db.stem}-worker.log", "started")
    stopping = threading.Event()
    feeder = threading.Thread(target=_feed, args=(db, feed, stopping), daemon=True)
    try:
        if feed:
            feeder.start()
        yield process
    finally:
        stopping.set()
        if feeder.is_alive():
            feeder.join()
        stop(process)


def _feed(db: Path, strategies: list[tuple[str, str]], stopping: threading.Event) -> None:
    """Keep a job waiting for every strategy (queue one, or join the one waiting) until
    ``stopping``: as the events do beside the product."""
    from service.ledger import Ledger, jobs

    with Ledger(db) as ledger:
        while not stopping.wait(FEED_SECONDS):
            for source_type, strategy_id in strategies:
                jobs.enqueue(ledger, strategy_id, source_type, reason="event")


def finished_jobs(db: Path) -> int:
    """Jobs that have ended (done, or any other end), read without writing."""
    return sum(n for state, n in job_states(db).items() if state not in ("waiting", "running"))


def job_states(db: Path) -> dict[str, int]:
    """Jobs per state, read without writing."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            return dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
    except sqlite3.Error:
        return {}
