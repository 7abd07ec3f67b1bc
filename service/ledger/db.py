"""The ledger's connection: WAL, a busy timeout, durable commits and named migrations.

Every multi-step write goes through ``transaction()``, which takes SQLite's write
lock up front (``BEGIN IMMEDIATE``) so that two processes never interleave the
read and the write of one step. Before that it takes an exclusive ``flock`` on a
lock file beside the ledger: writers then queue in the kernel and wake the moment
the lock is free, instead of polling in SQLite's busy handler, whose growing sleeps
(up to 100 ms) would otherwise set the tail latency of every webhook under load.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from ..errors import LedgerError
from .migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000

# Each connection's own descriptor on the lock file: flock excludes other descriptors,
# so threads with connections of their own exclude each other too.
_LOCKS: weakref.WeakKeyDictionary[Database, tuple[int, weakref.finalize]] = (
    weakref.WeakKeyDictionary()
)


def connect(path: Path) -> Database:
    """Open (creating folder and file if needed) and migrate the ledger at ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGIN; transaction() below says when.
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before it returns, so an acknowledged write survives
        # a power cut. WAL keeps that to one fsync per commit.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn, execute_plugins=False)
        lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        _LOCKS[db] = (lock_fd, weakref.finalize(db, os.close, lock_fd))
        # Taking the write lock first serialises processes that start at the same time.
        with transaction(db):
            MIGRATIONS.apply(db)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open the ledger at {path}: {exc}") from exc
    return db


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic, immediate-locking write; a nested call joins the outer transaction.

    Nested calls add no savepoint: nothing of ours catches an error inside a transaction
    and carries on, so a failure anywhere rolls back the whole write.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    lock = _LOCKS.get(db)
    lock_fd = lock[0] if lock else None
    if lock_fd is not None:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if lock_fd is not None:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)


def close(db: Database) -> None:
    """Close the connection and its lock file descriptor."""
    lock = _LOCKS.pop(db, None)
    db.close()
    if lock:
        lock[1]()  # the finalizer closes the descriptor once, whoever calls it first
