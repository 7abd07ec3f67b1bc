"""The retry schedule of deliveries: at least 24 hours, jittered, then give up."""

from __future__ import annotations

import pytest

from service.backoff import DELIVERIES, Backoff

DAY = 24 * 3600


def test_default_follows_the_standard_webhooks_example_and_lasts_over_a_day() -> None:
    schedule = DELIVERIES
    # Standard Webhooks: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    assert schedule.delays == (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
    assert sum(schedule.delays) == schedule.total >= DAY


def test_even_the_shortest_jittered_run_lasts_a_day() -> None:
    schedule = DELIVERIES
    shortest = min(
        sum(schedule.delay(n) or 0 for n in range(1, len(schedule.delays) + 1)) for _ in range(200)
    )
    assert shortest >= DAY


def test_jitter_stays_within_its_bounds_and_varies() -> None:
    schedule = Backoff((10, 100), jitter=0.2)
    for attempts, base in ((1, 10), (2, 100)):
        samples = [schedule.delay(attempts) for _ in range(500)]
        assert all(s is not None and base <= s <= base * 1.2 for s in samples)
        assert len(set(samples)) > 100


def test_without_jitter_the_delays_are_exact() -> None:
    schedule = Backoff((1, 2, 3), jitter=0)
    assert [schedule.delay(n) for n in (1, 2, 3)] == [1, 2, 3]


def test_after_the_last_delay_it_gives_up() -> None:
    schedule = DELIVERIES
    assert schedule.delay(7) is not None
    assert schedule.delay(8) is None
    assert schedule.delay(100) is None
    with pytest.raises(ValueError):
        schedule.delay(0)


def test_parse_reads_seconds_and_units() -> None:
    assert Backoff.parse("5,300,1800").delays == (5, 300, 1800)
    assert Backoff.parse(" 5s, 5m ,30m,2h,1d ").delays == (5, 300, 1800, 7200, 86400)
    assert Backoff.parse("0.5").delays == (0.5,)


@pytest.mark.parametrize("text", ["", " ", "5,,6", "five", "-5", "inf", "nan", "5x", "1e3"])
def test_parse_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="comma-separated list of seconds"):
        Backoff.parse(text)


def test_a_schedule_refuses_negative_delays_and_odd_jitter() -> None:
    with pytest.raises(ValueError):
        Backoff((5, -1))
    with pytest.raises(ValueError):
        Backoff((), jitter=1.5)
