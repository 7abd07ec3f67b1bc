"""``archiver history log`` and ``archiver history rebuild`` over versions archived from
the simulator: in process with click's runner, and once as a real process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.archive import open_archiver
from service.commands import cli
from service.commands.base import CommandEnv
from service.config import Settings, load_settings
from service.history.lane import HistoryConfig, run_history
from service.ledger import Ledger, history
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import archiver, branch_ids, cli_env, history_env


@pytest.fixture
def environ(simulator: SimulatorServer, tmp_path: Path) -> dict[str, str]:
    return cli_env(simulator, tmp_path, **history_env(tmp_path))


@pytest.fixture
def live(environ: dict[str, str]) -> Settings:
    """Settings of the history on, with the demo flow archived and committed."""
    settings = load_settings(environ)
    with Ledger(settings.archiver_db) as ledger, open_archiver(settings, ledger) as archiver_:
        assert archiver_.run(DEMO_FLOW_ID, "flow").archive is not None
        config = HistoryConfig.from_settings(settings, [])
        assert config is not None
        assert run_history(ledger, config) == 3
    return settings


def run(environ: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CommandEnv(environ))


def test_log_lists_the_versions_and_their_commits_oldest_first(
    live: Settings, environ: dict[str, str]
) -> None:
    assert live.history_repo is not None
    result = run(environ, "history", "log", "Main inbound", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["versionId"] for row in rows] == ["1.0", "2.0", "3.0"]
    assert [row["commit"] for row in rows] == branch_ids(live.history_repo)
    assert set(rows[0]) == {"versionId", "author", "date", "archiveKey", "commit"}
    assert all(row["date"].endswith("Z") and row["author"] for row in rows)
    text = run(environ, "history", "log", DEMO_FLOW_ID[:8])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"{rows[0]['commit']}  {rows[0]['date']}  1.0")


def test_log_shows_versions_not_committed_yet_without_a_commit(
    live: Settings, environ: dict[str, str], simulator: SimulatorServer
) -> None:
    simulator.state.add_versions(DEMO_FLOW_ID, 1)
    with open_archiver(live) as archiver_:
        archiver_.run(DEMO_FLOW_ID, "flow")
    rows = json.loads(run(environ, "history", "log", DEMO_FLOW_ID, "--json").stdout)
    assert [(row["versionId"], row["commit"] is None) for row in rows] == [
        ("1.0", False),
        ("2.0", False),
        ("3.0", False),
        ("4.0", True),
    ]


def test_log_of_an_object_never_archived_fails_naming_it(
    live: Settings, environ: dict[str, str]
) -> None:
    result = run(environ, "history", "log", DEMO_STRATEGY_ID)
    assert result.exit_code == 1
    assert f"no archived version of {DEMO_STRATEGY_ID}" in result.stderr


def test_rebuild_prints_the_head_of_the_same_commits(
    live: Settings, environ: dict[str, str], tmp_path: Path
) -> None:
    assert live.history_repo is not None
    ids = branch_ids(live.history_repo)
    copy = tmp_path / "copy.git"
    result = run(environ, "history", "rebuild", "--to", str(copy))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{ids[-1]}\n"
    assert f"rebuilt {copy}: 3 commit(s), branch main at {ids[-1]}" in result.stderr
    assert branch_ids(copy) == ids
    again = run(environ, "history", "rebuild", "--to", str(copy))
    assert again.exit_code == 2
    assert f"--to {copy} exists and is not an empty folder" in again.stderr
    shutil.rmtree(live.history_repo)
    in_place = run(environ, "history", "rebuild")
    assert (in_place.exit_code, in_place.stdout) == (0, f"{ids[-1]}\n")
    assert branch_ids(live.history_repo) == ids


def test_rebuild_refuses_a_ledger_whose_documents_changed(
    live: Settings, environ: dict[str, str], tmp_path: Path
) -> None:
    with Ledger(live.archiver_db) as ledger:
        recorded = history.all_commits(ledger)
        ledger.db.execute(
            "UPDATE history_commits SET commit_id = ? WHERE commit_id = ?",
            ["0" * 40, recorded[1].commit],
        )
    result = run(environ, "history", "rebuild", "--to", str(tmp_path / "copy.git"))
    assert result.exit_code == 1
    assert f"the rebuilt commit 2 is {recorded[1].commit}, the ledger recorded {'0' * 40}" in (
        result.stderr
    )
    assert not (tmp_path / "copy.git").exists()


def test_rebuild_without_a_history_asks_for_a_path(environ: dict[str, str]) -> None:
    environ["HISTORY_REPO"] = ""
    result = run(environ, "history", "rebuild")
    assert result.exit_code == 2
    assert "HISTORY_REPO is empty (no history): give --to PATH" in result.stderr


def test_history_commands_never_create_a_ledger(environ: dict[str, str], tmp_path: Path) -> None:
    for args in (["log", DEMO_FLOW_ID], ["rebuild"]):
        result = archiver("history", *args, env=environ, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert f"no ledger at {tmp_path / 'ledger.db'}" in result.stderr
    assert not (tmp_path / "ledger.db").exists()
    assert archiver("history", "--help", env=environ, cwd=tmp_path).returncode == 0
