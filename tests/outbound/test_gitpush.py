"""Pushing the history branch: a real smart-HTTP server with Basic auth, local bare
repositories and an SSH command, each result checked with the real ``git``."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.outbound.gitpush import Diverged, PushFailed, push_branch
from service.outbound.gittarget import GitTarget
from tests.gitserver import TOKEN, GitServer, bare, commit, fake_ssh, git, run_git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")

WRONG = "wrong-token-0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    (tmp_path / "remotes").mkdir()
    with GitServer(tmp_path / "remotes") as running:
        yield running


def http_target(server: GitServer, token: str | None = TOKEN, **fields: str) -> GitTarget:
    server.init("remote.git")
    return GitTarget(name="host", url=server.repo_url("remote.git"), token=token, **fields)


def log(repo: Path, ref: str = "main") -> list[str]:
    """Commit ids of ``ref``, newest first, as git lists them."""
    return git("log", "--format=%H", ref, cwd=repo).split()


def head(repo: Path, branch: str = "main") -> str:
    return git("rev-parse", f"refs/heads/{branch}", cwd=repo).strip()


def test_first_push_creates_the_branch_and_git_clones_it(
    history: Path, server: GitServer, tmp_path: Path
) -> None:
    target = http_target(server)

    pushed = push_branch(history, "main", target)

    assert (pushed.old, pushed.new) == (None, head(history))
    assert pushed.summary == f"main created at {head(history)[:12]}"
    remote = server.root / "remote.git"
    git("fsck", "--strict", cwd=remote)
    url = server.repo_url("remote.git").replace("://", f"://x-access-token:{TOKEN}@")
    git("clone", "--quiet", "--branch", "main", url, str(tmp_path / "clone"))
    assert log(tmp_path / "clone") == log(history)
    assert (tmp_path / "clone" / "f.txt").read_text() == "one\n"
    assert server.auth.accepted >= 2  # the ref advertisement and the pack, both with auth


def test_fast_forward_even_when_commit_dates_go_backwards(history: Path, server: GitServer) -> None:
    target = http_target(server)
    first = push_branch(history, "main", target).new
    # Archives land in the ledger's order, and their versions keep Genesys's dates:
    # a later commit may well carry an older date.
    commit(history, "two\n", date="2024-01-01T00:00:00Z")
    commit(history, "three\n", date="2023-01-01T00:00:00Z")

    pushed = push_branch(history, "main", target)

    assert (pushed.old, pushed.new) == (first, head(history))
    remote = server.root / "remote.git"
    assert log(remote) == log(history)
    assert len(log(remote)) == 3
    git("fsck", "--strict", cwd=remote)


def test_an_equal_branch_is_nothing_to_do(history: Path, server: GitServer) -> None:
    target = http_target(server)
    push_branch(history, "main", target)
    ref_file = server.root / "remote.git" / "refs" / "heads" / "main"
    before = ref_file.stat().st_mtime_ns

    pushed = push_branch(history, "main", target)

    assert pushed.old == pushed.new == head(history)
    assert pushed.summary == f"main already at {head(history)[:12]}"
    assert ref_file.stat().st_mtime_ns == before


def test_a_diverged_remote_is_refused_and_left_untouched(history: Path, server: GitServer) -> None:
    target = http_target(server)
    push_branch(history, "main", target)
    remote = server.root / "remote.git"
    theirs = commit(remote, "someone else's commit\n", date="2025-06-02T00:00:00Z")
    ours = commit(history, "two\n", date="2025-06-03T00:00:00Z")

    with pytest.raises(Diverged) as raised:
        push_branch(history, "main", target)

    message = str(raised.value)
    assert "diverged" in message
    assert "remote branch main" in message
    assert theirs in message and ours in message
    assert head(remote) == theirs
    git("fsck", "--strict", cwd=remote)


def test_a_remote_ahead_of_a_rewound_history_has_diverged(tmp_path: Path, history: Path) -> None:
    """The remote's commit is known here but is no ancestor of the branch: never forced."""
    remote = bare(tmp_path / "remote.git")
    target = GitTarget(name="local", url=str(remote))
    first = head(history)
    second = commit(history, "two\n", date="2025-06-02T00:00:00Z")
    push_branch(history, "main", target)
    git("update-ref", "refs/heads/main", first, cwd=history)

    with pytest.raises(Diverged, match="diverged"):
        push_branch(history, "main", target)
    assert head(remote) == second


