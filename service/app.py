"""``create_app()``: the one wiring point of the web process.

Settings (defaults, then the environment, or a test mapping), the ledger pool,
then one blueprint per surface. Nothing is built at import time and no database
connection is opened before gunicorn forks: connections open on first use.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app

from .config import Settings, load_settings
from .inbound.committer import GroupCommit
from .ledger import Ledger
from .ledger.pool import LedgerPool
from .ops.logs import ensure_logging

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the web app; ``config`` replaces the environment (tests pass a mapping)."""
    settings = load_settings(config) if config is not None else load_settings()
    settings.require("INBOUND_TOKEN", purpose="by the web process")
    ensure_logging(settings, "web")  # gunicorn's workers have it from gunicorn.conf.py
    app = Flask("service")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["archiver.settings"] = settings
    app.extensions["archiver.ledgers"] = LedgerPool(settings.archiver_db)
    app.extensions["archiver.ingest"] = GroupCommit(settings.archiver_db)

    from .web import errors

    errors.init_app(app)
    from .inbound.webhooks import blueprint as webhooks

    app.register_blueprint(webhooks)
    from .web.admin import blueprint as admin
    from .web.health import blueprint as health
    from .web.metrics import blueprint as metrics

    app.register_blueprint(admin)
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    return app


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
