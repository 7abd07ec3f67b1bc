"""Pacing within Genesys Cloud's rate limit, shared by every thread of the process.

Genesys answers every API call with ``inin-ratelimit-allowed`` (requests allowed in the
current window), ``inin-ratelimit-count`` (requests counted in it so far) and
``inin-ratelimit-reset`` (seconds until it resets). The limit is per token, and a process
holds one token per client (``auth.py``), so one ``Pacer`` per client paces every thread:
the first half of a window's allowance goes as fast as the work allows (a short job never
waits), the rest is spaced evenly over what is left of the window, and once the allowance
is spent every thread waits for the reset instead of drawing a 429.

The first request of a window (the probe) goes alone: its answer says where the new
window stands. The reset is read as an upper bound (whole seconds, rounded up), so the
end of a window is the earliest ``answer time + reset`` seen in it.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..http import DAY, parse_retry_after

ALLOWED = "inin-ratelimit-allowed"
COUNT = "inin-ratelimit-count"
RESET = "inin-ratelimit-reset"
DEFAULT_429_WAIT = 60.0  # a 429 that says neither Retry-After nor reset waits a minute
_PROBE_POLL = 1.0  # a thread waiting for a probe's answer looks again this often
BURST_SHARE = 0.5  # of a window's allowance sent at once; the rest spaced to its end


@dataclass(frozen=True)
class RateHeaders:
    """The ``inin-ratelimit-*`` headers of one answer."""

    allowed: int
    count: int
    reset: float

    @classmethod
    def read(cls, headers: Mapping[str, str] | None) -> RateHeaders | None:
        """The three headers (names matched case-insensitively), or None when one is missing
        or unreadable: pacing then leaves the request alone rather than guessing."""
        if not headers:
            return None
        lowered = {str(k).lower(): v for k, v in headers.items()}
        try:
            allowed = int(lowered[ALLOWED])
            count = int(lowered[COUNT])
            reset = float(lowered[RESET])
        except (KeyError, ValueError, TypeError):
            return None
        if allowed < 1 or count < 0 or not 0 <= reset <= DAY:
            return None
        return cls(allowed, count, reset)


def rate_limit_wait(headers: Mapping[str, str], *, now: float) -> tuple[float, str]:
    """How long a 429 asks to wait, and on what grounds: ``Retry-After`` when given, else
    the window's reset, else a minute (never the short backoff of other failures)."""
    retry_after = parse_retry_after(headers.get("Retry-After"), now=now, cap=DAY)
    if retry_after is not None:
        return retry_after, "Retry-After"
    rate = RateHeaders.read(headers)
    if rate is not None:
        return max(rate.reset, 1.0), RESET
    return DEFAULT_429_WAIT, "no Retry-After or reset header"


@dataclass(frozen=True)
class Ticket:
    """Leave to send one request, handed back with its answer's headers."""

    window: int  # the window (counted from 1) the request was sent in; 0: unpaced
    probe: bool  # the first request of a window, sent alone


