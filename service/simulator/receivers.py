"""Local fakes of the receivers of completion events, for the tests and the demo.

A generic webhook receiver, GitHub's ``repository_dispatch`` and GitLab's pipeline
trigger, each on 127.0.0.1 in a background thread. Each records every request as
sent (raw path, headers, body) and can be told to fail the next requests, to answer
one status to all, or to be slow. The fakes check what the real APIs check and
answer as they do, so that a wrong path, header or body fails visibly.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote

from flask import Flask, Response, request

from ..outbound.signing import hub_signature, standard_signature
from .serving import BackgroundServer

# A handler's answer: status and JSON body (None: no body).
Answer = tuple[int, Any]


@dataclass(frozen=True)
class Received:
    """One request as it arrived; ``headers`` keys are lower case."""

    method: str
    path: str  # decoded
    raw_path: str  # as sent: percent-escapes and query string kept
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]
    status: int  # what the fake answered
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: str | None
    message: str


class RecordingServer(BackgroundServer):
    """Records every request; can fail the next ones, answer one status always, or be slow."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.received: list[Received] = []
        self.delay = 0.0  # seconds every answer waits
        self._faults: list[_Fault] = []
        self._always: _Fault | None = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: str | float | None = None,
        message: str = "injected failure",
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``)."""
        fault = _Fault(status, None if retry_after is None else _text(retry_after), message)
        with self._lock:
            self._faults.extend([fault] * times)

    def always(self, status: int | None, *, retry_after: str | float | None = None) -> None:
        """Answer every request with ``status`` from now on; None: behave normally again."""
        with self._lock:
            self._always = None
            if status is not None:
                after = None if retry_after is None else _text(retry_after)
                self._always = _Fault(status, after, f"answering {status} to everything")

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The requests once at least ``count`` have arrived; TimeoutError after ``timeout``."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"{len(self.received)} of {count} requests arrived")
            return list(self.received)

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        """Wake slow answers first, so that stopping never waits for them."""
        self._stopping.set()
        super().stop()

    def _respond(self, normal: Callable[[], Answer]) -> Response:
        """Decide the answer (fault, fixed status or ``normal``), record, wait, answer."""
        request.get_data()  # cached first, so that reading the form keeps the raw body too
        with self._lock:
            fault = self._faults.pop(0) if self._faults else self._always
        status, body = (fault.status, {"message": fault.message}) if fault else normal()
        response = Response(status=status)
        if body is not None:
            response.set_data(json.dumps(body))
            response.mimetype = "application/json"
        if fault is not None and fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        if 300 <= status < 400:
            response.headers["Location"] = "/redirected"  # a client following it shows up
        self._record(status)
        if self.delay:
            self._stopping.wait(self.delay)
        return response

    def _record(self, status: int) -> None:
        environ = request.environ
        received = Received(
            method=request.method,
            path=request.path,
            raw_path=environ.get("REQUEST_URI") or environ.get("RAW_URI") or request.full_path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.get_data(),
            form=dict(request.form),
            status=status,
        )
        with self._arrived:
            self.received.append(received)
            self._arrived.notify_all()


def _text(retry_after: str | float) -> str:
    return retry_after if isinstance(retry_after, str) else f"{retry_after:g}"


class WebhookReceiver(RecordingServer):
    """A generic receiver: any POST path, 204. With ``secret``, wrong signatures get 401."""

    def __init__(self, port: int = 0, *, secret: str | None = None) -> None:
        super().__init__(port)
        self.secret = secret

    @property
    def url(self) -> str:
        return f"{super().url}/webhook"

    def create_app(self) -> Flask:
        app = Flask("webhook-receiver")

        @app.post("/", defaults={"path": ""})
        @app.post("/<path:path>")
        def receive(path: str) -> Response:
            return self._respond(self._check)

        return app

    def _check(self) -> Answer:
        if self.secret is None:
            return 204, None
        body = request.get_data()
        message_id = request.headers.get("webhook-id", "")
        timestamp = request.headers.get("webhook-timestamp", "")
        if not timestamp.isdigit():
            return 401, {"message": "webhook-timestamp missing or not Unix seconds"}
        expected = standard_signature(self.secret, message_id, int(timestamp), body)
        offered = request.headers.get("webhook-signature", "").split()
        if not any(hmac.compare_digest(expected, sig) for sig in offered):
            return 401, {"message": "webhook-signature does not match"}
        hub = request.headers.get("X-Hub-Signature-256", "")
        if not hmac.compare_digest(hub_signature(self.secret, body), hub):
            return 401, {"message": "X-Hub-Signature-256 does not match"}
        return 204, None


class FakeGitHub(RecordingServer):
    """GitHub's ``POST /repos/{owner}/{repo}/dispatches``, checked as GitHub checks it.

    ``prefix`` serves it below a path, as GitHub Enterprise Server does (``/api/v3``).
    ``repositories`` None accepts any repository.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        token: str = "github-token",
        repositories: set[str] | None = None,
        prefix: str = "",
    ) -> None:
        super().__init__(port)
        self.token = token
        self.repositories = repositories
        self.prefix = prefix.rstrip("/")
        self.dispatches: list[dict[str, Any]] = []  # accepted bodies, with "repository" added

    @property
    def url(self) -> str:
        """The API base URL to configure as ``baseUrl``."""
        return f"{super().url}{self.prefix}"

    def create_app(self) -> Flask:
        app = Flask("fake-github")

        @app.post(f"{self.prefix}/repos/<owner>/<repo>/dispatches")
        def dispatch(owner: str, repo: str) -> Response:
            return self._respond(lambda: self._dispatch(f"{owner}/{repo}"))

        return app

    def _dispatch(self, repository: str) -> Answer:
        docs = "https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event"
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials", "documentation_url": docs}
        if self.repositories is not None and repository not in self.repositories:
            return 404, {"message": "Not Found", "documentation_url": docs}
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return 400, {"message": "Problems parsing JSON", "documentation_url": docs}
        problem = _dispatch_problem(body, len(request.get_data()))
        if problem:
            return 422, {"message": f"Invalid request.\n\n{problem}", "documentation_url": docs}
        with self._lock:
            self.dispatches.append(body | {"repository": repository})
        return 204, None


