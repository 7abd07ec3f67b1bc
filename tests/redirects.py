"""Two real local servers for redirect tests: one that answers every request with a 3xx,
one that records whatever reaches it (nothing should)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    """A server on 127.0.0.1, a free port, serving from a daemon thread while in ``with``."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


class Recorder(_Server):
    """Answers 200 (GET) or 201 (anything else) with a JSON object; keeps what it received."""

    def __init__(self) -> None:
        super().__init__(_RecordingHandler)
        self.seen: list[Seen] = []


class Redirector(_Server):
    """Answers every request with ``status`` and ``Location: location``."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(_RedirectingHandler)
        self.status = status
        self.location = location
        self.requests = 0


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class _RecordingHandler(_Quiet):
    server: Recorder

    def _record(self) -> None:
        body = self._body()
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers), body))
        data = b'{"access_token": "t", "token_type": "bearer", "expires_in": 3600, "ok": true}'
        self.send_response(200 if self.command == "GET" else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _record


class _RedirectingHandler(_Quiet):
    server: Redirector

    def _redirect(self) -> None:
        self._body()
        self.server.requests += 1
        self.send_response(self.server.status)
        self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = _redirect
