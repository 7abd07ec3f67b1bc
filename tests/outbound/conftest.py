"""Real local receivers for the delivery tests: a webhook receiver, GitHub and GitLab fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.simulator.receivers import FakeGitHub, FakeGitLab, WebhookReceiver

GITHUB_TOKEN = "ghp_testtoken0123456789abcdefABCDEF0123"
GITLAB_TOKEN = "glptt-0123456789abcdef0123"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN, repositories={"owner/repo"}) as server:
        yield server


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    projects = {"group/project", "123"}
    with FakeGitLab(token=GITLAB_TOKEN, projects=projects, refs={"main"}) as server:
        yield server
