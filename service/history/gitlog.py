"""``git log --stat`` of the history repository, for people to read (``make demo``).

The real ``git`` when it is installed; else the same commits through dulwich, with each
file added, changed, removed or renamed: the history needs no git at run time, and
neither does looking at it.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from dulwich.diff_tree import TreeChange
from dulwich.objects import Commit
from dulwich.repo import Repo


def log_stat(repo: Path, branch: str = "main", *, limit: int | None = None) -> str:
    """The branch's commits, newest first, each with the files it changed."""
    git = shutil.which("git")
    if git:
        argv = [git, "--git-dir", str(repo), "log", "--stat", "--no-color", branch]
        if limit:
            argv.insert(4, f"-{limit}")
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout
    return _dulwich_log(repo, branch, limit)


def _dulwich_log(repo: Path, branch: str, limit: int | None) -> str:
    lines: list[str] = []
    with Repo(str(repo)) as opened:
        try:
            head = opened.refs[f"refs/heads/{branch}".encode()]  # type: ignore[index]
        except KeyError:
            return ""
        for entry in opened.get_walker(include=[head], max_entries=limit):
            commit: Commit = entry.commit
            when = datetime.fromtimestamp(commit.author_time, UTC)
            lines += [
                f"commit {commit.id.decode()}",
                f"Author: {commit.author.decode('utf-8', 'replace')}",
                f"Date:   {when:%a %b %d %H:%M:%S %Y} +0000",
                "",
                *(f"    {line}" for line in commit.message.decode("utf-8", "replace").splitlines()),
                "",
                *(
                    f" {_change(change)}"
                    for change in entry.changes()
                    if isinstance(change, TreeChange)
                ),
                "",
            ]
    return "\n".join(lines)


def _change(change: TreeChange) -> str:
    old = change.old.path.decode() if change.old and change.old.path else None
    new = change.new.path.decode() if change.new and change.new.path else None
    if old and new and old != new:
        return f"{old} => {new} (renamed)"
    if new and not old:
        return f"{new} (added)"
    if old and not new:
        return f"{old} (removed)"
    return f"{new} (changed)"
