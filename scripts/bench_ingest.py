"""Benchmark ``POST /webhooks/genesys`` against a bare Flask route under the same gunicorn.

Two mixes, one after the other, each with its own baseline: the bare app of
``scripts/bare_app.py`` and then ``service.app:create_app()`` (on a fresh ledger), each
under real gunicorn with ``-c gunicorn.conf.py`` on a free 127.0.0.1 port.

- ``today``: ``--senders`` keep-alive connections; events over 50 strategies; nothing
  else running.
- ``harder``: a new TCP connection for every request; events over 10 hot strategies
  (every event joins a job already waiting); a real ``archiver worker`` archiving those
  strategies from a real ``archiver simulate`` meanwhile (``bench_busy.py``): on the
  product's ledger, and beside the bare route on a ledger of its own kept as busy, so
  that it burns its CPU beside both.

Each target is measured in two phases on the same server, the mix's worker running:

- saturation: ``--senders`` closed-loop senders, each sending its next request once the
  last is answered: the throughput. Its latency is set by Little's law (senders /
  throughput), whatever the server does, so it is printed but not judged.
- open loop: requests started on a Poisson schedule fixed in advance (seed per mix, the
  same for both targets) at half (``--open-share``) the bare route's saturation
  throughput in that mix and run (the load the 0.5 ratio goal promises), as real senders
  send: at the rate changes happen. Latency counts from the scheduled start, so queueing
  is never hidden. The p99 goal is judged here. ``--open-rate`` sets that rate in req/s
  instead (a sender's own rate, such as an EventBridge API destination's limit).

Before each target a fixed loop is timed (``speed_probe``): the machine's speed varies
from minute to minute, and the report prints it beside the figures. ``--rounds N`` runs
the bare route and the product N times in turn per mix, each round on fresh ledgers, and
ends with the median ratio and open-loop p99 over the rounds.

Latency is measured client-side (from the connect, for a new connection) after a
warm-up. Prints, per target, requests, req/s, p50, p99, the jobs the worker finished a
second and the CPU each process group used per request; then the open-loop phase's
offered and achieved rate, p50, p99 and max; per mix, the throughput ratio and whether
the goals (ratio >= 0.5, open-loop p99 < 50 ms) are met. Exit 0.

    .venv/bin/python scripts/bench_ingest.py [--mix both|today|harder] [--seconds 10]
        [--open-seconds 10] [--open-share 0.5 | --open-rate R] [--rounds 1] [--senders 32]
        [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.pool import Pool
from pathlib import Path

from bench_busy import base_env, busy_worker, finished_jobs, job_states, simulator, stop
from bench_load import (
    TOKEN,
    Load,
    Plan,
    random_strategies,
    run_loader,
    run_open_loader,
    templates,
)
from bench_report import GOAL_RATIO, OpenResult, Result, medians, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the harder mix's feeder queues jobs with our ledger
GUNICORN = Path(sys.executable).parent / "gunicorn"


@dataclass(frozen=True)
class Mix:
    """One mix's conditions; ``sim_url`` set: a busy worker runs beside each target."""

    name: str
    new_connections: bool
    strategies: list[tuple[str, str]]  # (source type, id)
    sim_url: str | None = None
    sim_pid: int = 0
    round: int = 0  # with --rounds: which pair of targets this is (1, 2...); 0: the only one

    @property
    def label(self) -> str:
        """The mix's name, and its round when there are several: files and report lines."""
        return f"{self.name}-{self.round}" if self.round else self.name


# Processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_command(app: str, port: int, workers: int, pythonpath: Path) -> list[str]:
    command = [str(GUNICORN)]
    if (ROOT / "gunicorn.conf.py").is_file():
        command += ["-c", "gunicorn.conf.py"]
    else:  # the same settings spelled out, should the file be missing
        command += ["-w", str(workers), "-k", "gthread", "--threads", "32", "--keep-alive", "5"]
    return [*command, "--bind", f"127.0.0.1:{port}", "--pythonpath", str(pythonpath), app]


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on port {port} within {timeout:.0f} s")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user and system) the processes ``pids`` and their children have used so far:
    the live children's and the ended ones' (gunicorn replaces workers now and then)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, ended children's both
        total += round(cpu_seconds([int(k) for k in kids]) * ticks)
    return total / ticks


def speed_probe() -> float:
    """Milliseconds of CPU a fixed loop takes here and now. This machine's speed changes by
    half from one minute to the next (other tenants): a slow probe beside a figure says
    that the figure was measured on a slowed machine."""
    started = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i
    return (time.process_time() - started) * 1000


