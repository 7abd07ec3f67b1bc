"""Real local receivers for the delivery tests: a webhook receiver, GitHub and GitLab fakes;
the local history a git target pushes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.simulator.receivers import FakeGitHub, FakeGitLab, WebhookReceiver
from tests.gitserver import bare, commit

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


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """The local history: a bare repository with one commit on main."""
    repo = bare(tmp_path / "history.git")
    commit(repo, "one\n", date="2025-06-01T10:00:00Z")
    return repo
