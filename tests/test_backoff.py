"""One backoff type: each instance's waits within the ranges the README gives, then no try."""

from __future__ import annotations

import pytest

from service.backoff import ARCHIVAL, DAY, DELIVERIES, GENESYS, JOBS, Backoff, deliveries, jobs
from service.config import load_settings
from service.outbound.settings import outbound_from

SAMPLES = 300


def waits(backoff: Backoff, failures: int) -> list[float]:
    found = [backoff.delay(failures) for _ in range(SAMPLES)]
    assert all(w is not None for w in found)
    return [w for w in found if w is not None]


@pytest.mark.parametrize("backoff", [GENESYS, ARCHIVAL], ids=["genesys", "archival"])
def test_requests_have_5_tries_with_full_jitter_under_a_doubling_ceiling(backoff: Backoff) -> None:
    assert backoff.max_tries == 5
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)]:
        found = waits(backoff, failures)
        assert all(0.0 <= w <= ceiling for w in found)
        # full jitter: spread over the whole range, not bunched at the ceiling
        assert min(found) < ceiling / 4 and max(found) > ceiling * 3 / 4
    assert backoff.delay(5) is None
    assert backoff.max_retry_after == 180.0  # a longer Retry-After fails at once


def test_jobs_double_from_30_s_up_to_an_hour_with_up_to_half_added() -> None:
    assert JOBS.max_tries == 5
    for failures, step in [(1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0)]:
        found = waits(JOBS, failures)
        assert all(step <= w <= step * 1.5 for w in found)
        assert len(set(found)) > SAMPLES // 2
    assert JOBS.delay(5) is None
    many = jobs(max_tries=20, base=30.0)
    assert many.max_tries == 20
    assert all(3600.0 <= w <= 5400.0 for w in waits(many, 19))  # capped at an hour, then jitter


def test_job_settings_shape_the_jobs_backoff() -> None:
    retry = jobs(max_tries=3, base=2.0)
    assert retry.delays == (2.0, 4.0)
    assert retry.max_tries == 3


def test_deliveries_follow_the_standard_webhooks_schedule_plus_up_to_20_percent() -> None:
    assert DELIVERIES.delays == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert DELIVERIES.max_tries == 8
    assert DELIVERIES.total >= DAY
    for failures, step in enumerate(DELIVERIES.delays, start=1):
        assert all(step <= w <= step * 1.2 for w in waits(DELIVERIES, failures))
    assert DELIVERIES.delay(8) is None
    assert DELIVERIES.max_retry_after == DAY


def test_vcs_retry_schedule_replaces_the_delays_and_keeps_the_jitter() -> None:
    schedule = outbound_from(load_settings({"VCS_RETRY_SCHEDULE": "1s,2m,1h"})).retry
    assert schedule.delays == (1.0, 120.0, 3600.0)
    assert schedule.jitter == 0.2 and schedule.max_tries == 4
    assert deliveries(None) is DELIVERIES
    assert outbound_from(load_settings({})).retry is DELIVERIES


def test_first_failure_counts_from_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        GENESYS.delay(0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delays": (5.0, -1.0)}, "not negative"),
        ({"delays": (float("inf"),)}, "finite"),
        ({"delays": (), "jitter": 1.5}, "between 0 and 1"),
        ({"delays": (), "max_retry_after": float("inf")}, "max_retry_after"),
    ],
)
def test_a_backoff_refuses_odd_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


def test_exponential_needs_a_try() -> None:
    with pytest.raises(ValueError, match="at least 1 try"):
        Backoff.exponential(1.0, cap=2.0, tries=0)
    assert Backoff.exponential(1.0, cap=2.0, tries=1).delay(1) is None
