"""A ``git`` target's delivery: the history branch pushed, fast-forward only, never forced.

dulwich speaks the protocol: HTTP(S) with Basic auth (the token as password), SSH
through the system's ``ssh`` (dulwich's ``SubprocessSSHVendor``: the user's keys,
``~/.ssh/config`` and known hosts; ``GIT_SSH_COMMAND`` when set), and local paths or
``file://``. This module decides what to push. The remote's branch as the remote
announces it when the push begins: equal to ours, nothing to do; an ancestor of ours,
moved forward; missing, created; anything else has diverged and stays as it is. The
remote checks the old value we name, so a branch moved meanwhile is never overwritten.

Messages never hold the token: a target's URL holds no credentials (settings refuse
them) and every error text is masked with the target's secrets before it leaves.
"""

from __future__ import annotations

import os
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import urllib3
from dulwich.client import (
    GitClient,
    HttpGitClient,
    HTTPUnauthorized,
    LocalGitClient,
    SSHGitClient,
    default_urllib3_manager,
)
from dulwich.errors import NotGitRepository
from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from ..errors import ArchiverError
from ..redaction import redact
from .gittarget import GitTarget

ZERO = ObjectID(b"0" * 40)


class PushFailed(ArchiverError):
    """The branch could not be pushed; retryable: the network, the host or its
    permissions may change before the delivery's schedule ends."""


class Diverged(PushFailed):
    """The remote branch holds commits the history does not: it is never overwritten."""


@dataclass(frozen=True)
class Pushed:
    """What a push did to the remote branch: ``old`` None when it was created."""

    branch: str
    old: str | None
    new: str

    @property
    def summary(self) -> str:
        """One line for the delivery's record."""
        if self.old == self.new:
            return f"{self.branch} already at {self.new[:12]}"
        if self.old is None:
            return f"{self.branch} created at {self.new[:12]}"
        return f"{self.branch} moved {self.old[:12]}..{self.new[:12]}"


def push_branch(
    history: Path,
    branch: str,
    target: GitTarget,
    *,
    timeout: float = 30.0,
    ssh_command: str | None = None,
) -> Pushed:
    """Push ``refs/heads/<branch>`` of the bare repository ``history`` to ``target``.

    Raises ``Diverged`` when the remote branch is not an ancestor of ours and
    ``PushFailed`` for anything else that went wrong; neither message holds a secret.
    """
    remote_branch = target.branch or branch
    ref = Ref(f"refs/heads/{remote_branch}".encode())
    where = f"{target.shown} ({remote_branch})"
    try:
        local = Repo(str(history))
    except (NotGitRepository, OSError):
        raise PushFailed(f"no history repository at {history} to push from") from None
    with local:
        try:
            head = local.refs[Ref(f"refs/heads/{branch}".encode())]
        except KeyError:
            raise PushFailed(f"the history has no branch {branch} to push yet") from None
        found: list[ObjectID | None] = []

        def update_refs(refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
            remote = refs.get(ref)
            remote = None if remote in (None, ZERO) else remote
            found.append(remote)
            if remote == head:
                return {}
            if remote is not None and not _contains(local, head, remote):
                raise Diverged(
                    f"remote branch {remote_branch} at {target.shown} has diverged: it is at"
                    f" {remote.decode()}, which the history (at {head.decode()}) does not"
                    " contain; it is left as it is (never forced)"
                )
            return {ref: head}

        def pack(
            have: Set[ObjectID],
            want: Set[ObjectID],
            *,
            ofs_delta: bool = False,
            progress: Any = None,
        ) -> Any:
            return local.generate_pack_data(
                set(have), set(want), progress=progress, ofs_delta=ofs_delta
            )

        client, path = _client(target, timeout, ssh_command)
        try:
            result = client.send_pack(path, update_refs, generate_pack_data=pack)
        except Diverged:
            raise
        except Exception as exc:  # dulwich, urllib3, the ssh process: one line, masked
            raise PushFailed(_mask(f"push to {where} failed: {_reason(exc)}", target)) from None
        finally:
            client.close()
    refused = (result.ref_status or {}).get(ref)
    if refused:
        raise PushFailed(_mask(f"push to {where} refused: {refused}", target))
    old = found[0] if found else None
    return Pushed(remote_branch, old.decode() if old else None, head.decode())


def _contains(repo: Repo, head: ObjectID, commit: ObjectID) -> bool:
    """Whether ``commit`` is ``head`` or one of its ancestors.

    A walk over the parents, not dulwich's ``can_fast_forward``: that one stops at
    commits older than ``commit``, and the history's dates are Genesys's (archives
    land in the ledger's order, not by date), so they need not grow along the branch.
    The common case, the previous push a few commits back, ends after a few steps.
    """
    if commit not in repo.object_store:
        return False
    seen: set[ObjectID] = set()
    stack = [head]
    while stack:
        sha = stack.pop()
        if sha == commit:
            return True
        if sha in seen:
            continue
        seen.add(sha)
        obj = repo.object_store[sha]
        if isinstance(obj, Commit):
            stack.extend(obj.parents)
    return False


def _client(target: GitTarget, timeout: float, ssh_command: str | None) -> tuple[GitClient, bytes]:
    """The dulwich client for the target's URL and the repository path to give it."""
    parts = urlparse(target.url)
    if parts.scheme in ("http", "https"):
        password = target.token
        username = target.username if password else None
        # dulwich's own manager (proxies from the environment), remembering its answers.
        pool = default_urllib3_manager(
            None, _Pool, _ProxyPool, base_url=target.url, timeout=timeout
        )
        http = _HttpClient(
            target.url, pool_manager=pool, username=username, password=password, timeout=timeout
        )
        return http, parts.path.encode()
    if parts.scheme == "ssh":
        # Without GIT_SSH_COMMAND: the system's ssh, never prompting (a worker has no
        # terminal) and giving up on a host that does not answer.
        command = ssh_command or f"ssh -o BatchMode=yes -o ConnectTimeout={max(1, round(timeout))}"
        ssh = SSHGitClient.from_parsedurl(parts, ssh_command=command)
        return ssh, parts.path.encode()
    path = parts.path if parts.scheme == "file" else target.url
    return LocalGitClient(), os.fsencode(path)


class _Closing:
    """A urllib3 manager that keeps every answer it hands out, so that they can all be
    closed: dulwich leaves a refused one (a 401) open, and its socket with it."""

    def urlopen(self, *args: Any, **kwargs: Any) -> Any:
        response = super().urlopen(*args, **kwargs)  # type: ignore[misc]
        self.__dict__.setdefault("_answers", []).append(response)
        return response

    def close(self) -> None:
        """Close every answer, then every pooled connection."""
        for response in self.__dict__.pop("_answers", []):
            response.close()
        self.clear()  # type: ignore[attr-defined]


class _Pool(_Closing, urllib3.PoolManager):
    pass


class _ProxyPool(_Closing, urllib3.ProxyManager):
    pass


class _HttpClient(HttpGitClient):
    """dulwich's HTTP client whose ``close`` closes its connections too."""

    def close(self) -> None:
        super().close()
        if isinstance(self.pool_manager, _Closing):
            self.pool_manager.close()


def _reason(exc: BaseException) -> str:
    """What went wrong, in a few words, from dulwich's exceptions."""
    if isinstance(exc, HTTPUnauthorized):
        return "authentication failed (401): check the target's username and token"
    if isinstance(exc, NotGitRepository):
        return "no git repository there"
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    return f"{name}: {text}" if text else name


def _mask(text: str, target: GitTarget) -> str:
    return redact(text, target.secrets())