def _dispatch_problem(body: Any, size: int) -> str | None:
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    event_type = body.get("event_type")
    if not isinstance(event_type, str) or not 1 <= len(event_type) <= 100:
        return "event_type must be a string of 1 to 100 characters."
    payload = body.get("client_payload", {})
    if not isinstance(payload, dict):
        return "client_payload must be an object."
    if len(payload) > 10:
        return f"No more than 10 properties are allowed; {len(payload)} were supplied."
    if len(json.dumps(payload, separators=(",", ":")).encode()) > 64 * 1024 or size > 70 * 1024:
        return "client_payload is larger than 64 KB."
    return None


class FakeGitLab(RecordingServer):
    """GitLab's ``POST /api/v4/projects/:id/trigger/pipeline`` with a trigger token.

    ``:id`` must be url-encoded as GitLab requires (``group%2Fproject``); ``projects``
    and ``refs`` None accept any.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        token: str = "glptt-trigger-token",
        projects: set[str] | None = None,
        refs: set[str] | None = None,
    ) -> None:
        super().__init__(port)
        self.token = token
        self.projects = projects
        self.refs = refs
        self.pipelines: list[dict[str, Any]] = []  # project, ref and variables of each one

    def create_app(self) -> Flask:
        app = Flask("fake-gitlab")

        @app.post("/api/v4/projects/<path:project>/trigger/pipeline")
        def trigger(project: str) -> Response:
            return self._respond(lambda: self._trigger(project))

        return app

    def _trigger(self, project: str) -> Answer:
        raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or ""
        encoded = f"/api/v4/projects/{quote(project, safe='')}/trigger/pipeline"
        if raw.split("?")[0] != encoded:
            return 404, {"error": "404 Not Found"}  # GitLab routes only the encoded form
        form = request.form
        if not form.get("token"):
            return 400, {"error": "token is missing"}
        if not form.get("ref"):
            return 400, {"error": "ref is missing"}
        known = self.projects is None or project in self.projects
        if not known or not hmac.compare_digest(form["token"], self.token):
            return 404, {"message": "404 Not Found"}
        if self.refs is not None and form["ref"] not in self.refs:
            return 400, {"message": {"base": ["Reference not found"]}}
        variables = {
            key[len("variables[") : -1]: value
            for key, value in form.items()
            if key.startswith("variables[") and key.endswith("]")
        }
        with self._lock:
            self.pipelines.append({"project": project, "ref": form["ref"], "variables": variables})
            number = len(self.pipelines)
        pipeline = {
            "id": number,
            "iid": number,
            "project_id": project,
            "ref": form["ref"],
            "status": "created",
            "source": "trigger",
            "web_url": f"{self.url}/{project}/-/pipelines/{number}",
        }
        return 201, pipeline
