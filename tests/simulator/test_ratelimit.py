"""The simulator's rate limit: a configurable fixed window, honest headers, 429s with or
without Retry-After, set from Python, over ``/_sim/config`` and by ``archiver simulate``."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import requests

from service.simulator import SimulatorServer
from tests.helpers import ARCHIVER
from tests.simulator.conftest import Api


def test_a_window_allows_its_allowance_then_answers_429_until_it_resets(
    api: Api, simulator: SimulatorServer
) -> None:
    api.login()
    simulator.state.rate_limit.configure(allowed=2, window=1.0)
    answers = [api.get("/api/v2/flows") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["inin-ratelimit-count"] for r in answers] == ["1", "2", "2"]
    assert {r.headers["inin-ratelimit-allowed"] for r in answers} == {"2"}
    assert answers[2].headers["Retry-After"] == answers[2].headers["inin-ratelimit-reset"] == "1"
    time.sleep(1.0)
    again = api.get("/api/v2/flows")
    assert (again.status_code, again.headers["inin-ratelimit-count"]) == (200, "1")
    assert simulator.state.rate_limit.counts() == [2, 1]
    assert simulator.state.rate_limit.refused == 1


def test_a_429_without_retry_after_still_says_when_the_window_resets(
    api: Api, simulator: SimulatorServer
) -> None:
    api.login()
    simulator.state.rate_limit.configure(allowed=1, window=5.0, retry_after=False)
    api.get("/api/v2/flows")
    refused = api.get("/api/v2/flows")
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers
    assert refused.headers["inin-ratelimit-reset"] == "5"
    assert refused.json()["code"] == "too.many.requests"


def test_the_window_is_set_over_http(api: Api, simulator: SimulatorServer) -> None:
    settings = {"rateLimitAllowed": 30, "rateLimitWindowSeconds": 10, "rateLimitRetryAfter": False}
    answer = api.control("POST", "/config", settings)
    assert answer.status_code == 200
    assert answer.json() == {
        "latency": 0.0,
        "tokenLifetime": 86_400,
        "rateLimitPerMinute": 180,
        "rateLimitAllowed": 30,
        "rateLimitWindowSeconds": 10.0,
        "rateLimitRetryAfter": False,
    }
    assert api.get("/api/v2/flows").headers["inin-ratelimit-allowed"] == "30"
    for bad in (
        {"rateLimitAllowed": 0},
        {"rateLimitWindowSeconds": "ten"},
        {"rateLimitRetryAfter": 1},
    ):
        refused = api.control("POST", "/config", bad)
        assert refused.status_code == 400
        assert next(iter(bad)) in refused.json()["error"]
    assert simulator.state.rate_limit.allowed == 30  # a refused change changes nothing


def test_archiver_simulate_enforces_a_rate_limit(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*ARCHIVER, "simulate", "--port", str(port), "--rate-limit", "2/30", "--no-retry-after"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline().strip() for _ in range(2)]
        assert lines == [
            f"Genesys Cloud simulator listening on http://127.0.0.1:{port}",
            "rate limit: 2 requests per 30 s",
        ]
        url = f"http://127.0.0.1:{port}"
        with requests.Session() as session:
            grant = {"grant_type": "client_credentials"}
            token = session.post(f"{url}/oauth/token", data=grant, auth=("a", "b"), timeout=10)
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            answers = [
                session.get(f"{url}/api/v2/flows", headers=bearer, timeout=10) for _ in range(3)
            ]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert "Retry-After" not in answers[2].headers
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def test_archiver_simulate_refuses_a_bad_rate_limit(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ARCHIVER, "simulate", "--rate-limit", "many"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()  # one line naming the option and what it must be
    assert line.startswith("archiver: Invalid value for '--rate-limit': must be N/SECONDS")
