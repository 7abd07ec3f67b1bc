"""Serving the simulator: in a background thread for tests, in the foreground for the CLI."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_simulator_app
from .state import SimulatorState


class _QuietHandler(WSGIRequestHandler):
    """Tests read the request log from the state; one stderr line per request is only noise."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SimulatorServer:
    """The simulator on ``host``:``port`` (0: a free port) with a fresh seeded state."""

    def __init__(
        self,
        port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        host: str = "127.0.0.1",
        *,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.state = SimulatorState(client_id=client_id, client_secret=client_secret)
        self._log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` without a trailing slash; the real port once started."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        """Listen and serve from a daemon thread; returns at once, ready for requests."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        handler = WSGIRequestHandler if self._log_requests else _QuietHandler
        app = create_simulator_app(self.state)
        server = make_server(self.host, self.port, app, threaded=True, request_handler=handler)
        self._server = server
        self.port = server.server_port
        # A short poll interval keeps stop() (and so every test's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"genesys-simulator-{self.port}",
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

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_simulator(
    port: int, *, client_id: str | None = None, client_secret: str | None = None
) -> None:
    """Serve on 127.0.0.1 until SIGINT or SIGTERM, announcing the URL and seeded ids on stdout."""
    sim = SimulatorServer(port, client_id, client_secret, log_requests=True)
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _stop)
    sim.start()
    try:
        lines = [f"Genesys Cloud simulator listening on {sim.url}"]
        for source_type in ("flow", "routing-strategy"):
            for item_id in sim.state.strategy_ids(source_type):
                item = sim.state.item(source_type, item_id)
                if item is not None:
                    count = len(item.versions)
                    lines.append(f"{source_type} {item.id} {item.name} ({count} versions)")
        print("\n".join(lines), flush=True)
        # A timed wait lets the signal handler run promptly on every platform.
        while not stopping.wait(0.5):
            pass
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.stdout.flush()