def ledger_events(db: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return None


# One target ---------------------------------------------------------------------------


def percentiles(loads: list[Load]) -> tuple[int, float, float, float]:
    """Count, p50, p99 and max (ms) of the loads' latencies."""
    latencies = sorted(x for load in loads for x in load.latencies)
    if not latencies:
        return 0, 0.0, 0.0, 0.0
    cut = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0]
    return (
        len(latencies),
        statistics.median(latencies) * 1000,
        cut[-1] * 1000,
        latencies[-1] * 1000,
    )


def open_loop(
    plan: Plan, rate: float, seed: int, args: argparse.Namespace, pool: Pool
) -> OpenResult:
    """Requests on a Poisson schedule at ``rate`` a second, started whatever the answers."""
    start = time.monotonic() + 0.5
    plan = Plan(
        port=plan.port,
        bodies=plan.bodies,
        new_connections=plan.new_connections,
        measure_from=start + args.warmup,
        until=start + args.warmup + args.open_seconds,
        cap=plan.cap,
    )
    parts = args.loaders
    loads = pool.starmap(
        run_open_loader, [(plan, rate, start, seed, k, parts, 10.0) for k in range(parts)]
    )
    count, p50, p99, worst = percentiles(loads)
    statuses: Counter[int] = sum((load.statuses for load in loads), Counter())
    last_done = max(load.last_done for load in loads)
    return OpenResult(
        offered=rate,
        # answers to the measured requests over the time they took to come, at least the
        # measured window: below the offered rate when the server falls behind
        achieved=count / max(args.open_seconds, last_done - plan.measure_from),
        p50=p50,
        p99=p99,
        max=worst,
        non_202={s: c for s, c in statuses.items() if s != 202},
        errors=sum(load.errors for load in loads),
        unanswered=sum(load.unanswered for load in loads),
        max_lag=max(load.max_lag for load in loads) * 1000,
        answered_202=sum(load.answered_202 for load in loads),
    )


def bench(
    target: str,
    mix: Mix,
    args: argparse.Namespace,
    pool: Pool,
    folder: Path,
    offered: float | None = None,
) -> Result:
    """Serve ``target`` with gunicorn (and the mix's busy worker), load it to saturation, then
    open-loop at ``offered`` req/s (by default half the saturation rate just measured), stop."""
    app = args.ours if target == "ours" else "bare_app:create_app()"
    port = free_port()
    db = folder / f"{mix.label}-{target}.db"
    command = gunicorn_command(app, port, args.workers, ROOT / "scripts")
    env = dict(
        base_env(ROOT),
        INBOUND_TOKEN=TOKEN,
        WEB_CONCURRENCY=str(args.workers),
        PORT=str(port),
        ARCHIVER_DB=str(db),
        ARCHIVE_DIR=str(folder / f"{mix.label}-{target}-archive"),
    )
    print(f"[{mix.label} {target}] {' '.join(command)}", flush=True)
    log_path = folder / f"{mix.label}-{target}-gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    share = [
        args.senders // args.loaders + (i < args.senders % args.loaders)
        for i in range(args.loaders)
    ]
    loaders = [p.pid for p in multiprocessing.active_children() if p.pid]
    watched: dict[str, list[int]] = {"server": [process.pid], "loaders": loaders}
    try:
        with ExitStack() as running:
            wait_ready(port, process)
            if mix.sim_url:
                feed = mix.strategies if target == "bare" else None
                worker = running.enter_context(busy_worker(ROOT, mix.sim_url, db, feed))
                watched.update(worker=[worker.pid], simulator=[mix.sim_pid])
            time.sleep(1.0)  # let every gunicorn worker finish booting before the clock starts
            probe = speed_probe()
            start = time.monotonic() + 0.5
            plan = Plan(
                port=port,
                bodies=templates(mix.strategies),
                new_connections=mix.new_connections,
                measure_from=start + args.warmup,
                until=start + args.warmup + args.seconds,
                cap=args.max_requests // args.loaders,
            )
            pending = pool.starmap_async(
                run_loader, [(plan, n, 11 * i) for i, n in enumerate(share)]
            )
            time.sleep(max(0.0, plan.measure_from - time.monotonic()))
            jobs_before = finished_jobs(db)
            cpu_before = {name: cpu_seconds(pids) for name, pids in watched.items()}
            time.sleep(max(0.0, plan.until - time.monotonic()))
            cpu = {name: cpu_seconds(pids) - cpu_before[name] for name, pids in watched.items()}
            jobs = finished_jobs(db) - jobs_before
            loads = pending.get()
            count, p50, p99, _ = percentiles(loads)
            window = max(load.window for load in loads)
            rate = count / window if window > 0 else 0.0
            opened = None
            if args.open_seconds > 0:
                offered = args.open_rate or offered or rate * args.open_share
                time.sleep(1.0)  # let the saturation phase's queue drain
                print(f"[{mix.label} {target}] open loop at {offered:.0f} req/s", flush=True)
                seed = 1 if mix.name == "today" else 2
                opened = open_loop(plan, offered, seed, args, pool)
    except RuntimeError:
        print(log_path.read_text()[-2000:], file=sys.stderr)
        raise
    finally:
        stop(process)
    statuses: Counter[int] = sum((load.statuses for load in loads), Counter())
    return Result(
        mix=mix.label,
        target=target,
        requests=count,
        rate=rate,
        p50=p50,
        p99=p99,
        non_202={s: c for s, c in statuses.items() if s != 202},
        errors=sum(load.errors for load in loads),
        answered_202=sum(load.answered_202 for load in loads)
        + (opened.answered_202 if opened else 0),
        jobs_rate=jobs / args.seconds if mix.sim_url else None,
        cpu=cpu,
        events_stored=ledger_events(db) if target == "ours" else None,
        open=opened,
        probe_ms=probe,
    )


