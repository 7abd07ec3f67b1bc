#!/usr/bin/env python3
"""Copy the ledger to a backup file with SQLite's online backup, while everything runs.

Usage: .venv/bin/python scripts/backup_ledger.py DEST  (settings from the environment / .env)

The copy is a consistent snapshot even while web and worker processes write (WAL mode);
it is written to a temporary file first and renamed, so DEST is never half a database.
Back up the ledger first, then the archive folder: archive documents are written once and
never change, so every document the copied ledger names is then in the folder's copy.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from service.config import load_settings
from service.errors import ArchiverError


def backup(source: Path, dest: Path) -> int:
    """Snapshot ``source`` into ``dest``; return the number of audit entries copied."""
    if not source.is_file():
        raise FileNotFoundError(f"no ledger at {source}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
        with sqlite3.connect(partial) as out:
            src.backup(out)
            count = int(out.execute("SELECT count(*) FROM audit_log").fetchone()[0])
        out.close()
    src.close()
    os.replace(partial, dest)
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: backup_ledger.py DEST", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except ArchiverError as exc:
        print(f"backup_ledger: {exc}", file=sys.stderr)
        return 2
    try:
        entries = backup(settings.archiver_db, Path(argv[0]))
    except (OSError, sqlite3.Error) as exc:
        print(f"backup_ledger: {exc}", file=sys.stderr)
        return 1
    print(f"ledger {settings.archiver_db} copied to {argv[0]} ({entries} audit entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
