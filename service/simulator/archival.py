"""A local archival endpoint for the demo and the tests.

It behaves as the IETF Idempotency-Key draft describes: the first POST under a
key is stored (201), the same body again answers 409, a different body under a
seen key answers 422. Faults can be queued, and a request can be held open so
that a test can kill the client while it waits.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from .serving import BackgroundServer


@dataclass
class Received:
    key: str | None
    body: bytes
    status: int
    authorization: str | None


@dataclass
class SinkState:
    token: str | None = None
    stored: dict[str, bytes] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    faults: list[tuple[int, float | None, str]] = field(default_factory=list)
    hold: threading.Event | None = None
    store_before_hold: bool = False
    held: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        message: str = "injected failure",
    ) -> None:
        """Answer the next ``times`` requests with ``status``."""
        with self.lock:
            self.faults.extend([(status, retry_after, message)] * times)

    def hold_next(self, *, store_first: bool = False) -> threading.Event:
        """Keep the next request open until the returned event is set."""
        release = threading.Event()
        with self.lock:
            self.hold, self.store_before_hold = release, store_first
            self.held.clear()
        return release

    def count(self, key: str) -> int:
        return sum(1 for r in self.received if r.key == key)


def create_sink_app(state: SinkState) -> Flask:
    """The endpoint's Flask app; every POST path is the endpoint."""
    app = Flask("archival-sink")

    @app.post("/", defaults={"path": ""})
    @app.post("/<path:path>")
    def receive(path: str) -> tuple[Response, int]:
        key = request.headers.get("Idempotency-Key")
        body = request.get_data()
        auth = request.headers.get("Authorization")
        status, answer = _answer(state, key, body, auth)
        with state.lock:
            state.received.append(Received(key, body, status, auth))
        response = jsonify(answer)
        if status == 429 and answer.get("retryAfter") is not None:
            response.headers["Retry-After"] = str(answer["retryAfter"])
        return response, status

    return app


def _answer(state: SinkState, key: str | None, body: bytes, auth: str | None) -> tuple[int, Any]:
    with state.lock:
        if state.token and auth != f"Bearer {state.token}":
            return 401, {"message": "bearer token missing or wrong"}
        if state.faults:
            status, retry_after, message = state.faults.pop(0)
            return status, {"message": message, "retryAfter": retry_after}
        if not key:
            return 400, {"message": "Idempotency-Key header is required"}
        hold, state.hold = state.hold, None
        store_first = state.store_before_hold
    if hold is not None:
        # The answer is decided before the hold; the client may be dead when it is sent.
        held: tuple[int, Any] = (503, {"message": "held request abandoned"})
        if store_first:
            held = _store(state, key, body)
        state.held.set()
        hold.wait(timeout=60)
        return held
    return _store(state, key, body)


def _store(state: SinkState, key: str, body: bytes) -> tuple[int, Any]:
    with state.lock:
        seen = state.stored.get(key)
        if seen is None:
            state.stored[key] = body
            return 201, {"stored": key, "sha256": hashlib.sha256(body).hexdigest()}
        if seen == body:
            return 409, {"message": f"archive {key} already stored"}
        return 422, {"message": f"Idempotency-Key {key} was already used with a different body"}


class ArchivalSink(BackgroundServer):
    """The endpoint served on 127.0.0.1 in a background thread."""

    def __init__(self, port: int = 0, token: str | None = None) -> None:
        super().__init__(port)
        self.state = SinkState(token=token)

    def create_app(self) -> Flask:
        return create_sink_app(self.state)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/archives"
