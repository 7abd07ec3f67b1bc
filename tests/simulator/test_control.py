"""The request log and the ``/_sim`` control routes that mirror the Python API."""

from __future__ import annotations

import time

from service.simulator import DEMO_FLOW_ID, SimulatorServer
from tests.simulator.conftest import Api


def test_request_log_records_method_path_query_status_time_and_auth(
    api: Api, simulator: SimulatorServer
) -> None:
    before = time.monotonic()
    api.login()
    api.get("/api/v2/flows", pageSize=5)
    api.get("/api/v2/flows/nope")
    api.session.get(f"{simulator.url}/api/v2/flows", timeout=5)
    after = time.monotonic()

    records = simulator.state.requests
    assert [(r.method, r.path, r.status, r.auth) for r in records] == [
        ("POST", "/oauth/token", 200, "basic"),
        ("GET", "/api/v2/flows", 200, "bearer"),
        ("GET", "/api/v2/flows/nope", 404, "bearer"),
        ("GET", "/api/v2/flows", 401, None),
    ]
    assert records[1].query == {"pageSize": "5"}
    times = [r.at for r in records]
    assert times == sorted(times) and before <= times[0] and times[-1] <= after
    assert simulator.state.api_calls() == 3
    assert simulator.state.api_calls("/oauth") == 1

    simulator.state.clear_requests()
    assert simulator.state.requests == [] and simulator.state.api_calls() == 0


def test_faulted_and_rate_limited_requests_are_logged_with_their_status(
    api: Api, simulator: SimulatorServer
) -> None:
    api.login()
    simulator.state.inject_fault(502, path="/api/v2/")
    api.get("/api/v2/flows")
    assert simulator.state.requests[-1].status == 502


def test_control_routes_create_strategies_and_versions(api: Api) -> None:
    response = api.control("POST", "/strategies", {"sourceType": "flow", "versions": 2})
    assert response.status_code == 201
    flow_id = response.json()["id"]
    listed = api.ok(f"/api/v2/flows/{flow_id}/versions")["entities"]
    assert sorted(v["id"] for v in listed) == ["1.0", "2.0"]
    response = api.control("POST", f"/strategies/{flow_id}/versions", {"count": 2})
    assert response.json() == {"versionIds": ["3.0", "4.0"]}
    assert api.ok(f"/api/v2/flows/{flow_id}")["savedVersion"]["id"] == "4.0"

    named = {"sourceType": "routing-strategy", "name": "Holiday routing", "versions": 1}
    strategy_id = api.control("POST", "/strategies", named).json()["id"]
    assert api.ok(f"/api/v2/routing/strategies/{strategy_id}")["name"] == "Holiday routing"
    listed = api.control("GET", "/strategies").json()
    assert strategy_id in listed["routing-strategy"] and flow_id in listed["flow"]

    assert api.control("POST", "/strategies", {"sourceType": "queue"}).status_code == 400
    assert api.control("POST", "/strategies/unknown/versions", {"count": 1}).status_code == 404


def test_control_routes_queue_faults_and_corruption(api: Api) -> None:
    api.login()
    fault = {"status": 429, "times": 1, "path": "/api/v2/flows", "retryAfter": 1.5}
    assert api.control("POST", "/faults", fault).status_code == 204
    response = api.get("/api/v2/flows")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")

    change = {"path": f"/api/v2/flows/{DEMO_FLOW_ID}", "field": "name", "value": "Renamed"}
    assert api.control("POST", "/corrupt", change).status_code == 204
    assert api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}")["name"] == "Renamed"
    assert api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}")["name"] == "Main inbound"
    assert api.control("POST", "/faults", {"status": "bad"}).status_code == 400


def test_control_routes_configure_expire_and_read_the_log(
    api: Api, simulator: SimulatorServer
) -> None:
    settings = {"tokenLifetime": 600, "rateLimitPerMinute": 50, "latency": 0}
    assert api.control("POST", "/config", settings).json() == {
        "latency": 0.0,
        "tokenLifetime": 600,
        "rateLimitPerMinute": 50,
    }
    assert simulator.state.rate_limit_per_minute == 50
    assert api.token().json()["expires_in"] == 600
    token = api.login()
    assert api.control("POST", "/tokens/expire").status_code == 204
    assert api.get("/api/v2/flows", token=token).status_code == 401

    logged = api.control("GET", "/requests").json()
    assert [(r["method"], r["path"], r["status"], r["auth"]) for r in logged] == [
        ("POST", "/oauth/token", 200, "basic"),
        ("POST", "/oauth/token", 200, "basic"),
        ("GET", "/api/v2/flows", 401, "bearer"),
    ]
    assert set(logged[0]) == {"method", "path", "query", "status", "at", "auth"}
    assert api.control("DELETE", "/requests").status_code == 204
    assert api.control("GET", "/requests").json() == []
    assert simulator.state.requests == []  # control calls are never logged


def test_control_routes_are_not_delayed_or_faulted(api: Api, simulator: SimulatorServer) -> None:
    simulator.state.latency = 0.5
    simulator.state.inject_fault(500)
    started = time.monotonic()
    assert api.control("GET", "/requests").status_code == 200
    assert time.monotonic() - started < 0.5
    simulator.state.latency = 0
    assert api.token().status_code == 500  # the fault still waits for a real request
