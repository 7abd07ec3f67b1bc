"""``archiver worker`` killed with SIGKILL while it commits the history, and two at once:
afterwards every archived version is committed once, in the ledger's order, and the ledger
records exactly the branch (checked with the real ``git``)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from service.archive import open_archiver
from service.config import Settings, load_settings
from service.history.commits import version_changes
from service.history.repo import HistoryRepo
from service.ledger import Ledger, history
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import ARCHIVER, WORKER_TUNING, branch_ids, cli_env, history_env, wait_for
from tests.processes import Process

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")

OBJECTS = ((DEMO_STRATEGY_ID, "routing-strategy"), (DEMO_FLOW_ID, "flow"))
ROUNDS = 8


def environment(simulator: SimulatorServer, tmp_path: Path) -> dict[str, str]:
    # No pruning at start (its write would come first), a long wait for the ledger's lock.
    tuning = {**WORKER_TUNING, "EVENT_RETENTION_DAYS": "0", "LEDGER_LOCK_TIMEOUT_SECONDS": "60"}
    return cli_env(simulator, tmp_path, **history_env(tmp_path), **tuning)


def worker(env: dict[str, str], cwd: Path, name: str) -> Process:
    """A real ``archiver worker``, running once it said so."""
    started = Process([*ARCHIVER, "worker"], env, cwd, name)
    wait_for(
        lambda: "started" in started.output or not started.alive(),
        what=f"{name} to start",
        details=lambda: started.output,
    )
    assert started.alive(), started.output
    return started


def archive_all(settings: Settings, ledger: Ledger) -> None:
    """Archive what is new of every object, in this process (the worker only commits)."""
    with open_archiver(settings, ledger) as archiver:
        for object_id, source in OBJECTS:
            archiver.run(object_id, source)


def head_of(repo: Path) -> str | None:
    """Where the branch is (None: nowhere yet)."""
    with HistoryRepo.open(repo, "main") as opened:
        return opened.head()


def check_history(settings: Settings, ledger: Ledger) -> list[str]:
    """Every archived version committed once, in the ledger's order, ledger == branch."""
    assert settings.history_repo is not None
    ids = branch_ids(settings.history_repo)
    recorded = history.all_commits(ledger)
    assert [row.commit for row in recorded] == ids
    planned = []
    for (location,) in ledger.db.execute("SELECT location FROM archives ORDER BY rowid"):
        document = (settings.archive_dir / location).read_bytes()
        planned += [
            (c.object_id, c.version_id)
            for c in version_changes(json.loads(document))
            if (c.object_id, c.version_id) not in planned
        ]
    assert [(row.object_id, row.version_id) for row in recorded] == planned
    fsck = subprocess.run(
        ["git", "--git-dir", str(settings.history_repo), "fsck", "--strict"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fsck.returncode == 0, fsck.stderr
    return ids


def test_a_worker_killed_after_moving_the_branch_is_recorded_by_the_next(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = environment(simulator, tmp_path)
    settings = load_settings(env)
    assert settings.history_repo is not None
    with Ledger(settings.archiver_db) as ledger:
        first = worker(env, tmp_path, "first")
        try:
            repo = HistoryRepo.open(settings.history_repo, "main")
            with ExitStack() as held:
                # Items appear while the history's lock is ours; the ledger's lock is ours
                # before the worker may take the history's: it commits, moves the branch,
                # then waits to record, and is killed there.
                with repo.lock():
                    archive_all(settings, ledger)
                    held.enter_context(ledger.transaction())
                wait_for(repo.head, what="the branch to move", details=lambda: first.output)
                first.kill()
            moved = branch_ids(settings.history_repo)
            repo.close()
        finally:
            first.kill()
        assert history.last_commit(ledger) is None  # the ledger never heard of them
        assert len(history.pending_items(ledger)) == 2

        second = worker(env, tmp_path, "second")
        try:
            wait_for(
                lambda: history.pending_items(ledger) == [],
                what="the second worker to record",
                details=lambda: second.output,
            )
        finally:
            second.kill()
        assert check_history(settings, ledger) == moved  # recorded, none made again
        assert "recorded" in second.output and "stopped run" in second.output


def test_a_worker_killed_while_writing_objects_leaves_them_unreferenced_and_harmless(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = environment(simulator, tmp_path)
    settings = load_settings(env)
    assert settings.history_repo is not None
    packs = settings.history_repo / "objects" / "pack"
    caught = 0
    with Ledger(settings.archiver_db) as ledger:
        HistoryRepo.open(settings.history_repo, "main").close()
        for attempt in range(5):
            # Enough versions for one pack (64 objects or more), written before the branch moves.
            simulator.state.add_versions(DEMO_FLOW_ID, 30)
            archive_all(settings, ledger)
            before = set(os.listdir(packs))
            head = head_of(settings.history_repo)
            process = Process([*ARCHIVER, "worker"], env, tmp_path, f"writer{attempt}")
            try:
                deadline = time.monotonic() + 60
                while set(os.listdir(packs)) == before and process.alive():
                    assert time.monotonic() < deadline, process.output
                os.kill(process.pid, signal.SIGKILL)  # the moment its pack appears
            finally:
                process.kill()
            if head_of(settings.history_repo) == head:
                caught += 1  # objects written, the branch not moved
                assert history.last_commit(ledger) == head
                break
        assert caught, "no worker was killed between writing objects and moving the branch"
        second = worker(env, tmp_path, "finisher")
        try:
            wait_for(
                lambda: history.pending_items(ledger) == [],
                what="the next worker to commit",
                details=lambda: second.output,
            )
        finally:
            second.kill()
        check_history(settings, ledger)


def test_workers_killed_at_random_moments_commit_every_version_once(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = environment(simulator, tmp_path)
    settings = load_settings(env)
    chance = random.Random(11)
    assert settings.history_repo is not None
    with Ledger(settings.archiver_db) as ledger:
        for round_ in range(ROUNDS):
            simulator.state.add_versions(DEMO_STRATEGY_ID, 3)
            simulator.state.add_versions(DEMO_FLOW_ID, 2)
            archive_all(settings, ledger)
            pair = [Process([*ARCHIVER, "worker"], env, tmp_path, f"r{round_}-{n}") for n in (0, 1)]
            try:
                # Anywhere from starting up to committing, recording or idle afterwards.
                time.sleep(chance.uniform(0.3, 1.5))
            finally:
                for process in pair:
                    process.kill()
        # A last pair, left to finish: two processes at once, never committing twice.
        pair = [worker(env, tmp_path, f"last-{n}") for n in range(2)]
        try:
            wait_for(
                lambda: history.pending_items(ledger) == [],
                timeout=60,
                what="the last workers to commit everything",
                details=lambda: pair[0].output + pair[1].output,
            )
        finally:
            for process in pair:
                process.kill()
        ids = check_history(settings, ledger)
        assert len(ids) == len(set(ids)) >= ROUNDS * 5
