"""Turning versions into a stored, recorded, submitted archive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..config import Settings
from ..genesys.client import GenesysClient
from ..ledger import Ledger
from ..ops.metrics import install_hooks
from .pipeline import Archiver, ArchiveRun
from .submit import ArchivalClient

__all__ = ["ArchiveRun", "Archiver", "open_archiver", "summary_line"]


@contextmanager
def open_archiver(settings: Settings, ledger: Ledger | None = None) -> Iterator[Archiver]:
    """An ``Archiver`` wired from settings, its clients closed afterwards."""
    install_hooks()
    genesys = GenesysClient.from_settings(settings)
    archival = ArchivalClient.from_settings(settings)
    own_ledger = ledger is None
    ledger = ledger or Ledger.from_settings(settings)
    try:
        yield Archiver(settings, ledger, genesys, archival)
    finally:
        genesys.close()
        if archival:
            archival.close()
        if own_ledger:
            ledger.close()


def summary_line(run: ArchiveRun, settings: Settings) -> str:
    """One line: strategy, versions archived, the archive as ``archive <id> (key <key>)``
    (as ``ledger archives`` and ``GET /archives/<id>`` show it), location (and submission)."""
    finished = f"; finished {len(run.finished)} earlier archive(s)" if run.finished else ""
    if run.archive is None:
        return f"{run.source_type} {run.strategy_id}: no new versions to archive{finished}"
    archive = run.archive
    verb = "archived" if run.created else "already archived"
    return (
        f'{verb} {run.source_type} {run.strategy_id} "{archive.strategy_name}": '
        f"{len(archive.version_ids)} version(s) in archive {archive.id} "
        f"(key {archive.idempotency_key}), "
        f"{settings.archive_dir / archive.location} [{archive.submission}]{finished}"
    )
