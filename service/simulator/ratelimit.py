"""The simulated rate limit: fixed windows of ``allowed`` API requests per ``window`` seconds.

Every API answer carries ``inin-ratelimit-allowed``, ``-count`` and ``-reset`` as Genesys
sends them (reset in whole seconds, rounded up, so it is never early). A window opens with
the first request after the last one closed; a request beyond the allowance answers 429,
with ``Retry-After`` or without it (``retry_after``), and is not counted. Tests set a
window of a few seconds to run a rate-limited org quickly.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
DEFAULT_ALLOWED = 300  # Genesys' documented default per token and minute


@dataclass(frozen=True)
class RateStatus:
    """Where a request stands against the window, for the ``inin-ratelimit-*`` headers."""

    allowed: bool
    limit: int
    count: int
    reset: int
    retry_after: bool = True  # whether a refusal carries Retry-After


class RateLimit:
    """The window, its allowance (None: counted and shown, never enforced) and the 429s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.allowed: int | None = None
        self.window: float = WINDOW_SECONDS
        self.retry_after = True
        self.refused = 0  # 429s answered for the limit
        self._opened: float | None = None  # when the current window opened
        self._count = 0
        self._closed: list[int] = []  # requests counted in each window that has ended

    def configure(
        self,
        *,
        allowed: int | bool | None = False,
        window: float | None = None,
        retry_after: bool | None = None,
    ) -> None:
        """Change what is given (``allowed=False``: unchanged); the window restarts."""
        if allowed is not False and allowed is not None and (allowed is True or allowed < 1):
            raise ValueError("rateLimitAllowed must be a whole number, 1 or more, or null")
        if window is not None and not 0 < window <= 86_400:
            raise ValueError("rateLimitWindowSeconds must be more than 0 and at most 86400")
        with self._lock:
            self._closed = []
            if allowed is not False:
                self.allowed = allowed
            if window is not None:
                self.window = float(window)
            if retry_after is not None:
                self.retry_after = retry_after
            self._opened, self._count = None, 0

    @property
    def per_minute(self) -> int | None:
        """The allowance as requests per minute (None when not enforced)."""
        if self.allowed is None:
            return None
        return round(self.allowed * WINDOW_SECONDS / self.window)

    def admit(self, now: float) -> RateStatus:
        """Count one API request in the window, unless the window's allowance is spent."""
        with self._lock:
            if self._opened is None or now >= self._opened + self.window:
                self._close()
                self._opened, self._count = now, 0
            status = self._status(now)
            if not status.allowed:
                self.refused += 1
                return status
            self._count += 1
            return RateStatus(True, status.limit, self._count, status.reset, self.retry_after)

    def status(self, now: float) -> RateStatus:
        """The current standing, without counting a request."""
        with self._lock:
            if self._opened is not None and now >= self._opened + self.window:
                self._close()
                self._opened, self._count = None, 0
            return self._status(now)

    def counts(self) -> list[int]:
        """Requests counted in each window since the last ``configure``, oldest first (the
        current one last): how full a paced client kept them."""
        with self._lock:
            return self._closed + ([self._count] if self._opened is not None else [])

    def _close(self) -> None:
        if self._opened is not None:
            self._closed.append(self._count)

    def _status(self, now: float) -> RateStatus:
        remaining = self.window if self._opened is None else self._opened + self.window - now
        limit = self.allowed or DEFAULT_ALLOWED
        allowed = self.allowed is None or self._count < self.allowed
        reset = max(1, math.ceil(remaining))
        return RateStatus(allowed, limit, self._count, reset, self.retry_after)

    # ``/_sim/config`` -------------------------------------------------------------------

    KEYS = ("rateLimitAllowed", "rateLimitWindowSeconds", "rateLimitRetryAfter")

    def configure_from(self, body: dict[str, object]) -> None:
        """Apply the ``KEYS`` given in a ``/_sim/config`` body; ValueError names a bad one."""
        if not any(key in body for key in self.KEYS):
            return
        allowed = body.get("rateLimitAllowed", False)
        if allowed is not False and allowed is not None and not isinstance(allowed, int):
            raise ValueError("rateLimitAllowed must be a whole number, 1 or more, or null")
        window = body.get("rateLimitWindowSeconds")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int | float)):
            raise ValueError("rateLimitWindowSeconds must be a number of seconds")
        retry_after = body.get("rateLimitRetryAfter")
        if retry_after is not None and not isinstance(retry_after, bool):
            raise ValueError("rateLimitRetryAfter must be true or false")
        self.configure(allowed=allowed, window=window, retry_after=retry_after)

    def shown(self, body: dict[str, object]) -> dict[str, object]:
        """The window's settings for a ``/_sim/config`` answer: once given or not the default."""
        if not any(key in body for key in self.KEYS) and (
            self.window == WINDOW_SECONDS and self.retry_after
        ):
            return {}
        return {
            "rateLimitAllowed": self.allowed,
            "rateLimitWindowSeconds": self.window,
            "rateLimitRetryAfter": self.retry_after,
        }
