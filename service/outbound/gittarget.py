"""The ``git`` target: a remote that receives the history branch (contract section 10).

It takes no events: its deliveries (``history.push``, written by the history lane after
each batch of commits) are pushes of the branch, made by ``gitpush.py``. Its URL never
holds credentials: the token travels as the password of HTTP Basic auth, and stays out of
``repr`` and every message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..http import public_url
from .targets import Request, Target

GIT = "git"
PUSH_EVENT = "history.push"  # what the history lane asks of each git target
DEFAULT_USERNAME = "x-access-token"  # what GitHub and GitLab accept with a token


@dataclass(frozen=True)
class GitTarget(Target):
    """A git remote that receives the history branch (``VCS_TARGETS`` type ``git``).

    ``url`` is ``http(s)://``, ``ssh://``, ``file://`` or an absolute local path,
    never with credentials in it; ``branch`` is the remote branch (None: the history's
    own); ``username`` and ``token`` are the HTTP(S) Basic credentials. ``history`` and
    ``history_branch`` are what is pushed: ``HISTORY_REPO`` and ``HISTORY_BRANCH``;
    ``ssh_command`` is ``GIT_SSH_COMMAND`` (None: the system's ``ssh``).
    """

    kind: ClassVar[str] = GIT
    url: str
    branch: str | None = None
    username: str = DEFAULT_USERNAME
    token: str | None = field(default=None, repr=False)
    history: Path | None = None
    history_branch: str = "main"
    ssh_command: str | None = None

    @property
    def endpoint(self) -> str:
        return self.url

    def request(self, event_id: str, event_type: str, body: bytes, timestamp: int) -> Request:
        raise ValueError("a git target receives the history branch, not events")

    def secrets(self) -> list[str]:
        return [self.token] if self.token else []

    @property
    def shown(self) -> str:
        """The URL as messages show it (no credentials, query or fragment)."""
        return public_url(self.url) if "://" in self.url else self.url


def git_target(
    path: str,
    doc: Mapping[str, Any],
    history: Path | None,
    history_branch: str,
    ssh_command: str | None,
) -> GitTarget:
    """The target ``doc`` describes (its fields validated by the settings' schema; ``path``
    names it in errors): a remote URL without credentials (they go in ``username`` and
    ``token``), or a local path, made absolute as every path the settings hold."""
    if history is None:
        raise ConfigError(f"{path} is a git target, which needs the history: HISTORY_REPO is empty")
    url = _url(path, doc["url"])
    shown = public_url(url) if "://" in url else url
    return GitTarget(
        name=doc.get("name") or f"git:{shown}",
        url=url,
        branch=doc.get("branch") or history_branch,
        username=doc.get("username") or DEFAULT_USERNAME,
        token=doc.get("token"),
        history=history,
        history_branch=history_branch,
        ssh_command=ssh_command,
    )


_SCHEMES = ("http", "https", "ssh", "file")


def _url(path: str, url: str) -> str:
    """``url`` checked: a scheme dulwich pushes to and no password in it; a local path
    made absolute. The error never shows the value, which may hold a token."""
    where = f"{path}.url is invalid"
    if "://" not in url:
        if re.match(r"^[^/]*:", url):
            raise ConfigError(
                f"{where}: scp-like addresses are not supported, write ssh://host/path"
            )
        return os.path.abspath(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"{where}: not a URL") from None
    if parts.scheme not in _SCHEMES:
        raise ConfigError(f"{where}: must be an http(s)://, ssh:// or file:// URL or a local path")
    if parts.scheme != "file" and not parts.hostname:
        raise ConfigError(f"{where}: the URL names no host")
    if parts.password is not None or (parts.username and parts.scheme != "ssh"):
        raise ConfigError(f"{where}: must not hold credentials (use username and token)")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: must not have a query or fragment")
    return url
