"""Serving a local WSGI app from a background thread: the simulator and the test endpoints."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Tests read what they need from the server's state; one stderr line per request is noise."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class BackgroundServer:
    """``app`` on ``host``:``port`` (0: a free port), served by a daemon thread."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, log_requests: bool = False
    ) -> None:
        self.host = host
        self.port = port
        self._log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def create_app(self) -> Flask:
        """The app to serve; subclasses build theirs around their state."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` without a trailing slash; the real port once started."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Listen and serve from a daemon thread; returns at once, ready for requests."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        handler = WSGIRequestHandler if self._log_requests else _QuietHandler
        server = make_server(
            self.host, self.port, self.create_app(), threaded=True, request_handler=handler
        )
        self._server = server
        self.port = server.server_port
        # A short poll interval keeps stop() (and so every test's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the serving thread; harmless when not running."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join()
        server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
