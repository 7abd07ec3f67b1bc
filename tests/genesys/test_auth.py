"""Client-credentials tokens: cached, renewed, refused clearly, the secret never shown."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import pytest
import requests

from service.backoff import Backoff
from service.errors import UpstreamError, ValidationFailed
from service.genesys import GenesysClient, TokenProvider
from service.simulator import DEMO_FLOW_ID, SimulatorServer

FAST = Backoff.exponential(0.01, cap=0.05, tries=5, full_jitter=True, max_retry_after=180.0)
SECRET = "s3cret-value-that-must-not-leak"
FLOW = f"/api/v2/flows/{DEMO_FLOW_ID}"


def make_client(sim: SimulatorServer | str, secret: str = SECRET) -> GenesysClient:
    url = sim if isinstance(sim, str) else sim.url
    return GenesysClient(
        api_url=url, login_url=url, client_id="archiver", client_secret=secret, retry=FAST
    )


def token_posts(sim: SimulatorServer) -> list:
    return [r for r in sim.state.requests if r.path == "/oauth/token"]


def test_one_token_serves_many_calls(simulator):
    with make_client(simulator) as client:
        for _ in range(5):
            client.get(FLOW)

    assert client.token_requests == 1
    (post,) = token_posts(simulator)
    assert (post.method, post.status, post.auth) == ("POST", 200, "basic")
    api = [r for r in simulator.state.requests if r.path == FLOW]
    assert len(api) == 5 and {r.auth for r in api} == {"bearer"}


def test_token_is_renewed_a_minute_before_it_expires(simulator):
    simulator.state.token_lifetime = 600
    now = [0.0]
    with requests.Session() as session:

        def send(method: str, url: str, **kwargs: object) -> requests.Response:
            return session.request(method, url, timeout=5, **kwargs)  # type: ignore[arg-type]

        tokens = TokenProvider(
            login_url=simulator.url,
            client_id="archiver",
            client_secret=SECRET,
            send=send,
            clock=lambda: now[0],
        )
        first = tokens.token()
        now[0] = 539.0
        assert tokens.token() == first
        now[0] = 541.0
        second = tokens.token()

    assert second != first
    assert tokens.requests == 2 and len(token_posts(simulator)) == 2


def test_short_lived_token_is_renewed_before_the_api_refuses_it(simulator):
    simulator.state.token_lifetime = 1
    with make_client(simulator) as client:
        client.get(FLOW)
        client.get(FLOW)
        time.sleep(0.6)
        client.get(FLOW)

    assert client.token_requests == 2
    assert [r.status for r in simulator.state.requests if r.path == FLOW] == [200, 200, 200]


def test_a_401_gets_a_new_token_and_one_more_try(simulator):
    with make_client(simulator) as client:
        client.get(FLOW)
        simulator.state.expire_tokens()
        simulator.state.clear_requests()

        body = client.get(FLOW, schema="flow")

    assert body["id"] == DEMO_FLOW_ID
    assert [(r.path, r.status) for r in simulator.state.requests] == [
        (FLOW, 401),
        ("/oauth/token", 200),
        (FLOW, 200),
    ]
    assert client.token_requests == 2


def test_a_second_401_fails_clearly(simulator):
    simulator.state.inject_fault(401, times=5, path="/api/v2/")
    with make_client(simulator) as client, pytest.raises(UpstreamError) as caught:
        client.get(FLOW)

    error = caught.value
    assert (error.status, error.code, error.retryable) == (401, "authentication.required", False)
    assert str(error).startswith(
        f"Genesys Cloud answered 401 authentication.required for GET {FLOW} "
        "with a newly issued token: No authentication bearer token"
    )
    assert client.token_requests == 2
    assert [r.status for r in simulator.state.requests if r.path == FLOW] == [401, 401]


def test_wrong_credentials_are_refused_without_showing_the_secret():
    with SimulatorServer(port=0, client_id="archiver", client_secret="the-right-one") as sim:
        client = make_client(sim)
        with client, pytest.raises(UpstreamError) as caught:
            client.get(FLOW)

        assert sim.state.api_calls() == 0

    error = caught.value
    assert (error.status, error.code, error.retryable) == (401, "invalid_client", False)
    assert "refused the token request for client 'archiver'" in str(error)
    assert "client not found" in str(error)
    shown = [str(error), repr(error), repr(error.args), repr(client), repr(client._tokens)]
    assert not [text for text in shown if SECRET in text]


def test_token_endpoint_outage_is_retried_then_reported(simulator):
    simulator.state.inject_fault(503, times=10, path="/oauth/token")
    with make_client(simulator) as client, pytest.raises(UpstreamError) as caught:
        client.get(FLOW)

    assert caught.value.retryable and caught.value.status == 503
    assert "POST /oauth/token: gave up after 5 tries" in str(caught.value)
    assert "temporarily_unavailable" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert simulator.state.api_calls() == 0 and len(token_posts(simulator)) == 5


def test_a_malformed_token_response_names_the_field(simulator):
    simulator.state.corrupt_next("/oauth/token", field="expires_in", value="tomorrow")
    with make_client(simulator) as client, pytest.raises(ValidationFailed) as caught:
        client.get(FLOW)
    assert str(caught.value) == (
        "Genesys OAuth token response is malformed: expires_in: must be of integer type"
    )
    assert simulator.state.api_calls() == 0


def test_a_secret_echoed_by_the_server_is_redacted(echo_server):
    with make_client(echo_server) as client, pytest.raises(UpstreamError) as caught:
        client.get(FLOW)
    assert SECRET not in str(caught.value)
    assert "archiver:***" in str(caught.value)


def test_an_echoed_secret_is_redacted_in_every_form_the_server_may_quote(echo_server):
    """As written, URL-encoded, and inside the Basic header it was sent in: the project's
    one redaction, not a search for the secret as written."""
    secret = "s3cret value/with+signs"
    with make_client(echo_server, secret) as client, pytest.raises(UpstreamError) as caught:
        client.get(FLOW)
    text = str(caught.value)
    basic = base64.b64encode(f"archiver:{secret}".encode()).decode()
    for form in (secret, quote_plus(secret), quote(secret, safe=""), basic):
        assert form not in text
    assert "bad archiver:***" in text and "Basic ***" in text


class _EchoHandler(BaseHTTPRequestHandler):
    """A login host that quotes the client's Basic credentials back in its refusal."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        basic = self.headers.get("Authorization", "").partition(" ")[2]
        said = base64.b64decode(basic).decode()
        quoted = f"bad {said}, that is {quote_plus(said)}, sent as Basic {basic}"
        body = json.dumps({"error": "invalid_client", "error_description": quoted})
        data = body.encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()
