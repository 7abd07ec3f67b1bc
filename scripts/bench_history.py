"""Benchmark the history repository against ``git fast-import``, git's own bulk writer.

Generates OBJECTS flows with VERSIONS versions each (configurations of 3-9 KB in the
simulator's shape, ids stable from one version to the next as in Genesys; every tenth
version republishes the previous content, an empty commit; every twentieth flow is
renamed half-way), one archive document per version in the product's format, archived
version by version across the flows. The documents go to cold storage and a ledger
records them as the archive job does; the worker's history lane commits them (the
backlog in one run, then the last LIVE archives one at a time, each timed from its record
to its commit). Then, RUNS times, alternately:

- the product: ``archiver history rebuild --to PATH``, a process of its own, replaying the
  ledger and cold storage into a new repository (``--product commit``: read the documents
  and call ``HistoryRepo.commit`` in this process instead, 1,000 archives per call);
- the ceiling: ``git fast-import`` of a stream holding the very same commits (authors,
  dates, messages, blobs, renames), generated beforehand and read from a file.

Checks that both repositories end at the same commit id (so every commit is the same),
prints each run and the best of each side, their ratio fast-import/product (goal: at
least 0.5) and the repository sizes. Exit 0, or 1 when the two histories differ.

    .venv/bin/python scripts/bench_history.py [--objects 200] [--versions 50] [--runs 3]
        [--live 100] [--product rebuild|commit] [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.archive.payload import Retention, build_payload  # noqa: E402
from service.archive.store import digest, document_location  # noqa: E402
from service.genesys.sources import Strategy, flow_version  # noqa: E402
from service.history.commits import COMMITTER, Change, version_changes  # noqa: E402
from service.history.lane import HistoryConfig, run_history  # noqa: E402
from service.history.repo import HistoryRepo  # noqa: E402
from service.ledger import Ledger, archives  # noqa: E402
from service.simulator.data import DAY_MS, FLOW, build_item, seeded_id  # noqa: E402
from service.simulator.render import flow_configuration, flow_version_doc  # noqa: E402

GOAL_RATIO = 0.5
ARCHIVES_PER_CALL = 1000  # as `archiver history rebuild` replays its items
NEWEST_MS = 1_795_851_731_421  # 2026-11-28: fixed, so that every run makes the same ids


def generate_archives(objects: int, versions: int) -> Iterator[dict[str, Any]]:
    """One archive document per version, version by version across the flows."""
    items = [
        build_item(
            FLOW,
            seeded_id("bench", str(n)),
            f"Bench flow {n}",
            "INBOUNDCALL",
            versions,
            NEWEST_MS - n * 60_000,
            spacing_ms=DAY_MS // 4,
        )
        for n in range(objects)
    ]
    now = datetime.fromtimestamp(NEWEST_MS / 1000 + 3600, UTC)
    for index in range(versions):
        for n, item in enumerate(items):
            version = item.versions[index]
            content_number = version.number - 1 if version.number % 10 == 0 else version.number
            # Stable ids (as Genesys keeps them): the configuration of "version 1" numbered on.
            shape = dataclasses.replace(version, id="1.0", number=content_number)
            configuration = flow_configuration(item, shape)
            if n % 20 == 0 and version.number > versions // 2:
                configuration["name"] = f"{item.name} (renamed)"
            document = dict(flow_version_doc(item, version), configuration=configuration)
            strategy = Strategy(item.id, configuration["name"], FLOW)
            yield build_payload(
                strategy,
                [flow_version(document)],
                retention=Retention(),
                total_versions=version.number,
                now=now,
            )


def write_documents(folder: Path, objects: int, versions: int) -> list[Path]:
    """The archive documents as files, as cold storage holds them; in archive order."""
    folder.mkdir(parents=True)
    paths = []
    for number, archive in enumerate(generate_archives(objects, versions)):
        path = folder / f"{number:06d}.json"
        path.write_bytes(json.dumps(archive, ensure_ascii=False, indent=2).encode() + b"\n")
        paths.append(path)
    return paths


@dataclass
class Live:
    """What the worker's history lane took while the ledger was prepared."""

    backlog: int  # archives committed in one run of the lane
    backlog_seconds: float
    one_by_one: list[float]  # seconds for each later archive, recorded and then committed


