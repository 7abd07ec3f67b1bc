"""One way to wait between tries: a list of delays, a jitter, and so a number of tries.

Genesys Cloud requests, archival submissions, archive jobs and deliveries each have
their instance below (the last two shaped by settings). A remote ``Retry-After`` is
honoured up to ``max_retry_after``. This module imports nothing of the project, so
that every layer, the ledger included, may use it.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

DAY = 86400.0  # the longest wait any client here takes from a Retry-After

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class Backoff:
    """Waits after the 1st, 2nd... failed try; one try more than there are delays.

    ``jitter`` lengthens each wait by up to that fraction of it, so a schedule never runs
    shorter than its delays add up to. ``full_jitter`` instead draws each wait between 0
    and its delay ("full jitter": clients that failed together spread out the most).
    """

    delays: tuple[float, ...]
    jitter: float = 0.0
    full_jitter: bool = False
    max_retry_after: float = DAY

    def __post_init__(self) -> None:
        if any(not math.isfinite(d) or d < 0 for d in self.delays):
            raise ValueError("retry delays must be finite numbers of seconds, not negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be a fraction between 0 and 1")
        if not math.isfinite(self.max_retry_after) or self.max_retry_after < 0:
            raise ValueError("max_retry_after must be a finite number of seconds, not negative")

    @classmethod
    def exponential(
        cls,
        base: float,
        *,
        cap: float,
        tries: int,
        jitter: float = 0.0,
        full_jitter: bool = False,
        max_retry_after: float = DAY,
    ) -> Backoff:
        """``tries`` tries, waiting ``base``, twice that, and so on, each wait at most ``cap``."""
        if tries < 1:
            raise ValueError("a backoff allows at least 1 try")
        delays = tuple(min(cap, base * 2.0 ** min(n, 64)) for n in range(tries - 1))
        return cls(delays, jitter, full_jitter, max_retry_after)

    @classmethod
    def parse(cls, text: str, *, jitter: float = 0.0) -> Backoff:
        """Delays from ``"5,300,1800"``; a unit may follow each number: ``"5s,5m,30m,2h"``."""
        delays = []
        for part in text.split(","):
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", part)
            if match is None:
                raise ValueError(
                    "a retry schedule is a comma-separated list of seconds, such as 5,300,1800"
                )
            delays.append(float(match[1]) * _UNITS[match[2]])
        return cls(tuple(delays), jitter)

    @property
    def max_tries(self) -> int:
        """Tries in all, the first one included."""
        return len(self.delays) + 1

    @property
    def total(self) -> float:
        """Seconds from the first failed try to the last try, before jitter."""
        return float(sum(self.delays))

    def delay(self, failures: int) -> float | None:
        """Seconds to wait after ``failures`` failed tries, or None: no try is left."""
        if failures < 1:
            raise ValueError("failures counts failed tries and starts at 1")
        if failures > len(self.delays):
            return None
        step = float(self.delays[failures - 1])
        if self.full_jitter:
            return random.uniform(0.0, step)
        return step + step * random.uniform(0.0, self.jitter)


# A request to Genesys Cloud: 5 tries, full jitter under 0.5 s, 1 s, 2 s, 4 s; a 429 asking
# for more than 180 s fails at once (as the Go SDK does) instead of holding a worker.
GENESYS = Backoff.exponential(0.5, cap=30.0, tries=5, full_jitter=True, max_retry_after=180.0)

# A POST to ARCHIVAL_ENDPOINT: as for Genesys; a Retry-After over 180 s ends the tries.
ARCHIVAL = Backoff.exponential(0.5, cap=30.0, tries=5, full_jitter=True, max_retry_after=180.0)

# Deliveries of completion events, after the Standard Webhooks example schedule: 27.6 hours
# in all before dead, each wait up to 20 % longer; VCS_RETRY_SCHEDULE replaces the delays.
DELIVERY_DELAYS = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
DELIVERY_JITTER = 0.2
DELIVERIES = Backoff(DELIVERY_DELAYS, jitter=DELIVERY_JITTER)

# The worker's history lane after failures in a row: 1 s, doubling, at most a minute, and
# never giving up (the last delay repeats): a lasting fault writes a line a minute.
HISTORY = Backoff.exponential(1.0, cap=60.0, tries=8)


def jobs(max_tries: int = 5, base: float = 30.0) -> Backoff:
    """Archive jobs (``JOB_MAX_TRIES``, ``JOB_RETRY_BASE_SECONDS``): 30 s, 60 s, 120 s...
    at most an hour, each up to 50 % longer, then dead."""
    return Backoff.exponential(base, cap=3600.0, tries=max_tries, jitter=0.5)


def deliveries(schedule: str | None = None) -> Backoff:
    """Deliveries on ``VCS_RETRY_SCHEDULE`` (``"5s,5m,30m"``), or the default schedule."""
    return Backoff.parse(schedule, jitter=DELIVERY_JITTER) if schedule else DELIVERIES


JOBS = jobs()
