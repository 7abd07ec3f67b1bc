"""``log_stat``: the history for people to read, through git or, without it, dulwich."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from service.archive import open_archiver
from service.history.gitlog import _dulwich_log, log_stat
from service.history.lane import HistoryConfig, run_history
from service.ledger import Ledger, deletions
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import branch_ids, history_env, make_settings


@pytest.fixture
def repo(simulator: SimulatorServer, tmp_path: Path) -> Path:
    """A history of a routing strategy renamed between two archives, and a deleted flow."""
    settings = make_settings(simulator, tmp_path, **history_env(tmp_path))
    config = HistoryConfig.from_settings(settings, [])
    assert config is not None
    with Ledger(settings.archiver_db) as ledger, open_archiver(settings, ledger) as archiver:
        archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
        simulator.state.rename(DEMO_STRATEGY_ID, "Routing by priority")
        simulator.state.add_versions(DEMO_STRATEGY_ID, 1)
        archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
        archiver.run(DEMO_FLOW_ID, "flow")
        deletions.mark_deleted(ledger, DEMO_FLOW_ID, "flow", by="Grace Hopper", reason="gone")
        run_history(ledger, config)
    return config.repo


def test_without_git_every_commit_is_shown_newest_first_with_its_files(repo: Path) -> None:
    text = _dulwich_log(repo, "main", None)
    shown = re.findall(r"^commit ([0-9a-f]{40})$", text, re.MULTILINE)
    if shutil.which("git"):
        listed = branch_ids(repo)[::-1]
        assert shown == listed
    assert len(shown) == 3 + 1 + 3 + 1
    assert f" flow/main-inbound--{DEMO_FLOW_ID}.json (removed)" in text
    moved = text.split("Routing by priority: version")[1].split("\ncommit ")[0]
    assert f" routing-strategy/priority-routing--{DEMO_STRATEGY_ID}.json (removed)" in moved
    assert f" routing-strategy/routing-by-priority--{DEMO_STRATEGY_ID}.json (added)" in moved
    assert "    Main inbound: deleted" in text
    assert "Author: Grace Hopper <unknown@users.genesys-cloud.invalid>" in text
    assert _dulwich_log(repo, "other", None) == ""
    assert len(re.findall("^commit ", _dulwich_log(repo, "main", 2), re.MULTILINE)) == 2


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
def test_with_git_it_is_git_log_stat(repo: Path) -> None:
    text = log_stat(repo, limit=1)
    assert text.startswith("commit ") and "Main inbound: deleted" in text
    assert "1 file changed" in text and text.count("\ncommit ") == 0
