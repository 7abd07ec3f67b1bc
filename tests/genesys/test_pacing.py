"""Pacing within the rate limit: every thread of a process, one token, no 429 while the
headers are honest; a 429 without Retry-After waits for the window's reset."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time

import pytest

from service.backoff import Backoff
from service.config import Settings
from service.errors import UpstreamError
from service.genesys import GenesysClient
from service.genesys.pacing import DEFAULT_429_WAIT, RESET, RateHeaders, rate_limit_wait
from service.simulator import DEMO_FLOW_ID, SimulatorServer

FAST = Backoff.exponential(0.01, cap=0.05, tries=5, full_jitter=True, max_retry_after=180.0)
FLOW = f"/api/v2/flows/{DEMO_FLOW_ID}"


def run_threads(settings: Settings, threads: int, calls: int, **client_options: object) -> None:
    """``threads`` threads, each with its own client (as worker threads have), sharing
    ``calls`` GETs; failures after the retries are swallowed (the control run has some)."""
    left = iter(range(calls))
    lock = threading.Lock()

    def work() -> None:
        with GenesysClient.from_settings(settings, retry=FAST, **client_options) as client:
            while True:
                with lock:
                    if next(left, None) is None:
                        return
                with contextlib.suppress(UpstreamError):
                    client.get(FLOW)

    started = [threading.Thread(target=work) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()


def statuses(sim: SimulatorServer) -> list[int]:
    return [r.status for r in sim.state.requests if r.path == FLOW]


def test_a_paced_run_of_many_threads_receives_no_429_and_uses_the_window(simulator, settings):
    simulator.state.rate_limit.configure(allowed=10, window=1.0)

    started = time.monotonic()
    run_threads(settings, threads=4, calls=35)
    elapsed = time.monotonic() - started

    assert statuses(simulator) == [200] * 35
    assert simulator.state.rate_limit.refused == 0
    # 35 calls at 10 per second: four windows, three of them waited out, not many more.
    assert 3.0 <= elapsed < 5.5
    tokens = [r for r in simulator.state.requests if r.path == "/oauth/token"]
    assert len(tokens) == 1  # one token for every client of the process


def test_the_same_run_without_pacing_draws_429s(simulator, settings):
    """The control: proves that the simulator's window would refuse the paced run."""
    simulator.state.rate_limit.configure(allowed=10, window=1.0)

    run_threads(settings, threads=4, calls=35, pacing=False, sleep=lambda _: None)

    assert 429 in statuses(simulator)
    assert simulator.state.rate_limit.refused > 0


def test_a_429_without_retry_after_waits_for_the_reset(simulator, settings):
    simulator.state.rate_limit.configure(allowed=2, window=2.0, retry_after=False)

    with GenesysClient.from_settings(settings, retry=FAST, pacing=False) as client:
        for _ in range(3):
            client.get(FLOW)

    answered = [r for r in simulator.state.requests if r.path == FLOW]
    assert [r.status for r in answered] == [200, 200, 429, 200]
    waited = answered[3].at - answered[2].at
    assert 1.5 <= waited < 3.0  # the window's reset (2 s), neither the backoff nor a minute


def test_a_429_holds_every_thread_of_the_process(simulator, settings):
    """One thread's 429 stops the others too: they would only draw more 429s."""
    simulator.state.inject_fault(429, times=1, path=FLOW, retry_after=1)
    with GenesysClient.from_settings(settings, retry=FAST) as first:
        first.get("/api/v2/flows")  # a window is known
        with GenesysClient.from_settings(settings, retry=FAST) as second:
            other = threading.Thread(target=lambda: (time.sleep(0.2), second.get("/api/v2/flows")))
            other.start()
            first.get(FLOW)
            other.join()

    answered = [(r.path, r.status, r.at) for r in simulator.state.requests]
    limited_at = next(at for path, status, at in answered if status == 429)
    later = [at for path, status, at in answered if path == "/api/v2/flows" and at > limited_at]
    assert later and later[0] - limited_at >= 0.9


def test_rate_headers_are_read_case_insensitively_and_only_when_complete():
    headers = {"ININ-RateLimit-Allowed": "300", "inin-ratelimit-count": "7", RESET: "42"}
    assert RateHeaders.read(headers) == RateHeaders(300, 7, 42.0)
    assert RateHeaders.read({"inin-ratelimit-allowed": "300"}) is None
    assert RateHeaders.read({**headers, RESET: "soon"}) is None
    assert RateHeaders.read(None) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7", RESET: "30"}, (7.0, "Retry-After")),
        (
            {"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "300", RESET: "30"},
            (30.0, RESET),
        ),
        ({}, (DEFAULT_429_WAIT, "no Retry-After or reset header")),
    ],
)
def test_a_429_waits_for_retry_after_else_the_reset_else_a_minute(headers, expected):
    assert rate_limit_wait(headers, now=time.time()) == expected


def test_past_half_the_allowance_requests_are_spaced_to_the_window_end(simulator, settings):
    simulator.state.rate_limit.configure(allowed=10, window=2.0)

    with GenesysClient.from_settings(settings, retry=FAST) as client:
        for _ in range(10):
            client.get(FLOW)

    arrived = [r.at for r in simulator.state.requests if r.path == FLOW]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrived)]
    assert max(gaps[:4]) < 0.2  # the first half at once
    assert min(gaps[5:]) >= 0.3  # the rest about (2 s - burst) / 5 apart
    assert arrived[-1] - arrived[0] < 2.0  # all ten within the one window
    assert simulator.state.rate_limit.refused == 0
