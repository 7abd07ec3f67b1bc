"""The ledger's connection: WAL, a busy timeout, durable commits and named migrations.

Every multi-step write goes through ``transaction()``, which takes SQLite's write
lock up front (``BEGIN IMMEDIATE``) so that two processes never interleave the
read and the write of one step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from ..errors import LedgerError
from .migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000


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
        # Taking the write lock first serialises processes that start at the same time.
        with transaction(db):
            MIGRATIONS.apply(db)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open the ledger at {path}: {exc}") from exc
    return db


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic, immediate-locking write; nested calls become savepoints."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
