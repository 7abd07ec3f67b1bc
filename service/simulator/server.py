"""Serving the simulator: in a background thread for tests, in the foreground for the CLI."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from flask import Flask

from .app import create_simulator_app
from .config_data import CONFIG_TYPES
from .serving import BackgroundServer
from .state import SimulatorState


class SimulatorServer(BackgroundServer):
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
        super().__init__(port, host, log_requests=log_requests)
        self.state = SimulatorState(client_id=client_id, client_secret=client_secret)

    def create_app(self) -> Flask:
        return create_simulator_app(self.state)

    def stop(self) -> None:
        """Stop serving, then stop the notification thread after what it has queued."""
        super().stop()
        self.state.close()


def run_simulator(
    port: int,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    notify_url: str | None = None,
    notify_form: str = "direct",
    notify_token: str | None = None,
    rate_limit: tuple[int, float] | None = None,
    retry_after: bool = True,
) -> None:
    """Serve on 127.0.0.1 until SIGINT or SIGTERM, announcing the URL and seeded ids on stdout.

    With ``notify_url``, every version made through ``/_sim`` is notified there in
    ``notify_form`` (``"direct"`` or ``"eventbridge"``), carrying ``notify_token``.
    ``rate_limit`` (allowed, window seconds) enforces a rate limit; ``retry_after`` says
    whether its 429s carry ``Retry-After``.
    """
    sim = SimulatorServer(port, client_id, client_secret, log_requests=True)
    sim.state.notify_url = notify_url
    sim.state.notify_form = notify_form
    sim.state.notify_token = notify_token
    if rate_limit is not None:
        sim.state.rate_limit.configure(allowed=rate_limit[0], window=rate_limit[1])
    sim.state.rate_limit.configure(retry_after=retry_after)
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
        if notify_url is not None:
            lines.append(f"notifying new versions to {notify_url} ({notify_form})")
        if rate_limit is not None:
            lines.append(f"rate limit: {rate_limit[0]} requests per {rate_limit[1]:g} s")
        for source_type in ("flow", "routing-strategy"):
            for item_id in sim.state.strategy_ids(source_type):
                item = sim.state.item(source_type, item_id)
                if item is not None:
                    count = len(item.versions)
                    lines.append(f"{source_type} {item.id} {item.name} ({count} versions)")
        for source_type in CONFIG_TYPES:  # the routing configuration, after the items
            for doc in sim.state.routing.listed(source_type):
                lines.append(f"{source_type} {doc['id']} {doc['name']}")
        print("\n".join(lines), flush=True)
        # A timed wait lets the signal handler run promptly on every platform.
        while not stopping.wait(0.5):
            pass
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.stdout.flush()
