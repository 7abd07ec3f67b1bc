"""``git log --stat`` of the history repository, for people to read (``make demo``).

The real ``git`` when it is installed; else the same commits through dulwich, with each
file added, changed, removed or renamed: the history needs no git at run time, and
neither does looking at it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dulwich.diff_tree import TreeChange
from dulwich.objects import Commit
from dulwich.repo import Repo

DIFF_LINES = 40  # of a diff shown in the demo: enough to read, short enough to scroll past


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


def demo_tour(
    repo: Path, ledger_path: Path, object_id: str, env: dict[str, str], say: Callable[[str], None]
) -> None:
    """The end of ``make demo``: the history's ``git log --stat``, then ``archiver diff`` of
    the object's last two committed versions (as a person would run it)."""
    from ..ledger import Ledger, history

    say(f"7. The history in git ({repo}): one commit per version, one for the deletion")
    say(log_stat(repo))
    with Ledger(ledger_path) as ledger:
        versions = [row["versionId"] for row in history.history_log(ledger, object_id)]
    if len(versions) < 2:
        return
    older, newer = versions[-2:]
    say(f"8. archiver diff {object_id} {older} {newer} (from cold storage, no Genesys call)")
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "diff", object_id, older, newer],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout or done.stderr).splitlines()
    say("\n".join(lines[:DIFF_LINES]))
    if len(lines) > DIFF_LINES:
        say(f"... ({len(lines) - DIFF_LINES} more lines)")
    say("")


def caught_up(ledger_path: Path) -> bool:
    """Whether the worker has committed every archive and deletion the ledger recorded."""
    from ..ledger import Ledger, history

    with Ledger(ledger_path) as ledger:
        return history.history_backlog(ledger) == 0
