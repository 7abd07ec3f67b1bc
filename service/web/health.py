"""``/healthz`` and ``/readyz``: no auth, for load balancers and orchestrators."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Response, jsonify

from ..extensions import ingest, settings
from ..ledger import Ledger

blueprint = Blueprint("health", __name__)

PROBE_WAIT_SECONDS = 1.5  # readiness waits this long for the ledger's lock, at most
PROBE_BYTES = 4096  # a file of real bytes: an empty file fits on a full disk


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 while the process runs."""
    return jsonify({"status": "ok"}), 200


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the ledger and the archive folder take real writes, else 503 naming what not.

    Each probe commits a ledger write and writes, syncs and removes a small file, so a
    locked ledger, a read-only mount or a full disk all answer 503 within a few seconds.
    """
    problems: dict[str, str] = {}
    config = settings()
    wait = min(PROBE_WAIT_SECONDS, config.ledger_lock_timeout_seconds)
    try:
        # A connection of its own: opening it is what the ingest writer needs to do too.
        with Ledger(config.archiver_db, lock_timeout=wait) as ledger:
            ledger.probe(wait=wait)
    except Exception as exc:  # any failure means not ready; say which
        problems["ledger"] = _hide(str(exc) or type(exc).__name__, config.archiver_db)
    failure = ingest().failure
    if failure and "ledger" not in problems:
        problems["ingest"] = _hide(failure, config.archiver_db)
    try:
        _write_file(config.archive_dir)
    except OSError as exc:
        problems["archiveDir"] = exc.strerror or type(exc).__name__
    if problems:
        return jsonify({"status": "not ready", "problems": problems}), 503
    return jsonify({"status": "ready", "pid": os.getpid()}), 200


def _hide(reason: str, path: Path) -> str:
    """``reason`` with the ledger's location said as ``ARCHIVER_DB`` (the probe has no auth)."""
    for shown in (str(path.absolute()), str(path)):
        reason = reason.replace(shown, "ARCHIVER_DB")
    return reason


def _write_file(folder: Path) -> None:
    """Write ``PROBE_BYTES`` to a new file in ``folder``, sync it to disk, then remove it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".ready-{os.getpid()}-{os.urandom(4).hex()}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        data = memoryview(b"\0" * PROBE_BYTES)
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
        path.unlink()