@pytest.mark.parametrize("token", [WRONG, None], ids=["wrong token", "no token"])
def test_refused_credentials_fail_without_the_token(
    history: Path, server: GitServer, token: str | None
) -> None:
    target = http_target(server, token=token)

    with pytest.raises(PushFailed) as raised:
        push_branch(history, "main", target)

    message = str(raised.value)
    assert "authentication failed (401)" in message
    assert server.repo_url("remote.git") in message
    assert WRONG not in message and TOKEN not in message
    assert server.auth.refused >= 1
    assert (
        run_git(
            "rev-parse", "--verify", "refs/heads/main", cwd=server.root / "remote.git"
        ).returncode
        != 0
    )


def test_target_branch_and_username(history: Path, tmp_path: Path) -> None:
    """Another remote branch than the history's own; the username the host expects."""
    (tmp_path / "remotes").mkdir()
    with GitServer(tmp_path / "remotes", username="archiver") as server:
        target = http_target(server, branch="genesys-history", username="archiver")
        pushed = push_branch(history, "main", target)
        assert pushed.branch == "genesys-history"
        assert head(server.root / "remote.git", "genesys-history") == head(history)


@pytest.mark.parametrize("form", ["path", "file URL"])
def test_local_remotes(history: Path, tmp_path: Path, form: str) -> None:
    remote = bare(tmp_path / "remote.git")
    url = str(remote) if form == "path" else remote.as_uri()
    target = GitTarget(name="local", url=url)

    assert push_branch(history, "main", target).old is None
    commit(history, "two\n", date="2025-06-02T00:00:00Z")
    assert push_branch(history, "main", target).new == head(history)

    assert log(remote) == log(history)
    git("fsck", "--strict", cwd=remote)


def test_ssh_goes_through_git_ssh_command(history: Path, tmp_path: Path) -> None:
    """An ``ssh`` stand-in that runs the remote command here, as sshd would there."""
    remote = bare(tmp_path / "remote.git")
    fake = fake_ssh(tmp_path)
    target = GitTarget(name="ssh", url=f"ssh://git@githost.invalid{remote}")

    pushed = push_branch(history, "main", target, ssh_command=str(fake))

    assert pushed.new == head(remote) == head(history)
    assert "git@githost.invalid" in (tmp_path / "ssh-args").read_text().splitlines()


def test_missing_remote_repository(history: Path, tmp_path: Path) -> None:
    target = GitTarget(name="local", url=str(tmp_path / "nowhere.git"))
    with pytest.raises(PushFailed, match="no git repository there"):
        push_branch(history, "main", target)


def test_a_history_without_the_branch_has_nothing_to_push(tmp_path: Path) -> None:
    empty = bare(tmp_path / "history.git")
    target = GitTarget(name="local", url=str(bare(tmp_path / "remote.git")))
    with pytest.raises(PushFailed, match="the history has no branch main"):
        push_branch(empty, "main", target)


def test_a_host_that_never_answers_times_out(history: Path) -> None:
    with socket.socket() as listener:  # accepts connections (the backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        target = GitTarget(name="silent", url=f"http://127.0.0.1:{port}/r.git", token=TOKEN)
        began = time.monotonic()
        with pytest.raises(PushFailed, match="timed out") as raised:
            push_branch(history, "main", target, timeout=0.5)
    assert time.monotonic() - began < 10
    assert TOKEN not in str(raised.value)


def test_the_token_stays_out_of_repr_and_counts_as_a_secret() -> None:
    target = GitTarget(name="host", url="https://git.example.com/r.git", token=TOKEN)
    assert TOKEN not in repr(target)
    assert target.secrets() == [TOKEN]
    assert GitTarget(name="local", url="/srv/r.git").secrets() == []


def test_a_branch_moved_during_the_push_is_not_overwritten(history: Path, tmp_path: Path) -> None:
    """The remote checks the old value the push names: git's receive-pack, over the ssh
    stand-in, with an update hook that moves the branch after it was announced."""
    remote = bare(tmp_path / "remote.git")
    target = GitTarget(name="ssh", url=f"ssh://git@githost.invalid{remote}")
    fake = str(fake_ssh(tmp_path))
    push_branch(history, "main", target, ssh_command=fake)
    theirs = commit(tmp_path / "remote.git", "someone else's\n", date="2025-06-02T00:00:00Z")
    git("update-ref", "refs/heads/main", head(history), cwd=remote)  # back where we left it
    hook = remote / "hooks" / "update"
    hook.write_text(f"#!/bin/sh\ngit update-ref refs/heads/main {theirs}\n")
    hook.chmod(0o755)
    commit(history, "two\n", date="2025-06-03T00:00:00Z")

    with pytest.raises(PushFailed) as raised:
        push_branch(history, "main", target, ssh_command=fake)

    assert not isinstance(raised.value, Diverged)
    assert "(main) refused: failed to update ref" in str(raised.value)  # git's own words
    assert head(remote) == theirs
