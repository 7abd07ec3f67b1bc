"""``create_app()``: the one wiring point of every process.

Settings (defaults, then the environment, or a test mapping), then the resources every
process shares (``service.extensions``); the web process adds its surfaces, one blueprint
each. The worker and the commands build the same app with ``web=False`` and work inside
its context. Nothing is built at import time and no database connection is opened before
gunicorn forks (the app is not preloaded): each web worker creates and migrates the ledger
as it starts, then connections open on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from flask import Flask

from . import extensions
from .config import Settings, load_settings
from .errors import ArchiverError, LedgerError
from .genesys.sources import enabled_types
from .ledger import Ledger
from .outbound.settings import outbound_from

log = logging.getLogger("service.web")

MAX_BODY_BYTES = 1024 * 1024
# At start, wait at most this long for the ledger's lock: a gunicorn worker silent for
# its ``timeout`` (30 s) while booting would be killed, and booted again, in a loop.
START_WAIT_SECONDS = 5.0


def read_settings(config: Mapping[str, str] | None = None) -> Settings:
    """The settings of any process: from ``config``, else ``.env`` then the environment.

    The one place they are read. Paths are made absolute, so that every message names
    an absolute path. ``ConfigError`` names a bad variable, the delivery targets' and
    their schedule's included (they are built here first), and ``SOURCES`` naming a
    source type the registry does not have (kept in the registry's order).
    """
    loaded = load_settings(config)
    settings = replace(
        loaded,
        archiver_db=loaded.archiver_db.absolute(),
        archive_dir=loaded.archive_dir.absolute(),
        metrics_dir=loaded.metrics_dir.absolute(),
        history_repo=loaded.history_repo.absolute() if loaded.history_repo else None,
    )
    outbound_from(settings)
    return replace(settings, sources=enabled_types(settings.sources))


def require_web(settings: Settings) -> Settings:
    """``settings`` if they let the web process serve; ``ConfigError`` naming what is missing."""
    settings.require("INBOUND_TOKEN", purpose="by the web process")
    return settings


def create_app(config: Mapping[str, str] | Settings | None = None, *, web: bool = True) -> Flask:
    """Build the app; ``config`` replaces the environment (tests pass a mapping).

    ``web``: the web process's app, which needs ``INBOUND_TOKEN``, creates the ledger at
    start and serves the inbound, admin, health and metrics surfaces. Without it, the app
    of the worker and of the commands: settings and ledger only, nothing created or
    opened, and nothing of prometheus-client imported (the worker chooses its metrics
    folder first).
    """
    settings = config if isinstance(config, Settings) else read_settings(config)
    if web:
        require_web(settings)
    app = Flask("service")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    extensions.init_app(app, settings)
    if web:
        _serve(app, settings)
    return app


def _serve(app: Flask, settings: Settings) -> None:
    """The web process's part: logging, the ledger created, metrics hooks, the blueprints."""
    from .ops.logs import ensure_logging
    from .ops.metrics import install_hooks

    ensure_logging(settings, "web")  # gunicorn's workers have it from gunicorn.conf.py
    install_hooks()
    create_ledger(settings)
    create_history(settings)
    from .inbound.webhooks import blueprint as webhooks
    from .web import bodytimeout, errors
    from .web.admin import blueprint as admin
    from .web.health import blueprint as health
    from .web.scrape import blueprint as metrics

    errors.init_app(app)
    bodytimeout.init_app(app, settings.body_read_timeout_seconds)
    for blueprint in (webhooks, admin, health, metrics):
        app.register_blueprint(blueprint)


def create_history(settings: Settings) -> None:
    """Create the history repository now (bare, with its folders) when the history is on,
    so that it exists from the first moment the service runs. A failure is logged: the
    worker's history step says it again on each run until it is fixed."""
    if settings.history_repo is None:
        return
    from .history.repo import HistoryRepo

    try:
        HistoryRepo.open(settings.history_repo, settings.history_branch).close()
    except (ArchiverError, OSError) as exc:
        log.warning("the history repository cannot be created at start: %s", exc)


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
