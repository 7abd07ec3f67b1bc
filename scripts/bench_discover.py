"""Benchmark discovering and archiving a whole org within its rate limit.

Runs the bundled simulator in this process, set to a plain org (the routing-strategy
listing answers 404) of ``--flows`` extra flows with 1-20 versions each, and to a rate
limit of ``--allowed`` API requests per ``--window`` seconds. Then runs, as the product
runs, ``archiver sweep --discover`` and one ``archiver worker`` (real subprocesses, a fresh
ledger in a temporary folder) until every queued job is done. Prints the API calls made,
the 429s received, the wall time, and the achieved rate as a fraction of the allowed rate.
Goals: no 429 and at least 0.9 of the allowed rate. Exit 0 when both are met, else 1.

    .venv/bin/python scripts/bench_discover.py [--flows 200] [--allowed 400] [--window 10]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.simulator import SimulatorServer  # noqa: E402

BIN = Path(sys.executable).parent
ARCHIVER = (
    [str(BIN / "archiver")]
    if (BIN / "archiver").exists()
    else [sys.executable, "-m", "service.cli"]
)
GOAL_FRACTION = 0.9
TIMEOUT_SECONDS = 900.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Discover and archive a rate-limited simulated org; report calls, 429s "
        "and the achieved rate as a fraction of the allowed rate."
    )
    parser.add_argument("--flows", type=int, default=200, help="flows to add (default 200)")
    parser.add_argument(
        "--allowed", type=int, default=400, help="API requests allowed per window (default 400)"
    )
    parser.add_argument(
        "--window", type=float, default=10.0, help="window length in seconds (default 10)"
    )
    parser.add_argument("--seed", type=int, default=9, help="random seed of the version counts")
    return parser.parse_args(argv)


def environment(sim: SimulatorServer, folder: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GENESYS_API_URL": sim.url,
        "GENESYS_LOGIN_URL": sim.url,
        "GENESYS_CLIENT_ID": "bench-client",
        "GENESYS_CLIENT_SECRET": "bench-secret",
        "ARCHIVER_DB": str(folder / "ledger.db"),
        "ARCHIVE_DIR": str(folder / "archive"),
        "HISTORY_REPO": str(folder / "history.git"),
        "SWEEP_INTERVAL_SECONDS": "0",
        "WORKER_POLL_SECONDS": "0.1",
        "LOG_LEVEL": "WARNING",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def job_states(db: Path) -> dict[str, int]:
    """Jobs per state, read without writing (the worker owns the ledger)."""
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
    except sqlite3.OperationalError:  # not migrated yet, or busy for a moment
        return {}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    with SimulatorServer() as sim, tempfile.TemporaryDirectory(prefix="bench-discover-") as tmp:
        folder = Path(tmp)
        for _ in range(args.flows):
            sim.state.add_strategy("flow", versions=rng.randint(1, 20))
        versions = sum(len(i.versions) for i in sim.state.items("flow"))
        flows = len(sim.state.strategy_ids("flow"))
        sim.state.inject_fault(404, times=1, path="/api/v2/routing/strategies")  # a plain org
        sim.state.rate_limit.configure(allowed=args.allowed, window=args.window)
        env = environment(sim, folder)
        db = folder / "ledger.db"
        # The worker first (it creates the ledger and waits for jobs), so that its start
        # is not timed; it holds no sweep of its own.
        with (folder / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [*ARCHIVER, "worker"], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            while not db.exists() and worker.poll() is None:
                time.sleep(0.1)
            time.sleep(1.0)  # migrated, threads started
            sim.state.clear_requests()
            started = time.monotonic()
            sweep = subprocess.run(
                [*ARCHIVER, "sweep", "--discover"],
                env=env,
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
            )
            print(f"$ archiver sweep --discover  (exit {sweep.returncode})")
            print((sweep.stdout + sweep.stderr).strip())
            while True:
                states = job_states(db)
                if sum(states.values()) and all(s in ("done", "dead") for s in states):
                    break
                if time.monotonic() - started > TIMEOUT_SECONDS or worker.poll() is not None:
                    print(f"gave up: jobs {states}, worker exit {worker.poll()}")
                    break
                time.sleep(0.05)
            wall = time.monotonic() - started
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        api = [r for r in sim.state.requests if r.path.startswith("/api/v2/")]
        limited = sum(1 for r in api if r.status == 429)
        span = api[-1].at - api[0].at if len(api) > 1 else 0.0
        allowed_rate = args.allowed / args.window
        counts = sim.state.rate_limit.counts()
        full = counts[:-1]  # the last window is cut short by the end of the work
        used = sum(full) / (len(full) * args.allowed) if full else 1.0
        raw = len(api) / wall / allowed_rate if wall else 0.0
        print(
            f"org: {flows} flows, {versions} versions; limit {args.allowed} requests per "
            f"{args.window:g} s ({allowed_rate:g}/s)"
        )
        print(f"jobs: {job_states(db)}")
        print(
            f"API calls: {len(api)}, 429s: {limited} "
            f"(simulator refused {sim.state.rate_limit.refused})"
        )
        print(f"wall time (sweep start to last job done): {wall:.1f} s")
        print(f"requests per window: {', '.join(map(str, counts))} (allowed {args.allowed})")
        print(
            f"achieved rate: {len(api) / wall:.1f}/s over the wall time = {raw:.2f} of the "
            f"allowed rate ({span:.1f} s from the first API call to the last); the full "
            f"windows used at {used:.2f} of their allowance"
        )
        met = limited == 0 and min(raw, used) >= GOAL_FRACTION
        print(
            f"goals (no 429, at least {GOAL_FRACTION} of the allowed rate): "
            f"{'met' if met else 'NOT met'}"
        )
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
