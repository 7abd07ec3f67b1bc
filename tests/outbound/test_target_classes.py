"""Each target class on its own: its session and request, sent to a real local receiver,
arrive at its endpoint with its headers and body; its secrets stay out of ``repr``."""

from __future__ import annotations

import json
import time
from typing import Any

from standardwebhooks.webhooks import Webhook

from service.outbound.targets import (
    GITHUB_API_VERSION,
    GitHubTarget,
    GitLabTarget,
    Target,
    WebhookTarget,
)
from service.simulator.receivers import FakeGitHub, FakeGitLab, Received, WebhookReceiver

from .conftest import GITHUB_TOKEN, GITLAB_TOKEN
from .events import SECRET, STRATEGY_ID, completed

EVENT_ID = "evt_2Yc1pZ5m3v0A"
EVENT_TYPE = "strategy.archive.completed"
TIMESTAMP = 1_764_313_200


def post(target: Target, body: bytes, timestamp: int = TIMESTAMP) -> int:
    """What the ``Deliverer`` does with a target: its session, its endpoint, its request."""
    with target.session() as session:
        answer = session.post(
            target.endpoint,
            timeout=5,
            allow_redirects=False,
            **target.request(EVENT_ID, EVENT_TYPE, body, timestamp),
        )
    return answer.status_code


def headers_of(got: Received) -> dict[str, Any]:
    return {k: v for k, v in got.headers.items() if k not in {"host", "content-length"}}


def test_a_webhook_gets_the_stored_bytes_signed_both_ways(receiver: WebhookReceiver) -> None:
    target = WebhookTarget(name="hook", url=receiver.url + "/in?t=query-token-1", secret=SECRET)
    body, now = completed(), int(time.time())
    assert post(target, body, now) == 204
    (got,) = receiver.received
    assert (got.method, got.raw_path) == ("POST", "/webhook/in?t=query-token-1")
    assert got.body == body
    assert got.headers["webhook-id"] == EVENT_ID
    assert got.headers["webhook-timestamp"] == str(now)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-hub-signature-256"].startswith("sha256=")
    assert got.headers["user-agent"].startswith("genesys-strategy-archiver/")
    assert "authorization" not in got.headers
    verified = Webhook(SECRET).verify(body, headers_of(got))  # the standard's own library
    assert verified["data"]["strategyId"] == STRATEGY_ID
    assert target.kind == "webhook"
    assert target.secrets() == [SECRET, "query-token-1"]
    assert SECRET not in repr(target) and "query-token-1" not in repr(target)


def test_github_gets_a_repository_dispatch_with_its_token_and_api_version(
    github: FakeGitHub,
) -> None:
    target = GitHubTarget(
        name="gh", repository="owner/repo", token=GITHUB_TOKEN, base_url=github.url
    )
    assert target.endpoint == f"{github.url}/repos/owner/repo/dispatches"
    assert post(target, completed()) == 204
    (got,) = github.received
    assert got.raw_path == "/repos/owner/repo/dispatches"
    assert got.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert got.headers["accept"] == "application/vnd.github+json"
    assert got.headers["x-github-api-version"] == GITHUB_API_VERSION
    assert got.headers["content-type"] == "application/json"
    dispatch = got.json()
    assert dispatch["event_type"] == "strategy-archive"
    assert dispatch["client_payload"]["id"] == EVENT_ID
    assert dispatch["client_payload"]["type"] == EVENT_TYPE
    assert dispatch["client_payload"]["data"]["strategyId"] == STRATEGY_ID
    assert target.kind == "github" and target.secrets() == [GITHUB_TOKEN]
    assert GITHUB_TOKEN not in repr(target)


def test_github_defaults_to_the_public_api_and_its_event_type() -> None:
    target = GitHubTarget(name="gh", repository="o/r", token=GITHUB_TOKEN)
    assert target.endpoint == "https://api.github.com/repos/o/r/dispatches"
    request = target.request(EVENT_ID, EVENT_TYPE, completed(), TIMESTAMP)
    assert json.loads(request["data"])["event_type"] == "strategy-archive"


def test_gitlab_gets_a_trigger_form_without_authorization(gitlab: FakeGitLab) -> None:
    target = GitLabTarget(
        name="gl", project="group/project", ref="main", token=GITLAB_TOKEN, base_url=gitlab.url
    )
    body = completed()
    assert post(target, body) == 201
    (got,) = gitlab.received
    assert got.raw_path == "/api/v4/projects/group%2Fproject/trigger/pipeline"
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in got.headers
    assert got.form["token"] == GITLAB_TOKEN
    assert got.form["ref"] == "main"
    assert got.form["variables[ARCHIVER_EVENT_ID]"] == EVENT_ID
    assert got.form["variables[ARCHIVER_STRATEGY_ID]"] == STRATEGY_ID
    assert got.form["variables[ARCHIVER_EVENT]"] == body.decode()
    assert target.kind == "gitlab" and target.secrets() == [GITLAB_TOKEN]
    assert GITLAB_TOKEN not in repr(target)


def test_github_and_gitlab_refuse_a_body_that_is_not_a_json_object() -> None:
    for target in (
        GitHubTarget(name="gh", repository="o/r", token=GITHUB_TOKEN),
        GitLabTarget(name="gl", project="1", ref="main", token=GITLAB_TOKEN),
    ):
        try:
            target.request(EVENT_ID, EVENT_TYPE, b"[1, 2]", TIMESTAMP)
        except ValueError as exc:
            assert str(exc) == "event body is not a JSON object"
        else:
            raise AssertionError(f"{target.kind} accepted a body that is not a JSON object")
