"""One delivery attempt of one outbox event to one target, and how it went.

The worker owns the loop: it claims a delivery, calls ``Deliverer.attempt`` and records
the ``Attempt``; ``backoff.DELIVERIES`` (or ``VCS_RETRY_SCHEDULE``) says when to try
again. The body is the event's stored bytes, the same on every retry, and so is
``webhook-id``; only the timestamp and the signature over it change. A ``git``
target's delivery is a push of the history branch as it is at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any

import requests

from ..clock import utcnow
from ..http import DAY, parse_retry_after
from .gitpush import PushFailed, push_branch
from .gittarget import PUSH_EVENT, GitTarget
from .targets import Target


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to; ``detail`` is one short line, the receiver's answer as it
    came (the ledger and the log formatter mask any credential it echoes)."""

    outcome: str  # an AttemptOutcome: "delivered" | "retry" | "dead"
    status: int | None  # HTTP status; None on a network error or timeout
    detail: str
    retry_after: float | None = None  # seconds, from a 429's Retry-After; at most a day


class Deliverer:
    """One ``requests.Session`` per target, built once; an explicit timeout on every call."""

    def __init__(
        self, targets: Sequence[Target], *, timeout: float = 10.0, push_timeout: float = 60.0
    ) -> None:
        self.timeout = timeout
        # A push waits for the host to take in a pack: longer than an event's POST.
        self.push_timeout = push_timeout
        self._targets = {target.name: target for target in targets}
        self._sessions = {
            target.name: target.session() for target in targets if not isinstance(target, GitTarget)
        }

    def attempt(
        self,
        target_name: str,
        event_id: str,
        event_type: str,
        body: bytes,
        *,
        now: int | None = None,
    ) -> Attempt:
        """POST the event to the target once; never raises for anything the remote side does."""
        target = self._targets.get(target_name)
        if target is None:
            gone = f"target {target_name} is no longer configured"
            return Attempt(AttemptOutcome.DEAD, None, gone)
        if isinstance(target, GitTarget):
            return self._push(target, event_type)
        timestamp = int(utcnow().timestamp()) if now is None else now
        try:
            request = target.request(event_id, event_type, body, timestamp)
        except ValueError as exc:
            return Attempt(AttemptOutcome.DEAD, None, str(exc))
        try:
            response = self._sessions[target_name].post(
                target.endpoint,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,  # only a short excerpt of an error body is ever read
                **request,
            )
        except requests.RequestException as exc:
            return Attempt(AttemptOutcome.RETRY, None, self._network_detail(exc))
        with response:
            return _judge(response, timestamp)

    def _push(self, target: GitTarget, event_type: str) -> Attempt:
        """Push the history branch as it is now (it holds the event's head, or more):
        a failure, a diverged remote included, is retried on the schedule."""
        if event_type != PUSH_EVENT or target.history is None:
            return Attempt(AttemptOutcome.DEAD, None, f"a git target does not take {event_type}")
        try:
            pushed = push_branch(
                target.history,
                target.history_branch,
                target,
                timeout=self.push_timeout,
                ssh_command=target.ssh_command,
            )
        except PushFailed as exc:
            return Attempt(AttemptOutcome.RETRY, None, str(exc))
        return Attempt(AttemptOutcome.DELIVERED, None, f"pushed: {pushed.summary}")

    def close(self) -> None:
        """Close every session."""
        for session in self._sessions.values():
            session.close()

    def _network_detail(self, exc: requests.RequestException) -> str:
        # The exception's own text names the URL, whose query string may hold a token.
        if isinstance(exc, requests.Timeout):
            return f"timeout after {self.timeout:g} s"
        if isinstance(exc, requests.exceptions.SSLError):
            return "connection failed: TLS error"
        cause = _os_error(exc)
        if cause is not None and cause.strerror:
            return f"connection failed: {cause.strerror.lower()}"
        return f"connection failed ({type(exc).__name__})"


def _judge(response: requests.Response, timestamp: int) -> Attempt:
    status = response.status_code
    reason = response.reason or _phrase(status)
    if 200 <= status < 300:
        return Attempt(AttemptOutcome.DELIVERED, status, f"{status} {reason}")
    detail = f"{status} {reason}"
    if 300 <= status < 400:
        detail += " (redirect not followed)"
    excerpt = _excerpt(response)
    if excerpt:
        detail += f": {excerpt}"
    if status == 410:
        return Attempt(AttemptOutcome.DEAD, status, detail)
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"), now=timestamp, cap=DAY)
        return Attempt(AttemptOutcome.RETRY, status, detail, wait)
    return Attempt(AttemptOutcome.RETRY, status, detail)


def _excerpt(response: requests.Response, limit: int = 200) -> str:
    try:
        raw = response.raw.read(limit * 2, decode_content=True) or b""
    except Exception:  # a body that fails half-way is no reason to lose the status
        return ""
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _os_error(exc: BaseException) -> OSError | None:
    """The operating system's error under requests' and urllib3's wrappers, if any."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        wrapper = type(current).__module__.split(".")[0] in {"requests", "urllib3"}
        if isinstance(current, OSError) and not wrapper:
            return current
        stack += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        stack += [arg for arg in current.args if isinstance(arg, BaseException)]
    return None
