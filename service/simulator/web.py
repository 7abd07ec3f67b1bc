"""Flask helpers shared by the simulator's routes: its state, JSON answers, API errors."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, g

from .render import error_body
from .state import SimulatorState

EXTENSION = "genesys_simulator"


class ApiError(Exception):
    """An answer in Genesys' ``ErrorBody`` shape; ``template`` may hold ``{name}`` placeholders."""

    def __init__(
        self, status: int, code: str, template: str, params: dict[str, str] | None = None
    ) -> None:
        super().__init__(template)
        self.status = status
        self.code = code
        self.template = template
        self.params = params or {}

    def body(self) -> dict[str, Any]:
        """The ErrorBody, carrying the request's correlation id as ``contextId``."""
        return error_body(self.status, self.code, self.template, context_id(), self.params)


def current_state() -> SimulatorState:
    """The state of the simulator app handling the current request."""
    state: SimulatorState = current_app.extensions[EXTENSION]
    return state


def context_id() -> str:
    """The current request's correlation id (``ININ-Correlation-Id``, ``contextId``)."""
    return str(g.get("context_id", ""))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer keeping the field order of ``body`` (Flask's own encoder sorts keys)."""
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def not_found(what: str) -> ApiError:
    """The 404 Genesys gives for an unknown id."""
    return ApiError(404, "not.found", f"The requested {what} was not found.")
