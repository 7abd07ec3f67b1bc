"""``git`` targets in ``VCS_TARGETS``: their defaults, the URLs they accept, errors that
name the variable and field without repeating a value, and their place among targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.config import load_settings
from service.errors import ConfigError
from service.ledger.history import PUSH_EVENT as LANE_PUSH_EVENT
from service.outbound.gittarget import PUSH_EVENT, GitTarget
from service.outbound.settings import outbound_from, parse_targets

HISTORY = Path("/srv/archiver/history.git")
TOKEN = "glpat-0123456789abcdef"
HOOK = {"type": "webhook", "url": "https://hooks.example.com/a", "secret": "whsec_c2VjcmV0"}


def one(item: dict[str, Any], history: Path | None = HISTORY, branch: str = "main") -> GitTarget:
    (target,) = parse_targets(json.dumps([item]), [], None, history=history, history_branch=branch)
    assert isinstance(target, GitTarget)
    return target


def test_defaults_push_the_history_branch_to_the_same_branch() -> None:
    target = one({"type": "git", "url": "https://git.example.com/ops/history.git"}, branch="gen")
    assert target == GitTarget(
        name="git:https://git.example.com/ops/history.git",
        url="https://git.example.com/ops/history.git",
        branch="gen",
        username="x-access-token",
        token=None,
        history=HISTORY,
        history_branch="gen",
    )


def test_every_field() -> None:
    item = {
        "type": "git",
        "name": "internal host",
        "url": "http://git.internal:3000/ops/history.git",  # plain http: inside the network
        "branch": "genesys/history",
        "username": "archiver",
        "token": TOKEN,
    }
    target = one(item)
    assert (target.name, target.url, target.branch) == (
        "internal host",
        "http://git.internal:3000/ops/history.git",
        "genesys/history",
    )
    assert (target.username, target.token, target.secrets()) == ("archiver", TOKEN, [TOKEN])
    assert TOKEN not in repr(target)


@pytest.mark.parametrize(
    "url", ["ssh://git@git.example.com:2222/ops/history.git", "file:///srv/mirror.git"]
)
def test_ssh_and_file_urls_are_kept(url: str) -> None:
    assert one({"type": "git", "url": url}).url == url


def test_a_local_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = one({"type": "git", "url": "mirror.git"})
    assert target.url == str(tmp_path / "mirror.git")
    assert target.name == f"git:{tmp_path / 'mirror.git'}"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"type": "git"}, "VCS_TARGETS[0].url is required"),
        (
            {"type": "git", "url": f"https://x-access-token:{TOKEN}@git.example.com/r.git"},
            "VCS_TARGETS[0].url is invalid: must not hold credentials (use username and token)",
        ),
        (
            {"type": "git", "url": f"https://{TOKEN}@git.example.com/r.git"},
            "VCS_TARGETS[0].url is invalid: must not hold credentials (use username and token)",
        ),
        (
            {"type": "git", "url": "git@github.com:ops/history.git"},
            "VCS_TARGETS[0].url is invalid: scp-like addresses are not supported,"
            " write ssh://host/path",
        ),
        (
            {"type": "git", "url": "ftp://git.example.com/r.git"},
            "VCS_TARGETS[0].url is invalid: must be an http(s)://, ssh:// or file:// URL"
            " or a local path",
        ),
        (
            {"type": "git", "url": "https:///r.git"},
            "VCS_TARGETS[0].url is invalid: the URL names no host",
        ),
        (
            {"type": "git", "url": f"https://git.example.com/r.git?private_token={TOKEN}"},
            "VCS_TARGETS[0].url is invalid: must not have a query or fragment",
        ),
        (
            {"type": "git", "url": "/srv/r.git", "token": "short"},
            "VCS_TARGETS[0].token is invalid: must be text of at least 8 characters without spaces",
        ),
        (
            {"type": "git", "url": "/srv/r.git", "branch": "two words"},
            "VCS_TARGETS[0].branch is invalid: must be a branch name",
        ),
        (
            {"type": "git", "url": "/srv/r.git", "username": "a:b"},
            "VCS_TARGETS[0].username is invalid: must be text without spaces or colons",
        ),
        (
            {"type": "git", "url": "/srv/r.git", "password": TOKEN},
            "VCS_TARGETS[0].password is invalid: not a field of a git target",
        ),
    ],
)
def test_errors_name_the_field_and_never_the_value(item: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        one(item)
    assert str(raised.value) == message
    assert TOKEN not in str(raised.value)


def test_a_git_target_needs_the_history() -> None:
    with pytest.raises(ConfigError) as raised:
        one({"type": "git", "url": "/srv/r.git"}, history=None)
    assert str(raised.value) == (
        "VCS_TARGETS[0] is a git target, which needs the history: HISTORY_REPO is empty"
    )
    off = load_settings(
        {"HISTORY_REPO": "", "VCS_TARGETS": json.dumps([{"type": "git", "url": "/srv/r.git"}])}
    )
    with pytest.raises(ConfigError, match="HISTORY_REPO is empty"):
        outbound_from(off)


def test_events_go_to_the_other_targets_and_every_target_has_a_lane(tmp_path: Path) -> None:
    items = [HOOK, {"type": "git", "name": "mirror", "url": "/srv/r.git", "token": TOKEN}]
    settings = load_settings(
        {
            "HISTORY_REPO": str(tmp_path / "history.git"),
            "HISTORY_BRANCH": "genesys",
            "GIT_SSH_COMMAND": "ssh -i /etc/archiver/deploy-key",
            "VCS_TARGETS": json.dumps(items),
        }
    )
    outbound = outbound_from(settings)
    assert outbound.names == ["https://hooks.example.com/a"]
    assert outbound.lanes == ["https://hooks.example.com/a", "mirror"]
    mirror = outbound.targets[1]
    assert isinstance(mirror, GitTarget)
    assert (mirror.history, mirror.history_branch, mirror.branch, mirror.ssh_command) == (
        tmp_path / "history.git",
        "genesys",
        "genesys",
        "ssh -i /etc/archiver/deploy-key",
    )
    assert TOKEN in settings.secrets()  # masked wherever text leaves the process


def test_the_push_event_is_the_one_the_history_lane_writes() -> None:
    assert PUSH_EVENT == LANE_PUSH_EVENT == "history.push"
