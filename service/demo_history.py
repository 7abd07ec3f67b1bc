"""The end of ``make demo``: the history in git, and one diff of the flow's last versions."""

from __future__ import annotations

from pathlib import Path

from .demo_queue import Say, run_shown
from .history.gitlog import log_stat
from .ledger import Ledger, history

DIFF_LINES = 40  # of a diff shown in the demo: enough to read, short enough to scroll past


def demo_tour(repo: Path, ledger_path: Path, object_id: str, env: dict[str, str], say: Say) -> None:
    """The history's ``git log --stat``, then ``archiver diff`` of the object's last two
    committed versions (as a person would run it)."""
    say(f"7. The history in git ({repo}): one commit per version, one for the deletion")
    say(log_stat(repo))
    with Ledger(ledger_path) as ledger:
        versions = [row["versionId"] for row in history.history_log(ledger, object_id)]
    if len(versions) < 2:
        return
    older, newer = versions[-2:]
    say(f"8. archiver diff {object_id} {older} {newer} (from cold storage, no Genesys call)")
    run_shown(["diff", object_id, older, newer], env, say, DIFF_LINES)


def caught_up(ledger_path: Path) -> bool:
    """Whether the worker has committed every archive and deletion the ledger recorded."""
    with Ledger(ledger_path) as ledger:
        return history.history_backlog(ledger) == 0
