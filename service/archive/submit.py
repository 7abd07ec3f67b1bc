"""Submission to ``ARCHIVAL_ENDPOINT``: the stored bytes, under their ``Idempotency-Key``.

2xx and 409 mean archived; 429, 5xx and network errors are retried with
backoff and jitter, honouring ``Retry-After``; other 4xx are final and carry the
endpoint's own message. A redirect is never followed (it would take the body and the
bearer token elsewhere): a 3xx is a final refusal naming where it pointed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from ..backoff import ARCHIVAL, DAY, Backoff
from ..config import Settings
from ..errors import UpstreamError
from ..http import make_session, observed, parse_retry_after, public_url
from ..ledger import Submission


@dataclass(frozen=True)
class SubmitResult:
    outcome: Submission  # SUBMITTED or REJECTED
    status: int
    detail: str


class ArchivalClient:
    """One ``requests.Session`` for the archival endpoint."""

    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        *,
        retry: Backoff = ARCHIVAL,
        timeout: tuple[float, float] = (5.0, 60.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.retry = retry
        self.timeout = timeout
        self.sleep = sleep
        self.session = make_session(auth=token, headers={"Content-Type": "application/json"})

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> ArchivalClient | None:
        """A client for the configured endpoint, or None when none is configured."""
        if not settings.archival_endpoint:
            return None
        return cls(settings.archival_endpoint, settings.archival_token, **kwargs)  # type: ignore[arg-type]

    def submit(self, idempotency_key: str, body: bytes) -> SubmitResult:
        """POST ``body`` once it is accepted or refused; raise when retries run out."""
        last = "no attempt made"
        for attempt in range(1, self.retry.max_tries + 1):
            wait: float | None = None
            try:
                response = self.session.post(
                    self.endpoint,
                    data=body,
                    headers={"Idempotency-Key": idempotency_key},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                observed("archival", None)
                last = f"network error ({type(exc).__name__})"
            else:
                status = response.status_code
                observed("archival", status)
                if 200 <= status < 300:
                    return SubmitResult(Submission.SUBMITTED, status, f"{status} accepted")
                if status == 409:
                    return SubmitResult(Submission.SUBMITTED, status, "409 already archived")
                if 300 <= status < 400:
                    return SubmitResult(Submission.REJECTED, status, _redirect(response))
                message = _message(response)
                if status != 429 and status < 500:
                    return SubmitResult(Submission.REJECTED, status, f"{status} {message}")
                last = f"{status} {message}"
                wait = parse_retry_after(
                    response.headers.get("Retry-After"), now=time.time(), cap=DAY
                )
                if wait is not None and wait > self.retry.max_retry_after:
                    break
            delay = self.retry.delay(attempt)
            if delay is not None:
                self.sleep(wait if wait is not None else delay)
        raise UpstreamError(
            f"archival endpoint did not accept archive {idempotency_key} after "
            f"{attempt} tries: {last}",
            retryable=True,
        )

    def close(self) -> None:
        self.session.close()


def _redirect(response: requests.Response) -> str:
    """Why a 3xx is final: a setting to correct, not a failure that passes by retrying."""
    location = response.headers.get("Location")
    if not location:
        return f"{response.status_code} redirect without a Location not followed"
    return (
        f"{response.status_code} redirect to {public_url(location, response.url)} "
        "not followed: set ARCHIVAL_ENDPOINT to the final URL"
    )


def _message(response: requests.Response) -> str:
    """The endpoint's own explanation, short and on one line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "title"):
            if isinstance(body.get(key), str):
                return " ".join(str(body[key]).split())[:500]
    text = " ".join(response.text.split())[:500]
    return text or (response.reason or "")
