"""The ledger's connection: a bounded wait for the write lock, and failed opens that
close what they opened and say why in one line."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.errors import LedgerError
from service.ledger import Ledger
from tests.helpers import ARCHIVER, wait_for
from tests.mounts import remount, tmpfs


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextmanager
def flock_held(ledger_path: Path) -> Iterator[None]:
    """The ledger's lock file locked from a descriptor of the test's own."""
    fd = os.open(f"{ledger_path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def write_lock_held(ledger_path: Path) -> Iterator[None]:
    """SQLite's write lock held by a plain connection that knows nothing of the flock."""
    conn = sqlite3.connect(ledger_path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.close()


def test_a_lock_path_that_is_a_folder_is_one_line_naming_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    (tmp_path / "ledger.db.lock").mkdir()
    before = open_descriptors()
    for _ in range(5):
        with pytest.raises(LedgerError) as caught:
            Ledger(path)
        message = str(caught.value)
        assert "\n" not in message
        assert str(path.absolute()) in message and "Is a directory" in message
    # Nothing opened for a failed attempt stays open.
    assert open_descriptors() == before
    (tmp_path / "ledger.db.lock").rmdir()
    with Ledger(path) as ledger:
        ledger.probe(wait=1)


def test_a_relative_ledger_path_is_named_absolute(tmp_path: Path) -> None:
    (tmp_path / "ledger.db.lock").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(LedgerError, match=f"at {tmp_path / 'ledger.db'}:"):
            Ledger(Path("ledger.db"))
    finally:
        os.chdir(cwd)


def test_the_cli_says_a_broken_lock_path_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Ledger(path).close()
    (tmp_path / "ledger.db.lock").unlink()
    (tmp_path / "ledger.db.lock").mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ARCHIVER_DB": str(path)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    done = subprocess.run(
        [*ARCHIVER, "ledger", "events", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (1, 2), done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and "Is a directory" in lines[0]


def test_a_held_flock_fails_a_write_after_the_lock_timeout(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path, lock_timeout=0.3) as ledger, flock_held(path):
        began = time.monotonic()
        with (
            pytest.raises(LedgerError, match=r"locked by another process: waited 0\.3 s"),
            ledger.transaction(),
        ):
            pass
        assert 0.3 <= time.monotonic() - began < 2
        # A shorter wait of its own, for a probe.
        began = time.monotonic()
        with pytest.raises(LedgerError, match=r"waited 0\.1 s"):
            ledger.probe(wait=0.1)
        assert time.monotonic() - began < 1
    with Ledger(path, lock_timeout=0.3) as ledger:  # released: writes go through
        ledger.probe(wait=0.3)


def test_opening_fails_in_time_while_the_flock_is_held(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Ledger(path).close()
    with flock_held(path):
        began = time.monotonic()
        with pytest.raises(LedgerError, match=r"cannot open the ledger at .*locked"):
            Ledger(path, lock_timeout=0.3)
        assert time.monotonic() - began < 2


def test_sqlites_write_lock_held_elsewhere_fails_in_time(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path, lock_timeout=0.3) as ledger:
        with write_lock_held(path):
            began = time.monotonic()
            with pytest.raises(LedgerError, match="locked by another process"):
                ledger.probe(wait=0.2)
            assert time.monotonic() - began < 2
        # The probe's short wait was for that write only; this one waits as usual.
        ledger.probe(wait=0.3)
        timeout = ledger.db.execute("PRAGMA busy_timeout").fetchone()[0]
        assert timeout == 300


def test_a_writer_waits_for_a_lock_released_within_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path, lock_timeout=5) as ledger:
        fd = os.open(f"{path}.lock", os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        release = threading.Timer(0.3, os.close, [fd])  # closing the descriptor unlocks
        release.start()
        began = time.monotonic()
        ledger.probe(wait=5)
        took = time.monotonic() - began
        release.join()
    assert 0.25 <= took < 2


def test_a_write_that_gave_up_leaves_the_lock_free_for_others(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path, lock_timeout=0.2) as ledger:
        fd = os.open(f"{path}.lock", os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        for _ in range(2):  # two waits given up, both still queued behind the holder
            with pytest.raises(LedgerError, match="locked by another process"):
                ledger.probe(wait=0.1)
        os.close(fd)  # the holder lets go
        other = os.open(f"{path}.lock", os.O_RDWR)
        try:

            def taken() -> bool:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                fcntl.flock(other, fcntl.LOCK_UN)
                return True

            wait_for(taken, timeout=5, what="the lock to be free")
        finally:
            os.close(other)
        ledger.probe(wait=1)  # and the connection that gave up writes again


def test_the_probe_commits_a_row_others_see(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path) as ledger:
        ledger.probe(wait=1)
    with sqlite3.connect(path) as other:
        rows = other.execute("SELECT key FROM meta WHERE key = 'ready_probe'").fetchall()
    assert rows == [("ready_probe",)]


LEFT_OPEN = """
import os, sys
from pathlib import Path
from service.ledger import Ledger
ledger = Ledger(Path(sys.argv[1]))
os._exit(0)  # gone without closing: the -wal and -shm files stay, as after a crash
"""


def test_after_a_read_only_mount_the_next_open_succeeds(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size="4m") as disk:
        path = disk / "ledger.db"
        subprocess.run([sys.executable, "-c", LEFT_OPEN, str(path)], check=True, timeout=60)
        remount(disk, "ro")
        failures: list[Exception] = []
        try:
            for _ in range(2):
                try:
                    Ledger(path).close()
                except Exception as exc:
                    failures.append(exc)
        finally:
            remount(disk, "rw")
        # The same process, once the mount is writable again: nothing left open by the
        # failed attempts keeps a read-only view of the file.
        with Ledger(path) as ledger:
            ledger.probe(wait=1)
    assert len(failures) == 2
    for failure in failures:
        assert isinstance(failure, LedgerError), repr(failure)
        assert "\n" not in str(failure) and str(path) in str(failure)