def run_mix(name: str, args: argparse.Namespace, pool: Pool, folder: Path) -> list[list[Result]]:
    """The bare route, then the product, under one mix's conditions; ``--rounds`` times,
    alternating, each round on fresh ledgers and (harder) a fresh simulator, so that every
    round starts from the same state (the machine's speed drifts: alternating rounds put
    both targets under each of its moods)."""
    pairs = []
    for number in range(1, args.rounds + 1):
        label = number if args.rounds > 1 else 0
        with ExitStack() as stack:
            if name == "harder":
                sim = stack.enter_context(simulator(ROOT, folder, free_port(), hot=10))
                mix = Mix(name, True, sim.strategies, sim.url, sim.pid, label)
            else:
                mix = Mix(name, False, random_strategies(50), round=label)
            bare = bench("bare", mix, args, pool, folder)
            ours = bench("ours", mix, args, pool, folder, bare.rate * args.open_share)
        pairs.append([bare, ours])
        if mix.sim_url:
            states = job_states(folder / f"{mix.label}-ours.db")
            print(f"[{mix.label}] jobs on the product's ledger at the end: {states}")
    return pairs


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    default_workers = int(os.environ.get("WEB_CONCURRENCY", cores))  # as gunicorn.conf.py
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mix", choices=("both", "today", "harder"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured load first")
    parser.add_argument(
        "--open-seconds",
        type=float,
        default=10.0,
        help="measured time of the open-loop phase per target (0: no open-loop phase)",
    )
    parser.add_argument(
        "--open-share",
        type=float,
        default=GOAL_RATIO,
        help="open-loop rate as a share of the bare route's saturation req/s (default 0.5)",
    )
    parser.add_argument(
        "--open-rate",
        type=float,
        help="open-loop rate in req/s for both targets, instead of --open-share",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="bare route then product, this many times per mix (medians printed at the end)",
    )
    parser.add_argument("--senders", type=int, default=32, help="concurrent senders")
    parser.add_argument("--loaders", type=int, default=1, help="client processes sharing them")
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help=f"gunicorn workers (default: WEB_CONCURRENCY or {default_workers})",
    )
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap per target")
    parser.add_argument("--keep", type=Path, help="keep ledgers and logs in this folder")
    parser.add_argument("--ours", default="service.app:create_app()", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.senders, args.loaders, args.workers, args.rounds) < 1 or args.seconds <= 0:
        parser.error("--senders, --loaders, --workers, --rounds and --seconds must be positive")
    if args.open_seconds < 0:
        parser.error("--open-seconds must be 0 or more")
    if not 0 < args.open_share <= 1:
        parser.error("--open-share must be more than 0 and at most 1")
    if args.open_rate is not None and args.open_rate <= 0:
        parser.error("--open-rate must be positive")
    args.loaders = min(args.loaders, args.senders)
    threads = os.environ.get("WEB_THREADS", "32")  # as gunicorn.conf.py
    print(
        f"{cores} cores; gunicorn workers={args.workers} threads={threads}; "
        f"{args.senders} senders in {args.loaders} process(es); "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per target, then open loop "
        f"{args.warmup:g} s + {args.open_seconds:g} s at "
        + (
            f"{args.open_rate:g} req/s"
            if args.open_rate
            else f"{args.open_share:g} x the bare route's req/s"
        ),
        flush=True,
    )
    names = ["today", "harder"] if args.mix == "both" else [args.mix]
    with ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            folder = args.keep
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ingest-")))
        # The loaders are forked first, before this process has any thread of its own.
        pool = stack.enter_context(multiprocessing.get_context("fork").Pool(args.loaders))
        results = [pair for name in names for pair in run_mix(name, args, pool, folder)]
    report(results)
    medians(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
