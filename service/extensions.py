"""What every process keeps on its app: the settings, the ledger pool, the ingest writer.

``create_app`` calls ``init_app``; blueprints, the worker and the commands read them through
the accessors below, inside the app's context, so that nothing imports ``service.app`` back.
Nothing here opens a database: connections open on first use, after any fork.
"""

from __future__ import annotations

from flask import Flask, current_app

from .config import Settings
from .inbound.committer import GroupCommit
from .ledger import Ledger
from .ledger.pool import LedgerPool
from .outbound.settings import outbound_from

SETTINGS = "archiver.settings"
LEDGERS = "archiver.ledgers"
INGEST = "archiver.ingest"


def init_app(app: Flask, settings: Settings) -> None:
    """Keep ``settings`` on ``app`` with the resources built from them (none opened yet)."""
    wait = settings.ledger_lock_timeout_seconds
    app.extensions[SETTINGS] = settings
    app.extensions[LEDGERS] = LedgerPool(settings.archiver_db, lock_timeout=wait)
    targets = outbound_from(settings).names  # for strategy.deleted
    app.extensions[INGEST] = GroupCommit(settings.archiver_db, lock_timeout=wait, notify=targets)


def settings(app: Flask | None = None) -> Settings:
    """The settings of ``app`` (default: the app whose context this is)."""
    value: Settings = (current_app if app is None else app).extensions[SETTINGS]
    return value


def ledger() -> Ledger:
    """This process's and thread's ledger connection, opened on first use."""
    pool: LedgerPool = current_app.extensions[LEDGERS]
    return pool.get()


def ingest() -> GroupCommit:
    """This process's group commit of inbound events (its writer starts on first use)."""
    committer: GroupCommit = current_app.extensions[INGEST]
    return committer
