"""The receivers of completion events: a signed webhook, a GitHub ``repository_dispatch``,
a GitLab pipeline trigger.

Each target knows its endpoint, the headers of its session and the request of one
delivery; ``deliver.py`` only sends it and judges the answer. Targets are built from
``VCS_TARGETS`` and ``VCS_WEBHOOK_URLS`` by ``settings.py``. A target's ``name`` keys
its deliveries in the ledger and never holds a secret; secrets stay out of ``repr``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from ..config import url_secrets
from ..http import make_session
from .signing import hub_signature, standard_signature

WEBHOOK, GITHUB, GITLAB = "webhook", "github", "gitlab"
KINDS = (WEBHOOK, GITHUB, GITLAB)
GITHUB_API = "https://api.github.com"
GITHUB_API_VERSION = "2022-11-28"
GITLAB_URL = "https://gitlab.com"
DEFAULT_EVENT_TYPE = "strategy-archive"
# GitHub refuses a client_payload with more than 10 top-level keys or over 64 KB; ours
# has four keys (id, type, timestamp, data), so only the size needs watching.
CLIENT_PAYLOAD_LIMIT = 64_000

# The keyword arguments of ``Session.post`` for one delivery: ``data`` and ``headers``.
Request = dict[str, Any]


@dataclass(frozen=True)
class Target(ABC):
    """One configured receiver of completion events."""

    kind: ClassVar[str]
    name: str

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """The URL each delivery is POSTed to (may hold a secret: do not log it)."""

    @abstractmethod
    def request(self, event_id: str, event_type: str, body: bytes, timestamp: int) -> Request:
        """The ``data`` and ``headers`` of one delivery of the event stored as ``body``;
        ``ValueError`` when the event cannot be sent to this kind of target."""

    def session(self) -> requests.Session:
        """The target's one session: user agent, and what every request to it carries."""
        return make_session()

    @abstractmethod
    def secrets(self) -> list[str]:
        """Every secret this target holds, for redaction."""


@dataclass(frozen=True)
class WebhookTarget(Target):
    """A URL receiving the event as it is stored, signed as Standard Webhooks has it and
    with ``X-Hub-Signature-256`` for GitHub-style receivers."""

    kind: ClassVar[str] = WEBHOOK
    url: str = field(repr=False)  # a query string may hold a token
    secret: str = field(repr=False)  # whsec_<base64>

    @property
    def endpoint(self) -> str:
        return self.url

    def request(self, event_id: str, event_type: str, body: bytes, timestamp: int) -> Request:
        headers = {
            "Content-Type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": standard_signature(self.secret, event_id, timestamp, body),
            "X-Hub-Signature-256": hub_signature(self.secret, body),
        }
        return {"data": body, "headers": headers}

    def secrets(self) -> list[str]:
        """The signing secret, the URL's password and its query values that look like
        tokens (eight characters or more)."""
        return [value for value in [self.secret, *url_secrets(self.url)] if value]


@dataclass(frozen=True)
class GitHubTarget(Target):
    """``POST /repos/{repository}/dispatches`` with a bearer token: the event becomes the
    ``client_payload`` of a ``repository_dispatch``."""

    kind: ClassVar[str] = GITHUB
    repository: str  # owner/name
    token: str = field(repr=False)
    base_url: str = GITHUB_API  # GitHub Enterprise: its API root
    event_type: str = DEFAULT_EVENT_TYPE

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/repos/{self.repository}/dispatches"

    def session(self) -> requests.Session:
        return make_session(
            auth=self.token,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": GITHUB_API_VERSION,
            },
        )

    def request(self, event_id: str, event_type: str, body: bytes, timestamp: int) -> Request:
        dispatch = {
            "event_type": self.event_type,
            "client_payload": client_payload(event_id, event_type, _event(body)),
        }
        return {"data": _compact(dispatch), "headers": {"Content-Type": "application/json"}}

    def secrets(self) -> list[str]:
        return [self.token]


@dataclass(frozen=True)
class GitLabTarget(Target):
    """A pipeline trigger: the trigger token, the ref and the event as CI variables, as
    a form."""

    kind: ClassVar[str] = GITLAB
    project: str  # numeric id or namespace/path
    ref: str  # branch or tag the pipeline runs on
    token: str = field(repr=False)  # trigger token
    base_url: str = GITLAB_URL  # self-managed: its root

    @property
    def endpoint(self) -> str:
        project = quote(self.project, safe="")
        return f"{self.base_url}/api/v4/projects/{project}/trigger/pipeline"

    def request(self, event_id: str, event_type: str, body: bytes, timestamp: int) -> Request:
        data = _event(body).get("data")
        strategy = data.get("strategyId") if isinstance(data, dict) else None
        form = {
            "token": self.token,
            "ref": self.ref,
            "variables[ARCHIVER_EVENT_ID]": event_id,
            "variables[ARCHIVER_EVENT_TYPE]": event_type,
            "variables[ARCHIVER_STRATEGY_ID]": str(strategy or ""),
            "variables[ARCHIVER_EVENT]": body.decode("utf-8"),
        }
        return {"data": form}

    def secrets(self) -> list[str]:
        return [self.token]


def client_payload(event_id: str, event_type: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event within GitHub's limits; ``versionIds`` go first when it is too big."""
    found = event.get("data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    payload = {
        "id": event_id,
        "type": event_type,
        "timestamp": event.get("timestamp"),
        "data": data,
    }
    if len(_compact(payload)) < CLIENT_PAYLOAD_LIMIT:
        return payload
    if "versionIds" in data:
        data = {k: v for k, v in data.items() if k != "versionIds"} | {"versionIdsTruncated": True}
        payload["data"] = data
        if len(_compact(payload)) < CLIENT_PAYLOAD_LIMIT:
            return payload
    # Still too big (a huge error text, say): keep only the short scalar fields.
    short = {k: v for k, v in data.items() if _short(v)}
    payload["data"] = short | {"dataTruncated": True}
    return payload


def _event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        event = None
    if not isinstance(event, dict):
        raise ValueError("event body is not a JSON object")
    return event


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _short(value: Any) -> bool:
    return isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 200)
