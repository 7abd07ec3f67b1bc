"""Misbehaviour on purpose: injected faults, corrupted bodies, latency and the rate limit."""

from __future__ import annotations

import time

from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.simulator.conftest import Api


def test_injected_503_then_success(api: Api, simulator: SimulatorServer) -> None:
    api.login()
    simulator.state.inject_fault(503, times=2, path="/api/v2/flows")
    other = api.get(f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}")
    assert other.status_code == 200  # another path is untouched
    statuses = [api.get(f"/api/v2/flows/{DEMO_FLOW_ID}").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_injected_fault_has_an_error_body(api: Api, simulator: SimulatorServer) -> None:
    simulator.state.inject_fault(503, path="/api/v2/flows")
    response = api.get("/api/v2/flows")
    body = response.json()
    assert (body["status"], body["code"]) == (503, "service.unavailable")
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    assert "Retry-After" not in response.headers


def test_injected_429_carries_retry_after_in_whole_seconds(
    api: Api, simulator: SimulatorServer
) -> None:
    simulator.state.inject_fault(429, path="/api/v2/routing", retry_after=2.2)
    response = api.get(f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["code"] == "too.many.requests"
    assert api.get(f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions").status_code == 200


def test_fault_without_path_hits_the_token_endpoint_with_an_oauth_body(
    api: Api, simulator: SimulatorServer
) -> None:
    simulator.state.inject_fault(503)
    response = api.token()
    assert response.status_code == 503
    assert set(response.json()) == {"error", "description", "error_description"}
    assert api.token().status_code == 200


def test_corrupt_next_changes_exactly_that_field_once(api: Api, simulator: SimulatorServer) -> None:
    path = f"/api/v2/flows/{DEMO_FLOW_ID}/versions"
    clean = api.ok(path)
    simulator.state.corrupt_next(path, "entities.1.dateCreated", "yesterday")
    corrupted = api.ok(path)
    assert corrupted["entities"][1]["dateCreated"] == "yesterday"
    corrupted["entities"][1]["dateCreated"] = clean["entities"][1]["dateCreated"]
    assert corrupted == clean
    assert api.ok(path) == clean


def test_corrupt_next_with_none_deletes_the_field_for_times_answers(
    api: Api, simulator: SimulatorServer
) -> None:
    path = f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}"
    simulator.state.corrupt_next("/api/v2/routing/strategies/", "name", None, times=2)
    assert "name" not in api.ok(path)
    assert "name" not in api.ok(path)
    assert api.ok(path)["name"] == "Priority routing"


def test_corrupt_next_skips_error_answers(api: Api, simulator: SimulatorServer) -> None:
    simulator.state.corrupt_next("/api/v2/flows", "total", -1)
    assert api.get("/api/v2/flows", pageSize=500).status_code == 400
    assert api.ok("/api/v2/flows")["total"] == -1
    assert api.ok("/api/v2/flows")["total"] == 4


def test_latency_is_added_to_every_response(api: Api, simulator: SimulatorServer) -> None:
    api.login()
    simulator.state.latency = 0.25
    started = time.monotonic()
    assert api.get("/api/v2/flows").status_code == 200
    assert time.monotonic() - started >= 0.25
    simulator.state.latency = 0
    started = time.monotonic()
    api.get("/api/v2/flows")
    assert time.monotonic() - started < 0.25


def test_rate_limit_answers_429_with_retry_after(api: Api, simulator: SimulatorServer) -> None:
    api.login()
    simulator.state.rate_limit_per_minute = 3
    answers = [api.get("/api/v2/flows") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["inin-ratelimit-count"] for r in answers[:3]] == ["1", "2", "3"]
    assert answers[0].headers["inin-ratelimit-allowed"] == "3"
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert answers[3].json()["code"] == "too.many.requests"
    assert api.token().status_code == 200  # the limit is per API call, not on the login host
    simulator.state.rate_limit_per_minute = None
    assert api.get("/api/v2/flows").status_code == 200


def test_rate_limit_headers_on_every_api_answer(api: Api) -> None:
    response = api.get("/api/v2/flows")
    for header in ("inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset"):
        assert int(response.headers[header]) >= 1
    assert response.headers["inin-ratelimit-allowed"] == "300"
    assert len(response.headers["ININ-Correlation-Id"]) == 36
