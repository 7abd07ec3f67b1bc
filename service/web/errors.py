"""One JSON error envelope for every error answer of the web process."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


def error_response(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """``{"error": message, ...extra}`` with ``status``."""
    return jsonify({"error": message, **extra}), status


def init_app(app: Flask) -> None:
    """Turn every HTTP error into the envelope, never an HTML page."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        return error_response(status, exc.description or exc.name)
