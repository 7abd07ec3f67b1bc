"""``create_app()``: the one wiring point of the web process.

Settings (defaults, then the environment, or a test mapping), the ledger pool,
then one blueprint per surface. Nothing is built at import time and no database
connection is opened before gunicorn forks (the app is not preloaded): each worker
creates and migrates the ledger as it starts, then connections open on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, current_app

from .config import Settings, load_settings
from .errors import LedgerError
from .inbound.committer import GroupCommit
from .ledger import Ledger
from .ledger.pool import LedgerPool
from .ops.logs import ensure_logging
from .ops.metrics import install_hooks

log = logging.getLogger("service.web")

MAX_BODY_BYTES = 1024 * 1024
# At start, wait at most this long for the ledger's lock: a gunicorn worker silent for
# its ``timeout`` (30 s) while booting would be killed, and booted again, in a loop.
START_WAIT_SECONDS = 5.0


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the web app; ``config`` replaces the environment (tests pass a mapping)."""
    settings = load_settings(config) if config is not None else load_settings()
    settings.require("INBOUND_TOKEN", purpose="by the web process")
    ensure_logging(settings, "web")  # gunicorn's workers have it from gunicorn.conf.py
    install_hooks()
    app = Flask("service")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["archiver.settings"] = settings
    wait = settings.ledger_lock_timeout_seconds
    app.extensions["archiver.ledgers"] = LedgerPool(settings.archiver_db, lock_timeout=wait)
    targets = [target.name for target in settings.vcs_targets]  # for strategy.deleted
    app.extensions["archiver.ingest"] = GroupCommit(
        settings.archiver_db, lock_timeout=wait, notify=targets
    )
    create_ledger(settings)

    from .web import bodytimeout, errors

    errors.init_app(app)
    bodytimeout.init_app(app, settings.body_read_timeout_seconds)
    from .inbound.webhooks import blueprint as webhooks

    app.register_blueprint(webhooks)
    from .web.admin import blueprint as admin
    from .web.health import blueprint as health
    from .web.metrics import blueprint as metrics

    app.register_blueprint(admin)
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    return app


def create_ledger(settings: Settings) -> None:
    """Create and migrate the ledger now (then close it: each thread opens its own).

    A ledger that cannot be opened at start (locked, read-only) must not stop the
    process: gunicorn would halt when a worker fails to boot. It is logged, ``/readyz``
    says so, and the ingest writer opens the ledger as soon as it can.
    """
    wait = min(START_WAIT_SECONDS, settings.ledger_lock_timeout_seconds)
    try:
        Ledger(settings.archiver_db, lock_timeout=wait).close()
    except LedgerError as exc:
        log.warning("the ledger cannot be opened at start (will try again on use): %s", exc)


def settings() -> Settings:
    """The running app's settings."""
    value: Settings = current_app.extensions["archiver.settings"]
    return value


def ingest() -> GroupCommit:
    """This process's group commit of inbound events."""
    committer: GroupCommit = current_app.extensions["archiver.ingest"]
    return committer


def ledger() -> Ledger:
    """This process's and thread's ledger connection."""
    pool: LedgerPool = current_app.extensions["archiver.ledgers"]
    return pool.get()
