"""``/healthz`` and ``/readyz``: no auth, for load balancers and orchestrators."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, Response, jsonify

from ..app import ledger, settings

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 while the process runs."""
    return jsonify({"status": "ok"}), 200


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the ledger and the archive folder are writable, else 503 naming what is not."""
    problems: dict[str, str] = {}
    try:
        with ledger().transaction() as db:
            db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()
    except Exception as exc:  # any failure means not ready; say which
        problems["ledger"] = type(exc).__name__
    folder = settings().archive_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-"):
            pass
    except OSError as exc:
        problems["archiveDir"] = exc.strerror or type(exc).__name__
    if problems:
        return jsonify({"status": "not ready", "problems": problems}), 503
    return jsonify({"status": "ready", "pid": os.getpid()}), 200
