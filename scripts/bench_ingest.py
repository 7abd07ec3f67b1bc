"""Benchmark ``POST /webhooks/genesys`` against a bare Flask route under the same gunicorn.

Starts real gunicorn twice on free 127.0.0.1 ports (``-c gunicorn.conf.py``): once the
bare app of ``scripts/bare_app.py``, once ``service.app:create_app()`` on a fresh ledger
in a temporary folder. Each gets ``--senders`` keep-alive connections sending distinct
notifications (direct and EventBridge, ~50 strategies) for ``--seconds`` after a warm-up;
latency is measured client-side. Prints requests, req/s, p50 and p99 of both, the
throughput ratio and whether the goals (ratio >= 0.5, p99 < 50 ms) are met. Exit 0.

    .venv/bin/python scripts/bench_ingest.py [--seconds 10] [--senders 32] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
PATH = "/webhooks/genesys"
TOKEN = "bench-inbound-token"
STRATEGIES = 50
GOAL_RATIO = 0.5
GOAL_P99_MS = 50.0
CORR, EVID = b"C" * 36, b"E" * 36  # placeholders replaced by a fresh uuid per request


# Bodies -------------------------------------------------------------------------------


def notification(topic: str, event_body: dict[str, object]) -> dict[str, object]:
    return {
        "topicName": topic,
        "version": "2",
        "eventBody": event_body,
        "metadata": {"CorrelationId": CORR.decode()},
    }


def flow_body(flow_id: str, n: int) -> dict[str, object]:
    """A completed PUBLISH of a flow, shaped like the reference sample."""
    user = {
        "id": str(uuid.uuid4()),
        "name": "Ada Lovelace",
        "homeOrg": {"id": str(uuid.uuid4()), "name": "Bench Org", "thirdPartyOrgName": "b"},
    }
    operation = {
        "id": str(uuid.uuid4()),
        "complete": True,
        "user": user,
        "client": {"id": str(uuid.uuid4()), "name": "Architect CI"},
        "actionName": "PUBLISH",
        "actionStatus": "SUCCESS",
    }
    return {
        "id": flow_id,
        "name": f"Flow {n}",
        "description": f"Bench flow {n}",
        "deleted": False,
        "checkedInVersion": {"id": "3.0"},
        "savedVersion": {"id": "3.0"},
        "publishedVersion": {"id": "3.0"},
        "currentOperation": operation,
    }


def templates() -> list[tuple[bytes, bytes]]:
    """(auth header, body template) pairs: flows and strategies, each direct and EventBridge."""
    made = []
    for n in range(STRATEGIES):
        item_id = str(uuid.uuid4())
        if n % 2:
            note = notification(f"v2.flows.{item_id}", flow_body(item_id, n))
            template = "v2.flows.{id}"
        else:
            note = notification(
                f"v2.routing.strategies.{item_id}", {"id": item_id, "name": f"S {n}", "version": 3}
            )
            template = "v2.routing.strategies.{id}"
        made.append((f"Authorization: Bearer {TOKEN}".encode(), json.dumps(note).encode()))
        event = {
            "version": "0",
            "id": EVID.decode(),
            "detail-type": template,
            "source": "aws.partner/genesys.com/cloud/bench/archiver",
            "account": "123456789012",
            "time": "2026-11-28T08:02:11Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {**note, "timestamp": "2026-11-28T08:02:11.889Z"},
        }
        made.append((f"X-Archiver-Token: {TOKEN}".encode(), json.dumps(event).encode()))
    return made


# Load ---------------------------------------------------------------------------------


@dataclass
class Load:
    """What one loader process measured."""

    latencies: array[float] = field(default_factory=lambda: array("d"))
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    answered_202: int = 0  # warm-up included: what the ledger should hold
    window: float = 0.0


async def _sender(
    port: int,
    bodies: list[tuple[bytes, bytes]],
    offset: int,
    load: Load,
    measure_from: float,
    until: float,
    cap: int,
) -> None:
    host = f"Host: 127.0.0.1:{port}".encode()
    reader = writer = None
    i = offset
    while time.monotonic() < until and len(load.latencies) < cap:
        auth, template = bodies[i % len(bodies)]
        i += 1
        body = template.replace(CORR, str(uuid.uuid4()).encode()).replace(
            EVID, str(uuid.uuid4()).encode()
        )
        head = b"\r\n".join(
            [
                b"POST " + PATH.encode() + b" HTTP/1.1",
                host,
                auth,
                b"Content-Type: application/json",
                b"Content-Length: " + str(len(body)).encode(),
                b"",
                b"",
            ]
        )
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            started = time.monotonic()
            writer.write(head + body)
            status = int((await reader.readline()).split(b" ", 2)[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            done = time.monotonic()
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            load.errors += time.monotonic() >= measure_from
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        load.answered_202 += status == 202
        if measure_from <= done <= until:
            load.latencies.append(done - started)
            load.statuses[status] += 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run_loader(
    port: int, senders: int, offset: int, start: float, warmup: float, seconds: float, cap: int
) -> Load:
    """One process's share of the senders, as asyncio connections; runs until the window ends."""
    bodies = templates()
    load = Load()
    measure_from, until = start + warmup, start + warmup + seconds

    async def main() -> None:
        await asyncio.gather(
            *(
                _sender(port, bodies, offset + 7 * s, load, measure_from, until, cap)
                for s in range(senders)
            )
        )

    asyncio.run(main())
    load.window = min(until, time.monotonic()) - measure_from
    return load


# Servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_command(app: str, port: int, workers: int, pythonpath: Path) -> list[str]:
    command = [str(GUNICORN)]
    if (ROOT / "gunicorn.conf.py").is_file():
        command += ["-c", "gunicorn.conf.py"]
    else:  # the same settings spelled out, should the file be missing
        command += ["-w", str(workers), "-k", "gthread", "--threads", "8", "--keep-alive", "5"]
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


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Result:
    target: str
    requests: int
    rate: float
    p50: float
    p99: float
    non_202: dict[int, int]
    errors: int
    answered_202: int


def bench(target: str, app: str, args: argparse.Namespace, folder: Path) -> Result:
    """Serve ``app`` with gunicorn, load it, stop it; what the clients measured."""
    port = free_port()
    command = gunicorn_command(app, port, args.workers, ROOT / "scripts")
    env = dict(
        os.environ,
        INBOUND_TOKEN=TOKEN,
        WEB_CONCURRENCY=str(args.workers),
        PORT=str(port),
        ARCHIVER_DB=str(folder / "ledger.db"),
        ARCHIVE_DIR=str(folder / "archive"),
    )
    print(f"[{target}] {' '.join(command)}", flush=True)
    with open(folder / f"gunicorn-{target}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        wait_ready(port, process)
        time.sleep(1.0)  # let every worker finish booting before the clock starts
        start = time.monotonic() + 0.5
        share = [
            args.senders // args.loaders + (i < args.senders % args.loaders)
            for i in range(args.loaders)
        ]
        cap = args.max_requests // args.loaders
        jobs = [
            (port, n, 11 * i, start, args.warmup, args.seconds, cap) for i, n in enumerate(share)
        ]
        with multiprocessing.get_context("fork").Pool(args.loaders) as pool:
            loads = pool.starmap(run_loader, jobs)
    except RuntimeError:
        print((folder / f"gunicorn-{target}.log").read_text()[-2000:], file=sys.stderr)
        raise
    finally:
        stop(process)
    latencies = sorted(x for load in loads for x in load.latencies)
    statuses: Counter[int] = sum((load.statuses for load in loads), Counter())
    window = max(load.window for load in loads)
    cut = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0]
    return Result(
        target=target,
        requests=len(latencies),
        rate=len(latencies) / window if window > 0 else 0.0,
        p50=statistics.median(latencies) * 1000 if latencies else 0.0,
        p99=cut[-1] * 1000,
        non_202={s: c for s, c in statuses.items() if s != 202},
        errors=sum(load.errors for load in loads),
        answered_202=sum(load.answered_202 for load in loads),
    )


def ledger_events(db: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return None


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    default_workers = int(os.environ.get("WEB_CONCURRENCY", cores))  # as gunicorn.conf.py
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured load first")
    parser.add_argument("--senders", type=int, default=32, help="concurrent connections")
    parser.add_argument("--loaders", type=int, default=1, help="client processes sharing them")
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help=f"gunicorn workers (default: WEB_CONCURRENCY or {default_workers})",
    )
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap per target")
    parser.add_argument("--ours", default="service.app:create_app()", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.senders, args.loaders, args.workers) < 1 or args.seconds <= 0:
        parser.error("--senders, --loaders, --workers and --seconds must be positive")
    args.loaders = min(args.loaders, args.senders)
    threads = os.environ.get("WEB_THREADS", "8")  # as gunicorn.conf.py
    print(
        f"{cores} cores; gunicorn workers={args.workers} threads={threads}; "
        f"{args.senders} senders in {args.loaders} process(es); "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per target",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        bare = bench("bare", "bare_app:create_app()", args, folder)
        ours = bench("ours", args.ours, args, folder)
        stored = ledger_events(folder / "ledger.db")
    print()
    print(f"{'target':<8}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  non-202 / errors")
    for r in (bare, ours):
        bad = ", ".join(f"{c}x{s}" for s, c in sorted(r.non_202.items())) or "0"
        print(
            f"{r.target:<8}{r.requests:>10}{r.rate:>10.0f}{r.p50:>9.1f}{r.p99:>9.1f}"
            f"  {bad} / {r.errors}"
        )
    ratio = ours.rate / bare.rate if bare.rate else 0.0
    print(
        f"ratio: {ratio:.2f} (goal >= {GOAL_RATIO}) {'met' if ratio >= GOAL_RATIO else 'NOT met'}"
    )
    met = ours.p99 < GOAL_P99_MS
    print(f"p99: {ours.p99:.1f} ms (goal < {GOAL_P99_MS:.0f} ms) {'met' if met else 'NOT met'}")
    if stored is not None:
        print(f"ledger: {stored} events stored; {ours.answered_202} answers 202 (warm-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