class Pacer:
    """Spaces the API requests of every thread of a process that share one token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._window = 0  # number of the current window
        self._known = False  # whether the current window's end and allowance are known
        self._probing = False  # a probe is in flight
        self._blind = False  # the server sends no rate headers: nothing to pace by
        self._end = 0.0  # clock time by which the current window has surely reset
        self._allowed = 0
        self._used = 0  # requests of the current window: sent by us, or counted by Genesys
        self._in_flight = 0
        self._spread_from: float | None = None  # when the window's burst share ran out
        self._hold_until = 0.0  # after a 429: nobody sends before this time
        self.waited = 0.0  # seconds threads spent waiting here, all threads together
        self.holds = 0  # 429s that stopped every thread

    def acquire(self) -> Ticket:
        """Wait until a request may be sent without overrunning the window, then take a slot."""
        with self._cond:
            started = self._clock()
            try:
                while True:
                    now = self._clock()
                    wait = self._wait_needed(now)
                    if wait is None:
                        return self._take(now)
                    self._cond.wait(wait)
            finally:
                self.waited += self._clock() - started

    def release(self, ticket: Ticket, headers: Mapping[str, str] | None) -> None:
        """The request of ``ticket`` ended; ``headers`` of its answer (None: no answer)."""
        with self._cond:
            self._in_flight -= 1
            rate = RateHeaders.read(headers)
            now = self._clock()
            if ticket.probe:
                self._probing = False
            if rate is None:
                if ticket.probe and headers is not None:
                    self._blind = True  # answered, without the headers: do not pace
            elif ticket.probe or self._blind:
                self._start_window(now, rate)
            elif ticket.window == self._window:
                # Genesys may count more than we sent (another user of the token).
                self._used = max(self._used, rate.count)
                self._allowed = rate.allowed
                self._end = min(self._end, now + rate.reset)
            self._cond.notify_all()

    def hold(self, seconds: float) -> None:
        """A 429: no thread sends for ``seconds``; the next request then probes anew."""
        with self._cond:
            self._hold_until = max(self._hold_until, self._clock() + seconds)
            self._known = False
            self.holds += 1
            self._cond.notify_all()

    def _wait_needed(self, now: float) -> float | None:
        """Seconds to wait before looking again, or None when a request may go now."""
        if now < self._hold_until:
            return self._hold_until - now
        if self._blind:
            return None
        if not self._known or now >= self._end:
            return _PROBE_POLL if self._probing else None
        if self._used >= self._allowed:
            return self._end - now
        due = self._due(now)
        return None if due <= now else due - now

    def _due(self, now: float) -> float:
        """When the window's next request may go: at once within the burst share, then
        evenly spaced so that the allowance lasts until the window's end."""
        burst = math.ceil(self._allowed * BURST_SHARE)
        if self._used < burst:
            return now
        if self._spread_from is None:
            self._spread_from = now
        interval = (self._end - self._spread_from) / max(1, self._allowed - burst)
        return self._spread_from + (self._used - burst) * interval

    def _take(self, now: float) -> Ticket:
        self._in_flight += 1
        if self._blind:
            return Ticket(0, probe=False)
        if not self._known or now >= self._end:
            self._known = False
            self._probing = True
            self._window += 1
            return Ticket(self._window, probe=True)
        self._used += 1
        return Ticket(self._window, probe=False)

    def _start_window(self, now: float, rate: RateHeaders) -> None:
        """A new window as the probe's answer shows it; requests still in flight may
        count in it too."""
        if self._blind:
            self._window += 1  # tickets handed out unpaced count for no window
        self._blind = False
        self._known = True
        self._allowed = rate.allowed
        self._used = rate.count + self._in_flight
        self._end = now + rate.reset
        self._spread_from = None


K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Shared(Generic[K, T]):
    """Objects shared by key within the process, kept while a client holds them.

    Every ``GenesysClient`` of one client id takes the same token and pacer from here,
    whichever thread made it; the last one to close lets them go.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._items: dict[K, tuple[T, int]] = {}

    def take(self, key: K) -> T:
        """The object for ``key``, made on first use."""
        with self._lock:
            item, holders = self._items.get(key) or (self._factory(), 0)
            self._items[key] = (item, holders + 1)
            return item

    def give_back(self, key: K) -> None:
        """One holder is done; the object goes when none is left."""
        with self._lock:
            if key not in self._items:
                return
            item, holders = self._items[key]
            if holders <= 1:
                del self._items[key]
            else:
                self._items[key] = (item, holders - 1)


def client_key(url: str, client_id: str, secret: str) -> tuple[str, str, str]:
    """What identifies one client of one org, the secret only as a digest."""
    return url.rstrip("/"), client_id, hashlib.sha256(secret.encode()).hexdigest()


PACERS: Shared[tuple[str, str, str], Pacer] = Shared(Pacer)