def prepare_ledger(work: Path, documents: list[Path], live: int) -> tuple[dict[str, str], Live]:
    """A ledger recording every archive (the documents in cold storage, as the worker
    leaves them) and the history the worker's lane commits: the backlog in one run, then
    the last ``live`` archives one at a time as they come. The environment of
    ``archiver`` on them, and the lane's times."""
    archive_dir = work / "cold-storage"
    config = HistoryConfig(repo=work / "live.git", branch="main", archive_dir=archive_dir)
    backlog = documents[: len(documents) - live]
    ledger = Ledger(work / "ledger.db")
    try:
        for path in backlog:
            record(ledger, archive_dir, path)
        started = time.perf_counter()
        run_history(ledger, config)
        times = Live(len(backlog), time.perf_counter() - started, [])
        for path in documents[len(backlog) :]:
            started = time.perf_counter()
            record(ledger, archive_dir, path)
            run_history(ledger, config)
            times.one_by_one.append(time.perf_counter() - started)
    finally:
        ledger.close()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "ARCHIVER_DB": str(work / "ledger.db"),
        "ARCHIVE_DIR": str(archive_dir),
        "HISTORY_REPO": str(work / "live.git"),
        "LOG_FORMAT": "json",
    }
    return env, times


def record(ledger: Ledger, archive_dir: Path, path: Path) -> None:
    """Put an archive document in cold storage and record it, as the archive job does."""
    data = path.read_bytes()
    archive = json.loads(data)
    location = document_location(
        archive["sourceType"], archive["strategyId"], archive["idempotencyKey"]
    )
    (archive_dir / location).parent.mkdir(parents=True, exist_ok=True)
    (archive_dir / location).write_bytes(data)
    archives.record_archive(
        ledger,
        idempotency_key=archive["idempotencyKey"],
        strategy_id=archive["strategyId"],
        source_type=archive["sourceType"],
        strategy_name=archive["strategyName"],
        version_ids=[row["versionId"] for row in archive["versionMatrix"]],
        archive_timestamp=archive["archiveTimestamp"],
        sha256=digest(data),
        size=len(data),
        location=location,
        submission=archives.Submission.LOCAL,
        history=True,
    )


def rebuild(env: dict[str, str], target: Path) -> tuple[float, str]:
    """Seconds for ``archiver history rebuild --to target`` (a process of its own), and
    the head it printed."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "history", "rebuild", "--to", str(target)],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"archiver history rebuild failed ({done.returncode}): {done.stderr}")
    return elapsed, git(target, "rev-parse", "refs/heads/main")


def product(documents: list[Path], target: Path) -> tuple[float, str]:
    """Seconds to commit every archive into a new repository, and the branch's head."""
    started = time.perf_counter()
    with HistoryRepo.open(target) as repo:
        head = None
        for start in range(0, len(documents), ARCHIVES_PER_CALL):
            changes: list[Change] = []
            for path in documents[start : start + ARCHIVES_PER_CALL]:
                changes += version_changes(json.loads(path.read_bytes()))
            head = repo.commit(changes, parent=head)[-1]
    assert head is not None
    return time.perf_counter() - started, head


def fast_import_stream(documents: list[Path], branch: str = "main") -> bytes:
    """The same commits as a ``git fast-import`` stream (renames as delete and add)."""
    out = bytearray()
    paths: dict[tuple[str, str], str] = {}
    committer = COMMITTER.ident()
    for path in documents:
        for change in version_changes(json.loads(path.read_bytes())):
            message = change.message.encode()
            out += b"commit refs/heads/%s\n" % branch.encode()
            out += b"author %s %d +0000\n" % (change.author.ident(), change.when)
            out += b"committer %s %d +0000\n" % (committer, change.when)
            out += b"data %d\n%s" % (len(message), message)
            key = (change.source_type, change.object_id)
            old = paths.get(key)
            if old is not None and (change.content is None or old != change.path):
                out += b"D %s\n" % old.encode()
                del paths[key]
            if change.content is not None:
                out += b"M 100644 inline %s\n" % change.path.encode()
                out += b"data %d\n%s\n" % (len(change.content), change.content)
                paths[key] = change.path
    return bytes(out)


