"""The lock file that queues the ledger's writers, and the worker's way of giving way."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from service.errors import LedgerError
from service.ledger.lockfile import LockFile
from tests.helpers import wait_for


def queued_on(path: Path) -> int:
    """How many waits for ``path``'s flock the kernel has queued (``->`` in /proc/locks)."""
    inode = f":{os.stat(path).st_ino}"
    return sum(
        1
        for line in Path("/proc/locks").read_text().splitlines()
        if " -> " in line and any(field.endswith(inode) for field in line.split())
    )


@pytest.fixture
def held(tmp_path: Path):
    """A lock file whose lock another descriptor holds until the test releases it."""
    path = tmp_path / "ledger.db.lock"
    holder = LockFile(path, 5.0)
    holder.acquire()
    yield path, holder
    holder.close()


def test_a_writer_giving_way_stays_out_of_the_queue_then_joins_it(held) -> None:
    path, holder = held
    polite = LockFile(path, 5.0, give_way=0.6)
    took = threading.Event()
    threading.Thread(target=lambda: (polite.acquire(), took.set()), daemon=True).start()
    time.sleep(0.3)
    assert queued_on(path) == 0  # giving way: looking for a free moment, not queued
    wait_for(lambda: queued_on(path) == 1, timeout=2.0, what="the writer to queue at last")
    assert not took.is_set()
    holder.release()
    assert took.wait(2.0)
    polite.close()


def test_queued_writers_go_ahead_of_one_giving_way(tmp_path: Path) -> None:
    # Best effort, by design: a release wakes the queued writer, and the one giving way
    # may look in that instant. Over rounds, the queued writer goes first nearly always
    # (where two queued writers would each go first about half the time).
    path = tmp_path / "ledger.db.lock"
    holder, queued = LockFile(path, 5.0), LockFile(path, 5.0)
    polite = LockFile(path, 5.0, give_way=3.0)
    firsts: list[str] = []
    for _ in range(20):
        order: list[str] = []

        def take(name: str, lock: LockFile, order: list[str] = order) -> None:
            lock.acquire()
            order.append(name)
            lock.release()

        holder.acquire()
        first = threading.Thread(target=take, args=("queued", queued))
        first.start()
        wait_for(lambda: queued_on(path) == 1, timeout=2.0, what="the writer to queue")
        second = threading.Thread(target=take, args=("giving way", polite))
        second.start()
        time.sleep(0.02)
        assert queued_on(path) == 1  # only the first: the second looks for a free moment
        holder.release()
        first.join(5.0)
        second.join(5.0)
        assert sorted(order) == ["giving way", "queued"]
        firsts.append(order[0])
    assert firsts.count("queued") >= 16, firsts
    for lock in (holder, queued, polite):
        lock.close()


def test_giving_way_counts_within_the_lock_timeout(held) -> None:
    path, _ = held
    polite = LockFile(path, 0.5, give_way=0.3)
    started = time.monotonic()
    with pytest.raises(LedgerError, match=r"waited 0\.5 s for the lock on "):
        polite.acquire()
    assert 0.45 < time.monotonic() - started < 1.5
    polite.close()


def test_a_free_lock_is_taken_at_once_when_giving_way(tmp_path: Path) -> None:
    polite = LockFile(tmp_path / "ledger.db.lock", 5.0, give_way=5.0)
    started = time.monotonic()
    polite.acquire()
    assert time.monotonic() - started < 0.5
    polite.release()
    polite.close()
