"""``archiver backup DEST``: a consistent copy of the ledger while everything runs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click

from ..errors import LedgerError
from .base import ArchiverCommand, CommandEnv, absolute, pass_env


def backup(source: Path, dest: Path) -> int:
    """Snapshot ``source`` into ``dest`` with SQLite's online backup (WAL: writers go on);
    return the number of audit entries copied. ``dest`` is written under a temporary name
    and renamed, so it is never half a database."""
    if not source.is_file():
        raise LedgerError(f"no ledger at {source} (ARCHIVER_DB)")
    try:
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
    except (OSError, sqlite3.Error) as exc:
        raise LedgerError(f"cannot back up {source} to {dest}: {exc}") from None
    return count


@click.command("backup", cls=ArchiverCommand, short_help="A consistent copy of the ledger.")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@pass_env
def backup_command(env: CommandEnv, dest: Path) -> None:
    """Copy the ledger to DEST, a consistent snapshot even while web and worker processes
    write (SQLite's online backup). Back up the ledger first, then the archive folder:
    archive documents never change, so every one the copy names is in the folder's copy.
    """
    source, dest = absolute(env.settings.archiver_db), absolute(dest)
    entries = backup(source, dest)
    click.echo(f"ledger {source} copied to {dest} ({entries} audit entries)")
