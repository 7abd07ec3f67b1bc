"""One JSON error envelope for every error answer of the web process."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import LedgerError

log = logging.getLogger("service.web")

# Seconds a client is asked to wait when the ledger cannot take the request (locked,
# read-only, full): EventBridge and other senders retry, and the event is not lost.
LEDGER_RETRY_AFTER = 5


def error_response(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """``{"error": message, ...extra}`` with ``status``."""
    return jsonify({"error": message, **extra}), status


def init_app(app: Flask) -> None:
    """Turn every HTTP error into the envelope, never an HTML page."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        return error_response(status, exc.description or exc.name)

    @app.errorhandler(LedgerError)
    def _ledger(exc: LedgerError) -> tuple[Response, int]:
        # One line, no traceback: a locked or read-only ledger is an operating condition,
        # and /readyz says the same. The answer names no path (some routes have no auth).
        log.warning("%s %s refused: %s", request.method, request.path, exc)
        response, status = error_response(
            503, "the ledger cannot take this request now; retry later"
        )
        response.headers["Retry-After"] = str(LEDGER_RETRY_AFTER)
        return response, status
