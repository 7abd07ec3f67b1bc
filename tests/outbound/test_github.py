"""GitHub ``repository_dispatch`` against a local fake of GitHub's API."""

from __future__ import annotations

import json

import requests

from service.outbound.deliver import Deliverer
from service.outbound.settings import parse_targets
from service.simulator.receivers import FakeGitHub

from .conftest import GITHUB_TOKEN
from .events import completed, failed

EVENT_ID = "evt_9a8b7c6d"


def deliverer_for(github: FakeGitHub, **extra: str) -> Deliverer:
    config = {"name": "gh", "type": "github", "repository": "owner/repo", "token": GITHUB_TOKEN}
    config |= {"baseUrl": github.url} | extra
    return Deliverer(parse_targets(json.dumps([config]), [], None))


def send(deliverer: Deliverer, body: bytes, event_type: str = "strategy.archive.completed"):
    try:
        return deliverer.attempt("gh", EVENT_ID, event_type, body)
    finally:
        deliverer.close()


def test_dispatch_path_headers_and_body(github: FakeGitHub) -> None:
    body = completed()
    attempt = send(deliverer_for(github), body)
    assert (attempt.outcome, attempt.status) == ("delivered", 204)
    (got,) = github.received
    assert (got.method, got.raw_path, got.status) == ("POST", "/repos/owner/repo/dispatches", 204)
    assert got.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert got.headers["accept"] == "application/vnd.github+json"
    assert got.headers["x-github-api-version"] == "2022-11-28"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("genesys-strategy-archiver/")
    event = json.loads(body)
    assert got.json() == {
        "event_type": "strategy-archive",
        "client_payload": {
            "id": EVENT_ID,
            "type": "strategy.archive.completed",
            "timestamp": event["timestamp"],
            "data": event["data"],
        },
    }
    assert github.dispatches[0]["repository"] == "owner/repo"


def test_enterprise_base_url_and_own_event_type() -> None:
    with FakeGitHub(token=GITHUB_TOKEN, prefix="/api/v3") as enterprise:
        attempt = send(
            deliverer_for(enterprise, eventType="archive-done"), failed(), "strategy.archive.failed"
        )
    assert attempt.outcome == "delivered"
    (got,) = enterprise.received
    assert got.raw_path == "/api/v3/repos/owner/repo/dispatches"
    dispatch = got.json()
    assert dispatch["event_type"] == "archive-done"
    assert dispatch["client_payload"]["type"] == "strategy.archive.failed"
    assert dispatch["client_payload"]["data"]["jobId"] == "job-1"


def test_a_large_archive_drops_version_ids_to_stay_within_githubs_limits(
    github: FakeGitHub,
) -> None:
    body = completed(versions=3000)
    assert len(body) > 64 * 1024  # as it is, GitHub would refuse it
    attempt = send(deliverer_for(github), body)
    assert (attempt.outcome, attempt.status) == ("delivered", 204)
    (got,) = github.received
    payload = got.json()["client_payload"]
    assert len(payload) <= 10
    assert len(json.dumps(payload, separators=(",", ":")).encode()) < 64 * 1000
    assert len(got.body) < 64 * 1024
    data = payload["data"]
    assert "versionIds" not in data
    assert data["versionIdsTruncated"] is True
    assert data["versionCount"] == 3000
    assert data["archiveId"] == json.loads(body)["data"]["archiveId"]


def test_a_wrong_token_is_retried_and_the_token_is_not_reported(github: FakeGitHub) -> None:
    github.token = "another-token"
    attempt = send(deliverer_for(github), completed())
    assert (attempt.outcome, attempt.status) == ("retry", 401)
    assert "Bad credentials" in attempt.detail
    assert GITHUB_TOKEN not in attempt.detail


def test_an_unknown_repository_is_retried(github: FakeGitHub) -> None:
    attempt = send(deliverer_for(github, repository="owner/other"), completed())
    assert (attempt.outcome, attempt.status) == ("retry", 404)
    assert github.dispatches == []


def test_the_fake_refuses_what_github_refuses(github: FakeGitHub) -> None:
    url = f"{github.url}/repos/owner/repo/dispatches"
    auth = {"Authorization": f"Bearer {GITHUB_TOKEN}"}
    eleven = {f"k{n}": n for n in range(11)}
    with requests.Session() as session:
        too_many = session.post(
            url, json={"event_type": "x", "client_payload": eleven}, headers=auth, timeout=5
        )
        no_type = session.post(url, json={"client_payload": {}}, headers=auth, timeout=5)
        big = {"data": "x" * (65 * 1024)}
        too_big = session.post(
            url, json={"event_type": "x", "client_payload": big}, headers=auth, timeout=5
        )
    assert too_many.status_code == no_type.status_code == too_big.status_code == 422
    assert "No more than 10 properties" in too_many.json()["message"]
    assert github.dispatches == []
