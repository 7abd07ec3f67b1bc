"""A real smart-HTTP git server on 127.0.0.1 that requires HTTP Basic auth, for push tests.

dulwich's own WSGI git application (``dulwich.web``, the server side of the protocol
``git`` and dulwich speak over HTTP) serves the bare repositories under a folder,
behind a small middleware that answers 401 to a request without the right user name
and token, as a git host does. It runs in a thread of the project's ``BackgroundServer``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import stat
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dulwich.server import FileSystemBackend
from dulwich.web import make_wsgi_chain

from service.simulator.serving import BackgroundServer

USERNAME = "x-access-token"
TOKEN = "gitsrv-token-0123456789abcdef"


class BasicAuth:
    """WSGI middleware: the wrapped app only for ``Authorization: Basic`` with ``username``
    and ``password``; anything else gets 401 and a ``WWW-Authenticate`` challenge."""

    def __init__(self, app: Any, username: str, password: str) -> None:
        self.app = app
        self.expected = f"{username}:{password}".encode()
        self.refused = 0  # requests answered 401
        self.accepted = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            with self._lock:
                self.refused += 1
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="git"'), ("Content-Type", "text/plain")],
            )
            return [b"authentication required\n"]
        with self._lock:
            self.accepted += 1
        if environ.get("wsgi.input_terminated"):
            # werkzeug has already undone a chunked body; dulwich.web would undo it again.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self.expected)


class _Folder(FileSystemBackend):
    """The repositories under ``root``: dulwich.web asks for ``/<name>``, which
    ``FileSystemBackend`` would take as an absolute path outside its root."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.opened: list[Any] = []  # every request opens its own; closed when the server stops

    def open_repository(self, path: str) -> Any:
        repo = super().open_repository(os.fsdecode(path).lstrip("/"))
        self.opened.append(repo)
        return repo


class GitServer(BackgroundServer):
    """The bare repositories under ``root``, each at ``<url>/<name>``."""

    def __init__(self, root: Path, username: str = USERNAME, token: str = TOKEN) -> None:
        super().__init__()
        self.root = root
        self._repos = _Folder(str(root))
        self.auth = BasicAuth(make_wsgi_chain(self._repos), username, token)

    def create_app(self) -> Any:  # a WSGI app, not a Flask one
        return self.auth

    def stop(self) -> None:
        super().stop()
        while self._repos.opened:
            self._repos.opened.pop().close()

    def repo_url(self, name: str) -> str:
        """The URL of the repository ``root/name``, without credentials."""
        return f"{self.url}/{name}"

    def init(self, name: str) -> Path:
        """A new empty bare repository ``root/name``, made by ``git`` itself."""
        return bare(self.root / name)


def git(*args: str, cwd: Path | None = None, input: str | None = None, **env: str) -> str:
    """The real ``git`` command's output; a failure fails the test with git's own words."""
    done = run_git(*args, cwd=cwd, input=input, **env)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def run_git(
    *args: str, cwd: Path | None = None, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real ``git`` command, as it went.

    No prompt for credentials and no user or system configuration, so that the
    machine's settings cannot change what the test sees.
    """
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "HOME": "/nonexistent",
    }
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=clean | env,
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
    )


def commit(repo: Path, text: str, *, date: str, branch: str = "main") -> str:
    """A commit on ``branch`` of the bare ``repo`` whose one file ``f.txt`` holds ``text``,
    made with git's plumbing; its id. Author and committer date: ``date``."""
    blob = git("hash-object", "-w", "--stdin", cwd=repo, input=text).strip()
    tree = git("mktree", cwd=repo, input=f"100644 blob {blob}\tf.txt\n").strip()
    parent = run_git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=repo)
    parents = ["-p", parent.stdout.strip()] if parent.returncode == 0 else []
    person = {"NAME": "Tester", "EMAIL": "tester@example.invalid", "DATE": date}
    env = {
        f"GIT_{who}_{key}": value
        for who in ("AUTHOR", "COMMITTER")
        for key, value in person.items()
    }
    made = git("commit-tree", tree, *parents, "-m", text, cwd=repo, **env).strip()
    git("update-ref", f"refs/heads/{branch}", made, cwd=repo)
    return made


def bare(path: Path, branch: str = "main") -> Path:
    """A new empty bare repository at ``path`` whose HEAD names ``branch``."""
    git("init", "--quiet", "--bare", "--initial-branch", branch, str(path))
    return path


def fake_ssh(folder: Path) -> Path:
    """An ``ssh`` stand-in for ``GIT_SSH_COMMAND``: it writes its arguments to
    ``folder/ssh-args``, then runs the last one, the remote command
    (``git-receive-pack '<path>'``), here, as sshd would run it there."""
    fake = folder / "fake-ssh"
    seen = folder / "ssh-args"
    fake.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}\nfor last; do :; done\nexec sh -c "$last"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake
