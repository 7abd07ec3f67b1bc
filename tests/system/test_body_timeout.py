"""A request body must arrive whole within ``BODY_READ_TIMEOUT_SECONDS`` (real gunicorn).

Four clients sending a body one byte a second held all four threads of a gunicorn process,
and ``/healthz`` with them. Now each such request ends in a 408 at the deadline and its
connection is closed; quick bodies and kept-alive connections work as before.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.helpers import INBOUND_TOKEN
from tests.inbound.conftest import SAMPLES
from tests.processes import Process, web_env, web_process

TIMEOUT = 1.5  # BODY_READ_TIMEOUT_SECONDS of these tests
SLOW_CLIENTS = 6  # more than the process has threads (4)
NOTE = (SAMPLES / "notification-flow.json").read_bytes()


def head(length: int) -> bytes:
    return (
        "POST /webhooks/genesys HTTP/1.1\r\nHost: archiver\r\n"
        f"Authorization: Bearer {INBOUND_TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


class SlowClient:
    """A connection that sends its headers at once, then its body one byte a second."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(head(len(NOTE)) + NOTE[:1])
        self.answer = b""
        self.closed_after: float | None = None
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        for byte in NOTE[1:]:
            time.sleep(1.0)
            try:
                self.sock.sendall(bytes([byte]))
            except OSError:
                return  # the server closed the connection

    def read_to_close(self) -> None:
        """Everything the server sends until it closes the connection."""
        while True:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed_after = time.monotonic() - self.started
                return
            self.answer += data

    def close(self) -> None:
        self.sock.close()


@contextmanager
def gunicorn(tmp_path: Path) -> Iterator[tuple[Process, str, int]]:
    """One process of four threads (WEB_CONCURRENCY=1, WEB_THREADS=4), a short body timeout."""
    env = web_env(tmp_path, BODY_READ_TIMEOUT_SECONDS=str(TIMEOUT))
    with web_process(env, tmp_path, forks=1) as (web, base):
        yield web, base, int(base.rsplit(":", 1)[1])


def test_slow_bodies_end_in_408_and_healthz_still_answers(tmp_path: Path) -> None:
    with gunicorn(tmp_path) as (web, base, port):
        slow = [SlowClient(port) for _ in range(SLOW_CLIENTS)]
        try:
            time.sleep(0.5)  # every thread is now waiting for a body
            started = time.monotonic()
            health = requests.get(f"{base}/healthz", timeout=10)
            waited = time.monotonic() - started
            assert health.status_code == 200
            assert waited < TIMEOUT * 2 + 2, f"/healthz took {waited:.1f} s"
            readers = [threading.Thread(target=c.read_to_close) for c in slow]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join(timeout=30)
            for client in slow:
                assert client.answer.startswith(b"HTTP/1.1 408 "), client.answer[:200]
                body = json.loads(client.answer.split(b"\r\n\r\n", 1)[1])
                assert body == {
                    "error": f"the request body did not arrive within {TIMEOUT:g} seconds"
                }
                # Closed by the server long before the body could have been sent.
                assert client.closed_after is not None
                assert client.closed_after < TIMEOUT * SLOW_CLIENTS / 4 + 5
        finally:
            for client in slow:
                client.close()
        assert "Traceback" not in web.output, web.output
        assert "Error handling request" not in web.output, web.output


def test_a_body_in_pieces_within_the_time_is_read(tmp_path: Path) -> None:
    with (
        gunicorn(tmp_path) as (_web, _base, port),
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
    ):
        sock.sendall(head(len(NOTE)))
        third = len(NOTE) // 3
        for piece in (NOTE[:third], NOTE[third : 2 * third], NOTE[2 * third :]):
            time.sleep(TIMEOUT / 5)
            sock.sendall(piece)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 202, response.read()


@pytest.mark.parametrize("first", ["webhook", "healthz"])
def test_connections_are_kept_alive_across_requests(tmp_path: Path, first: str) -> None:
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "application/json"}
    with gunicorn(tmp_path) as (web, _base, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        statuses = []
        sockets = []
        requests_ = [("POST", "/webhooks/genesys", NOTE, auth), ("GET", "/healthz", None, {})]
        if first == "healthz":
            requests_.reverse()
        for method, path, body, headers in [*requests_, *requests_]:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
            sockets.append(connection.sock)
            # The body deadline of one request does not reach the next on this connection.
            time.sleep(TIMEOUT / 2)
        connection.close()
        assert sorted(statuses) == [200, 200, 202, 202]
        assert all(s is sockets[0] for s in sockets), "a new connection was opened"
        assert "Traceback" not in web.output
