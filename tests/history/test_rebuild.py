"""``rebuild``: the history built anew from the ledger and cold storage, into a new
repository or in place, with the live history's commit ids (checked with the real git)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.archive import open_archiver
from service.config import Settings
from service.history.lane import HistoryConfig, run_history
from service.history.rebuild import rebuild
from service.history.repo import HistoryRepo
from service.ledger import Ledger, deletions, history
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import branch_ids, git, history_env, make_settings

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


@pytest.fixture
def live(simulator: SimulatorServer, tmp_path: Path) -> tuple[Settings, HistoryConfig]:
    """The history on, the demo strategy and flow archived, the flow deleted since."""
    settings = make_settings(simulator, tmp_path, **history_env(tmp_path))
    config = HistoryConfig.from_settings(settings, [])
    assert config is not None
    with Ledger(settings.archiver_db) as ledger, open_archiver(settings, ledger) as archiver:
        archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
        run_history(ledger, config)
        archiver.run(DEMO_FLOW_ID, "flow")
        deletions.mark_deleted(ledger, DEMO_FLOW_ID, "flow", by="Grace Hopper", reason="gone")
    return settings, config


def test_rebuild_gives_the_live_commit_ids(
    live: tuple[Settings, HistoryConfig], tmp_path: Path
) -> None:
    settings, config = live
    with Ledger(settings.archiver_db) as ledger:
        run_history(ledger, config)
        live = branch_ids(config.repo)
        elsewhere = rebuild(
            ledger,
            archive_dir=config.archive_dir,
            repo=config.repo,
            branch="main",
            to=tmp_path / "copy.git",
        )
        assert elsewhere.head == live[-1] and elsewhere.commits == len(live)
        assert branch_ids(tmp_path / "copy.git") == live
        git(tmp_path / "copy.git", "fsck", "--strict")
        # In place, over a repository that lost its objects: the same commits again.
        shutil.rmtree(config.repo)
        HistoryRepo.open(config.repo, "main").close()
        in_place = rebuild(ledger, archive_dir=config.archive_dir, repo=config.repo, branch="main")
        assert in_place.head == live[-1]
        assert branch_ids(config.repo) == live
        git(config.repo, "fsck", "--strict")
        assert run_history(ledger, config) == 0


def test_rebuild_replays_items_not_committed_yet_which_the_lane_then_records(
    live: tuple[Settings, HistoryConfig],
) -> None:
    settings, config = live
    with Ledger(settings.archiver_db) as ledger:
        recorded = [row.commit for row in history.all_commits(ledger)]
        built = rebuild(ledger, archive_dir=config.archive_dir, repo=config.repo, branch="main")
        ids = branch_ids(config.repo)
        assert ids[: len(recorded)] == recorded and len(ids) == len(recorded) + 3 + 1
        assert built.head == ids[-1]
        # One item per batch: the branch is ahead by more than a batch, recorded batch by batch.
        assert run_history(ledger, config, batch=1) == 4
        assert [row.commit for row in history.all_commits(ledger)] == ids
        assert branch_ids(config.repo) == ids
