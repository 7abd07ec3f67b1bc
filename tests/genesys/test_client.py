"""GenesysClient against the simulator (and a tiny stub for bodies the simulator never sends)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.backoff import Backoff
from service.config import Settings
from service.errors import ConfigError, UpstreamError, ValidationFailed
from service.genesys import GenesysClient
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import make_settings
from tests.redirects import Recorder, Redirector

FAST = Backoff.exponential(0.01, cap=0.05, tries=5, full_jitter=True, max_retry_after=180.0)


@pytest.fixture
def client(settings: Settings) -> Iterator[GenesysClient]:
    with GenesysClient.from_settings(settings, retry=FAST) as client:
        yield client


def api_requests(sim: SimulatorServer) -> list:
    return [r for r in sim.state.requests if r.path.startswith("/api/v2/")]


# Paging ---------------------------------------------------------------------------------


def test_cursor_paging_returns_every_version_once(simulator, client):
    sid = simulator.state.add_strategy("routing-strategy", versions=250)
    simulator.state.clear_requests()

    path = f"/api/v2/routing/strategies/{sid}/versions"
    pages = list(client.pages(path, schema="routing strategy versions page"))

    ids = [item["id"] for page in pages for item in page["items"]]
    assert [len(page["items"]) for page in pages] == [100, 100, 50]
    assert len(set(ids)) == 250
    sent = api_requests(simulator)
    assert len(sent) == 3 == client.calls
    assert all(r.query["pageSize"] == "100" for r in sent)
    assert "cursor" not in sent[0].query and all("cursor" in r.query for r in sent[1:])


def test_page_number_paging_returns_every_version_once(simulator, client):
    fid = simulator.state.add_strategy("flow", versions=250)
    simulator.state.clear_requests()

    path = f"/api/v2/flows/{fid}/versions"
    pages = list(client.pages(path, schema="flow versions page"))

    ids = [entity["id"] for page in pages for entity in page["entities"]]
    assert sorted(ids, key=float) == [f"{n}.0" for n in range(1, 251)]
    sent = api_requests(simulator)
    assert [r.query.get("pageNumber") for r in sent] == [None, "2", "3"]
    assert all(r.query["pageSize"] == "100" for r in sent)


def test_paging_stops_at_page_count_even_with_a_next_uri(stub):
    last_page = {"entities": [], "pageNumber": 2, "pageCount": 2, "nextUri": "/api/v2/things?x=1"}
    stub.routes["/api/v2/things"] = (200, last_page)
    with stub_client(stub) as client:
        pages = list(client.pages("/api/v2/things", schema="flows page"))
    assert len(pages) == 1
    assert stub.paths.count("/api/v2/things") == 1


def test_a_next_uri_adds_page_size_when_it_lacks_one(stub):
    stub.routes["/api/v2/things"] = (200, {"items": [], "nextUri": "/api/v2/more?cursor=abc"})
    stub.routes["/api/v2/more"] = (200, {"items": []})
    with stub_client(stub) as client:
        list(client.pages("/api/v2/things", schema="routing strategies page"))
    assert stub.queries[-1] == "cursor=abc&pageSize=100"


def test_a_next_uri_repeating_itself_fails_instead_of_looping(stub):
    stub.routes["/api/v2/loop"] = (200, {"items": [], "nextUri": "/api/v2/loop?cursor=x"})
    with stub_client(stub) as client, pytest.raises(UpstreamError, match="twice"):
        list(client.pages("/api/v2/loop", schema="routing strategies page"))


def test_a_next_uri_on_another_host_is_refused_without_a_request(simulator, client):
    with pytest.raises(UpstreamError, match="not under"):
        client.get("https://elsewhere.example/api/v2/flows")
    assert simulator.state.requests == []


# Redirects ------------------------------------------------------------------------------


def located(recorder: Recorder, path: str) -> str:
    """A Location on another server, its userinfo and query holding secrets."""
    return f"http://mover:loc-pass-4321@{recorder.url.removeprefix('http://')}{path}?code=abc987"


@pytest.mark.parametrize("status", [301, 307])
def test_an_api_redirect_is_not_followed_with_the_token(simulator, status):
    with Recorder() as recorder, Redirector(status, located(recorder, "/api/v2/flows")) as moved:
        client = GenesysClient(
            api_url=moved.url,
            login_url=simulator.url,
            client_id="test-client",
            client_secret="test-secret-value",
            retry=FAST,
        )
        with client, pytest.raises(UpstreamError) as caught:
            client.get("/api/v2/flows")
    assert recorder.seen == []
    assert moved.requests == 1
    assert caught.value.status == status and not caught.value.retryable
    assert str(caught.value) == (
        f"Genesys Cloud answered GET /api/v2/flows with a {status} redirect to "
        f"{recorder.url}/api/v2/flows, not followed: check GENESYS_API_URL"
    )
    assert "loc-pass-4321" not in str(caught.value) and "abc987" not in str(caught.value)


def test_a_token_request_redirect_is_not_followed_with_the_secret():
    with Recorder() as recorder, Redirector(308, located(recorder, "/oauth/token")) as moved:
        client = GenesysClient(
            api_url=recorder.url,
            login_url=moved.url,
            client_id="test-client",
            client_secret="test-secret-value",
            retry=FAST,
        )
        with client, pytest.raises(UpstreamError) as caught:
            client.get("/api/v2/flows")
    assert recorder.seen == []
    assert "POST /oauth/token with a 308 redirect to" in str(caught.value)
    assert "check GENESYS_LOGIN_URL" in str(caught.value)
    assert "test-secret-value" not in str(caught.value) and "abc987" not in str(caught.value)


# Rate limits and transient failures ---------------------------------------------------


def test_429_waits_exactly_retry_after_before_sending_again(simulator, client):
    path = f"/api/v2/flows/{DEMO_FLOW_ID}"
    client.get(path)  # the token, out of the way
    simulator.state.clear_requests()
    simulator.state.inject_fault(429, times=1, path=path, retry_after=1)

    body = client.get(path, schema="flow")

    assert body["id"] == DEMO_FLOW_ID
    limited, answered = simulator.state.requests
    assert (limited.status, answered.status) == (429, 200)
    assert answered.at - limited.at >= 1.0
    assert client.calls == 3


def test_429_asking_too_long_a_wait_fails_at_once(simulator, settings):
    waits: list[float] = []
    path = f"/api/v2/flows/{DEMO_FLOW_ID}"
    simulator.state.inject_fault(429, times=1, path=path, retry_after=600)

    with (
        GenesysClient.from_settings(
            settings, retry=FAST, sleep=waits.append, pacing=False
        ) as client,
        pytest.raises(UpstreamError) as caught,
    ):
        client.get(path)

    assert caught.value.status == 429 and caught.value.retryable
    assert "600 s" in str(caught.value) and "180 s" in str(caught.value)
    assert waits == [] and len(api_requests(simulator)) == 1


def test_429_without_retry_after_waits_for_the_window_reset(simulator, settings):
    waits: list[float] = []
    simulator.state.rate_limit.configure(window=5.0)  # inin-ratelimit-reset: 5
    simulator.state.inject_fault(429, times=2, path="/api/v2/flows")

    with GenesysClient.from_settings(
        settings, retry=FAST, sleep=waits.append, pacing=False
    ) as client:
        client.get(f"/api/v2/flows/{DEMO_FLOW_ID}")

    assert waits == [5.0, 5.0]  # not the short backoff of other failures


def test_transient_failures_are_retried_until_success(simulator, client):
    path = f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}"
    simulator.state.inject_fault(503, times=1, path=path)
    simulator.state.inject_fault(502, times=1, path=path)
    simulator.state.inject_fault(504, times=1, path=path)

    body = client.get(path, schema="routing strategy")

    assert body["name"] == "Priority routing"
    assert [r.status for r in api_requests(simulator)] == [503, 502, 504, 200]


def test_persistent_503_fails_after_max_attempts(simulator, settings):
    waits: list[float] = []
    policy = Backoff.exponential(0.01, cap=0.02, tries=4, full_jitter=True, max_retry_after=180.0)
    path = f"/api/v2/flows/{DEMO_FLOW_ID}/versions"
    simulator.state.inject_fault(503, times=50, path=path)

    with (
        GenesysClient.from_settings(settings, retry=policy, sleep=waits.append) as client,
        pytest.raises(UpstreamError) as caught,
    ):
        client.get(path)

    error = caught.value
    assert error.retryable and error.status == 503 and error.code == "service.unavailable"
    assert str(error).startswith(f"Genesys Cloud kept failing GET {path}: gave up after 4 tries")
    assert "503 service.unavailable" in str(error)
    assert len(api_requests(simulator)) == 4 == client.calls
    assert len(waits) == 3


def test_connection_refused_is_retried_then_reported(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits: list[float] = []
    client = GenesysClient(
        api_url=f"http://127.0.0.1:{port}",
        login_url=f"http://127.0.0.1:{port}",
        client_id="id",
        client_secret="closed-port-secret",
        retry=Backoff.exponential(0.5, cap=30.0, tries=3, full_jitter=True, max_retry_after=180.0),
        sleep=waits.append,
    )
    with client, pytest.raises(UpstreamError) as caught:
        client.get("/api/v2/flows")
    assert caught.value.retryable
    assert "POST /oauth/token" in str(caught.value) and "3 tries" in str(caught.value)
    assert "ConnectionError" in str(caught.value)
    assert "closed-port-secret" not in str(caught.value)
    assert len(waits) == 2 and client.token_requests == 1


# Errors and validation ------------------------------------------------------------------


def test_404_carries_status_code_message_and_context(simulator, client):
    missing = "0b0e4a4c-4c6a-4f7e-9d3b-7a1f2e3d4c5b"
    path = f"/api/v2/flows/{missing}/versions"

    with pytest.raises(UpstreamError) as caught:
        client.get(path)

    error = caught.value
    assert (error.status, error.code, error.retryable) == (404, "not.found", False)
    assert str(error).startswith(
        f"Genesys Cloud answered 404 not.found for GET {path}: The requested flow was not found."
    )
    assert f"(contextId {error.body['contextId']})" in str(error)
    assert len(api_requests(simulator)) == 1


def test_corrupted_field_is_named(simulator, client):
    # (Version listings check each entry apart: see test_sources.py.)
    path = "/api/v2/routing/strategies"
    simulator.state.corrupt_next(path, field="items.0.createdDate", value=12)

    with pytest.raises(ValidationFailed) as caught:
        client.get(path, {"pageSize": 100}, schema="routing strategies page")

    assert str(caught.value) == (
        "Genesys routing strategies page is malformed: items.0.createdDate: must be of string type"
    )


def test_missing_required_field_is_named(simulator, client):
    path = f"/api/v2/flows/{DEMO_FLOW_ID}"
    simulator.state.corrupt_next(path, field="name", value=None)

    with pytest.raises(ValidationFailed, match=r"Genesys flow is malformed: name: required"):
        client.get(path, schema="flow")


def test_a_body_that_is_not_json_is_a_clear_error(stub):
    stub.routes["/api/v2/page"] = (200, "<html>maintenance</html>")
    with stub_client(stub) as client, pytest.raises(UpstreamError) as caught:
        client.get("/api/v2/page")
    assert "GET /api/v2/page with a body that is not JSON" in str(caught.value)
    assert "text/html" in str(caught.value)


def test_a_json_body_that_is_not_an_object_is_a_clear_error(stub):
    stub.routes["/api/v2/list"] = (200, [1, 2])
    with stub_client(stub) as client, pytest.raises(UpstreamError, match="JSON list"):
        client.get("/api/v2/list")


def test_an_error_without_json_body_still_says_what_failed(stub):
    stub.routes["/api/v2/broken"] = (500, "<html>Internal Server Error</html>")
    with stub_client(stub) as client, pytest.raises(UpstreamError) as caught:
        client.get("/api/v2/broken")
    assert str(caught.value) == (
        "Genesys Cloud answered 500 for GET /api/v2/broken: <html>Internal Server Error</html>"
    )
    assert caught.value.retryable


# Policy and configuration ---------------------------------------------------------------


def test_backoff_is_full_jitter_under_the_cap():
    policy = Backoff.exponential(1.0, cap=4.0, tries=9, full_jitter=True)
    for attempt in range(8):
        samples = [policy.delay(attempt + 1) or 0.0 for _ in range(200)]
        ceiling = min(4.0, 2.0**attempt)
        assert all(0 <= s <= ceiling for s in samples)
        assert min(samples) < ceiling / 4 and max(samples) > ceiling * 3 / 4


def test_from_settings_names_the_missing_secret(simulator, tmp_path):
    settings = make_settings(simulator, tmp_path, GENESYS_CLIENT_SECRET="")
    with pytest.raises(ConfigError, match="GENESYS_CLIENT_SECRET is required to call Genesys"):
        GenesysClient.from_settings(settings)


# A stub for bodies the simulator never sends ------------------------------------------


class Stub(ThreadingHTTPServer):
    """Answers GET paths from ``routes`` (status, body); the token endpoint always works."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.routes: dict[str, tuple[int, object]] = {}
        self.paths: list[str] = []
        self.queries: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StubHandler(BaseHTTPRequestHandler):
    server: Stub

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(200, {"access_token": "t", "token_type": "bearer", "expires_in": 3600})

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        self.server.paths.append(path)
        self.server.queries.append(query)
        self._answer(*self.server.routes.get(path, (404, {"code": "not.found"})))

    def _answer(self, status: int, body: object) -> None:
        is_text = isinstance(body, str)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if is_text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def stub_client(stub: Stub) -> GenesysClient:
    return GenesysClient(
        api_url=stub.url, login_url=stub.url, client_id="id", client_secret="s", retry=FAST
    )
