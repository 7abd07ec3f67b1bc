"""A request body must arrive whole within ``BODY_READ_TIMEOUT_SECONDS``, or the request ends.

gunicorn's gthread worker reads a body in the request's thread and gives each ``recv`` no
time limit: four clients sending one byte a second held all four threads of a process,
``/healthz`` included. A timeout per ``recv`` would not help (a byte a second never trips
it), so the deadline is for the whole body: while the app runs, gunicorn's reader of this
connection reads through ``_DeadlineSocket``, which gives each ``recv`` only the time left.
Past the deadline the read ends in a 408, and the connection is closed, not kept alive.

What this does not cover: the request line and headers, which gunicorn reads before the
app is called (it waits at most 5 s for a new connection's first byte, not for the rest),
and a body the app never reads (gunicorn drains at most 64 KiB of it, for at most 5 s).
The reverse proxy in front buffers whole requests and bounds both (README).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import RequestTimeout

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyReadTimeout(RequestTimeout):
    """The body did not arrive in time: 408 through the one error envelope."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} seconds")


def init_app(app: Flask, seconds: float) -> None:
    """Wrap the app's WSGI callable so that every body read has ``seconds`` at most."""
    app.wsgi_app = BodyDeadline(app.wsgi_app, seconds)  # type: ignore[method-assign]


class BodyDeadline:
    """WSGI middleware: gunicorn's socket reader swapped for a deadline one while the app runs."""

    def __init__(self, app: WsgiApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        reader = _socket_reader(environ)
        if reader is None:  # not gunicorn (the test client), or a body of none
            return self.app(environ, start_response)
        real = reader.sock
        timeout = real.gettimeout()
        reader.sock = _DeadlineSocket(real, time.monotonic() + self.seconds, self.seconds)
        try:
            return self.app(environ, start_response)
        finally:
            # The next request on a kept-alive connection reads its headers from the real one.
            reader.sock = real
            real.settimeout(timeout)


class _DeadlineSocket:
    """The connection's socket, each ``recv`` limited to the time left before ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float, seconds: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._seconds = seconds

    def recv(self, size: int) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            self._give_up()
        self._sock.settimeout(left)
        try:
            return self._sock.recv(size)
        except TimeoutError:
            self._give_up()
            raise  # not reached: _give_up raises

    def _give_up(self) -> None:
        # Nothing more is read from this client: gunicorn then closes at once rather than
        # lingering (on its main thread) to drain what the client still trickles in.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RD)
        raise BodyReadTimeout(self._seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _socket_reader(environ: dict[str, Any]) -> Any:
    """gunicorn's reader of this connection's socket, or None when there is none to bound.

    gunicorn hands the app its ``Body``; the reader under it holds the ``SocketUnreader``
    (length-delimited and read-to-EOF bodies directly, chunked ones through the request).
    """
    sock = environ.get("gunicorn.socket")
    if sock is None or not _has_body(environ):
        return None
    body_reader = getattr(environ.get("wsgi.input"), "reader", None)
    reader = getattr(body_reader, "unreader", None)
    if reader is None:
        reader = getattr(getattr(body_reader, "req", None), "unreader", None)
    return reader if getattr(reader, "sock", None) is sock else None


def _has_body(environ: dict[str, Any]) -> bool:
    """A length above 0, or chunks: a request with neither has no body to wait for."""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or environ.get("CONTENT_LENGTH") not in (None, "", "0")
