"""GitLab's pipeline trigger against a local fake of GitLab's API."""

from __future__ import annotations

import json

import requests

from service.outbound.deliver import Attempt, Deliverer
from service.outbound.settings import parse_targets
from service.simulator.receivers import FakeGitLab

from .conftest import GITLAB_TOKEN
from .events import STRATEGY_ID, completed, failed

EVENT_ID = "evt_1c2d3e4f"


def send(
    gitlab: FakeGitLab,
    body: bytes,
    event_type: str = "strategy.archive.completed",
    **extra: str | int,
) -> Attempt:
    config = {"name": "gl", "type": "gitlab", "project": "group/project", "token": GITLAB_TOKEN}
    config |= {"ref": "main", "baseUrl": gitlab.url} | extra
    deliverer = Deliverer(parse_targets(json.dumps([config]), [], None))
    try:
        return deliverer.attempt("gl", EVENT_ID, event_type, body)
    finally:
        deliverer.close()


def test_trigger_path_is_url_encoded_and_the_form_carries_the_event(gitlab: FakeGitLab) -> None:
    body = completed()
    attempt = send(gitlab, body)
    assert (attempt.outcome, attempt.status) == ("delivered", 201)
    (got,) = gitlab.received
    assert got.method == "POST"
    assert got.raw_path == "/api/v4/projects/group%2Fproject/trigger/pipeline"
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.headers["user-agent"].startswith("genesys-strategy-archiver/")
    assert "authorization" not in got.headers
    assert got.form == {
        "token": GITLAB_TOKEN,
        "ref": "main",
        "variables[ARCHIVER_EVENT_ID]": EVENT_ID,
        "variables[ARCHIVER_EVENT_TYPE]": "strategy.archive.completed",
        "variables[ARCHIVER_STRATEGY_ID]": STRATEGY_ID,
        "variables[ARCHIVER_EVENT]": body.decode(),
    }
    assert gitlab.pipelines == [
        {
            "project": "group/project",
            "ref": "main",
            "variables": {
                "ARCHIVER_EVENT_ID": EVENT_ID,
                "ARCHIVER_EVENT_TYPE": "strategy.archive.completed",
                "ARCHIVER_STRATEGY_ID": STRATEGY_ID,
                "ARCHIVER_EVENT": body.decode(),
            },
        }
    ]


def test_numeric_project_and_a_failed_event(gitlab: FakeGitLab) -> None:
    attempt = send(gitlab, failed(), "strategy.archive.failed", project=123)
    assert attempt.outcome == "delivered"
    (got,) = gitlab.received
    assert got.raw_path == "/api/v4/projects/123/trigger/pipeline"
    assert got.form["variables[ARCHIVER_EVENT_TYPE]"] == "strategy.archive.failed"
    assert got.form["variables[ARCHIVER_STRATEGY_ID]"] == STRATEGY_ID


def test_a_wrong_token_is_retried_and_not_reported(gitlab: FakeGitLab) -> None:
    gitlab.token = "another-trigger-token"
    attempt = send(gitlab, completed())
    assert (attempt.outcome, attempt.status) == ("retry", 404)
    assert GITLAB_TOKEN not in attempt.detail
    assert gitlab.pipelines == []


def test_an_unknown_ref_is_retried_with_gitlabs_message(gitlab: FakeGitLab) -> None:
    attempt = send(gitlab, completed(), ref="does-not-exist")
    assert (attempt.outcome, attempt.status) == ("retry", 400)
    assert "Reference not found" in attempt.detail


def test_the_fake_routes_only_the_encoded_project_path(gitlab: FakeGitLab) -> None:
    url = f"{gitlab.url}/api/v4/projects/group/project/trigger/pipeline"
    answer = requests.post(url, data={"token": GITLAB_TOKEN, "ref": "main"}, timeout=5)
    assert answer.status_code == 404
    assert gitlab.pipelines == []