def fast_import(stream: Path, target: Path) -> tuple[float, str]:
    """Seconds for ``git fast-import`` to read ``stream`` into a new bare repository."""
    subprocess.run(["git", "init", "-q", "--bare", str(target)], check=True)
    started = time.perf_counter()
    with stream.open("rb") as feed:
        subprocess.run(["git", "-C", str(target), "fast-import", "--quiet"], stdin=feed, check=True)
    elapsed = time.perf_counter() - started
    return elapsed, git(target, "rev-parse", "refs/heads/main")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def size(folder: Path) -> str:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{total / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time the history repository against git fast-import on the same commits."
    )
    parser.add_argument("--objects", type=int, default=200, help="flows (default 200)")
    parser.add_argument("--versions", type=int, default=50, help="versions each (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument(
        "--product",
        choices=("rebuild", "commit"),
        default="rebuild",
        help="time `archiver history rebuild --to` on a prepared ledger and cold storage "
        "(default), or HistoryRepo.commit in this process",
    )
    parser.add_argument(
        "--live",
        type=int,
        default=100,
        help="with rebuild: the last LIVE archives are committed one at a time (default 100)",
    )
    parser.add_argument("--keep", type=Path, help="leave the files in this new folder")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        started = time.perf_counter()
        documents = write_documents(work / "archives", args.objects, args.versions)
        stream = work / "stream.fi"
        stream.write_bytes(fast_import_stream(documents))
        print(
            f"{len(documents)} archive documents of {args.objects} flows x {args.versions} "
            f"versions, stream {stream.stat().st_size / 1e6:.1f} MB "
            f"(prepared in {time.perf_counter() - started:.1f} s)"
        )
        if args.product == "rebuild":
            env, live = prepare_ledger(work, documents, min(args.live, len(documents) - 1))
            print(
                f"the worker's history lane: a backlog of {live.backlog} archives committed "
                f"in {live.backlog_seconds:.2f} s"
            )
            if live.one_by_one:
                times = sorted(live.one_by_one)
                print(
                    f"then {len(times)} archives one at a time, each recorded and committed "
                    f"in: median {statistics.median(times) * 1000:.0f} ms, "
                    f"max {times[-1] * 1000:.0f} ms"
                )
        best_product = best_git = float("inf")
        heads = set()
        for run in range(1, args.runs + 1):
            target = work / f"product-{run}.git"
            if args.product == "rebuild":
                ours, our_head = rebuild(env, target)
            else:
                ours, our_head = product(documents, target)
            theirs, their_head = fast_import(stream, work / f"fast-import-{run}.git")
            heads |= {our_head, their_head}
            best_product, best_git = min(best_product, ours), min(best_git, theirs)
            print(
                f"run {run}: product {ours:.2f} s, git fast-import {theirs:.2f} s, "
                f"ratio {theirs / ours:.2f}"
            )
        ratio = best_git / best_product
        print(
            f"best: product {best_product:.2f} s ({len(documents) / best_product:,.0f} "
            f"versions/s), git fast-import {best_git:.2f} s; ratio fast-import/product "
            f"{ratio:.2f} (goal >= {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'NOT met'})"
        )
        print(
            f"repository size: product {size(work / 'product-1.git')}, "
            f"git fast-import {size(work / 'fast-import-1.git')}"
        )
        if len(heads) != 1:
            print(f"DIFFERENT histories: heads {sorted(heads)}")
            return 1
        print(f"same commits on both sides: head {heads.pop()}")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
