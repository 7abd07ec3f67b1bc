"""The ledger's connection: WAL, a bounded wait for the write lock, durable commits and
named migrations.

Every multi-step write goes through ``transaction()``, which takes SQLite's write
lock up front (``BEGIN IMMEDIATE``) so that two processes never interleave the
read and the write of one step. Before that it takes an exclusive ``flock`` on a
lock file beside the ledger (``lockfile.py``): writers then queue in the kernel and
wake the moment the lock is free, instead of polling in SQLite's busy handler, whose
growing sleeps (up to 100 ms) would otherwise set the tail latency of every webhook
under load. Both waits end after the connection's lock timeout: no writer, probe or
request ever waits without limit.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ..errors import LedgerError
from .lockfile import LockFile
from .migrations import MIGRATIONS

LOCK_TIMEOUT_SECONDS = 30.0  # default wait for the write lock (LEDGER_LOCK_TIMEOUT_SECONDS)

# Each connection's own descriptor on the lock file: flock excludes other descriptors,
# so threads with connections of their own exclude each other too.
_LOCKS: weakref.WeakKeyDictionary[Database, tuple[LockFile, weakref.finalize]] = (
    weakref.WeakKeyDictionary()
)


def connect(
    path: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS, give_way: float = 0.0
) -> Database:
    """Open (creating folder and file if needed) and migrate the ledger at ``path``.

    ``give_way``: seconds each write first waits for a moment the lock is free, letting
    queued writers go ahead (``lockfile.py``); the worker's connections use it.

    Any failure closes what was opened (a leaked connection would keep a read-only
    view of the file after a remount) and raises ``LedgerError`` in one line.
    """
    where = path.absolute()
    conn: sqlite3.Connection | None = None
    db: Database | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGIN; transaction() below says when.
        conn = sqlite3.connect(
            str(path), timeout=lock_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {_millis(lock_timeout)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before it returns, so an acknowledged write survives
        # a power cut. WAL keeps that to one fsync per commit.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn, execute_plugins=False)
        lock = LockFile(Path(f"{where}.lock"), lock_timeout, give_way=give_way)
        _LOCKS[db] = (lock, weakref.finalize(db, lock.close))
        # Taking the write lock first serialises processes that start at the same time.
        with transaction(db):
            MIGRATIONS.apply(db)
    except BaseException as exc:
        if db is not None:
            close(db)
        elif conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.Error | OSError | LedgerError):
            raise LedgerError(f"cannot open the ledger at {where}: {_reason(exc)}") from exc
        raise
    return db


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line: an OSError's text and file, or the error's message."""
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _millis(seconds: float) -> int:
    return max(1, round(seconds * 1000))


@contextmanager
def transaction(db: Database, *, wait: float | None = None) -> Iterator[Database]:
    """One atomic, immediate-locking write; a nested call joins the outer transaction.

    ``wait`` (seconds) replaces the connection's lock timeout for this write, for
    callers such as the readiness probe that must answer quickly. Waiting longer
    raises ``LedgerError``. Nested calls add no savepoint: nothing of ours catches an
    error inside a transaction and carries on, so a failure anywhere rolls back the
    whole write.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    lock = _LOCKS.get(db, (None, None))[0]
    usual = lock.timeout if lock else LOCK_TIMEOUT_SECONDS
    timeout = usual if wait is None else wait
    if lock is not None:
        lock.acquire(timeout)
    try:
        _begin(conn, timeout, usual)
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if lock is not None:
            lock.release()


def _begin(conn: sqlite3.Connection, timeout: float, usual: float) -> None:
    """``BEGIN IMMEDIATE`` within ``timeout`` (a connection outside our flock may hold it)."""
    if timeout != usual:
        conn.execute(f"PRAGMA busy_timeout = {_millis(timeout)}")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise LedgerError(
            f"the ledger is locked by another process: waited {timeout:g} s for its write lock"
        ) from exc
    finally:
        if timeout != usual:
            conn.execute(f"PRAGMA busy_timeout = {_millis(usual)}")


def close(db: Database) -> None:
    """Close the connection and its lock file descriptor."""
    lock = _LOCKS.pop(db, None)
    db.close()
    if lock:
        lock[1]()  # the finalizer closes the lock file once, whoever calls it first


def update_in_batches(db: Database, sql: str, params: list[Any], batch: int) -> int:
    """Repeat an UPDATE whose SQL ends in ``LIMIT ?`` until it changes fewer than ``batch``
    rows, each round its own transaction so that no write holds the lock for long; return
    how many rows changed in all."""
    changed = 0
    while True:
        with transaction(db):
            count = db.execute(sql, [*params, batch]).rowcount
        changed += count
        if count < batch:
            return changed


def probe(db: Database, *, wait: float) -> None:
    """Commit a real write (the ``ready_probe`` row of ``meta``) within ``wait`` seconds."""
    with transaction(db, wait=wait):
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('ready_probe', strftime('%Y-%m-%dT%H:%M:%fZ'))"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
