"""``archiver show`` and ``archiver diff`` over versions archived from the simulator: in
process with click's runner, and once as a real process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.archive import open_archiver
from service.commands import cli
from service.commands.base import CommandEnv
from service.config import Settings
from service.history.documents import archived_version
from service.history.lane import HistoryConfig, run_history
from service.ledger import Ledger
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import archiver, cli_env, make_settings

PATH = f"flow/main-inbound--{DEMO_FLOW_ID}.json"


@pytest.fixture
def environ(simulator: SimulatorServer, tmp_path: Path) -> dict[str, str]:
    """The commands' settings: the same ledger and archive folder as ``settings``."""
    return cli_env(simulator, tmp_path)


def run(environ: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CommandEnv(environ))


def archive(settings: Settings, object_id: str = DEMO_FLOW_ID, source: str = "flow") -> None:
    with open_archiver(settings) as archiver_:
        assert archiver_.run(object_id, source).archive is not None


def test_show_prints_the_newest_version_as_the_history_stores_it(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings)
    result = run(environ, "show", DEMO_FLOW_ID)
    assert result.exit_code == 0, result.output
    with Ledger(settings.archiver_db) as ledger:
        newest = archived_version(ledger, settings.archive_dir, DEMO_FLOW_ID, "3.0")
    assert result.stdout_bytes == newest.content
    assert json.loads(result.stdout_bytes)["name"] == "Main inbound"
    assert result.stderr == ""


def test_show_takes_a_version_by_id_or_number_and_the_object_by_prefix_or_name(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings)
    by_id = run(environ, "show", DEMO_FLOW_ID, "--version", "2.0")
    assert by_id.exit_code == 0, by_id.output
    assert by_id.stdout_bytes != run(environ, "show", DEMO_FLOW_ID).stdout_bytes
    for ref, version in [(DEMO_FLOW_ID[:8], "2"), ("Main inbound", "2.0")]:
        other = run(environ, "show", ref, "--version", version)
        assert (other.exit_code, other.stdout_bytes) == (0, by_id.stdout_bytes)


def test_show_finds_a_routing_strategy_the_ledger_knows_without_source(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings, DEMO_STRATEGY_ID, "routing-strategy")
    result = run(environ, "show", DEMO_STRATEGY_ID, "--version", "1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout_bytes)["version"] == 1
    wrong = run(environ, "show", DEMO_STRATEGY_ID, "--source", "flow")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith(f"archiver: no archive of flow {DEMO_STRATEGY_ID} in the")


def test_an_unknown_version_is_exit_1_naming_it_and_those_archived(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings)
    result = run(environ, "show", DEMO_FLOW_ID, "--version", "7")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"archiver: no archive of flow {DEMO_FLOW_ID} holds version '7'; archived versions:"
        " 1.0, 2.0, 3.0\n"
    )


def test_a_missing_archive_document_is_exit_1_naming_it(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings)
    (document,) = settings.archive_dir.rglob("*.json")
    document.unlink()
    result = run(environ, "diff", DEMO_FLOW_ID, "1", "2")
    assert result.exit_code == 1
    assert "cannot read archive document flow/" in result.stderr
    assert str(settings.archive_dir) in result.stderr


@pytest.mark.parametrize("command", [["show", DEMO_FLOW_ID], ["diff", DEMO_FLOW_ID, "1", "2"]])
def test_without_a_ledger_exit_1_names_it_and_creates_none(
    command: list[str], environ: dict[str, str], tmp_path: Path
) -> None:
    result = run(environ, *command)
    assert result.exit_code == 1
    assert result.stderr == f"archiver: no ledger at {tmp_path / 'ledger.db'} (ARCHIVER_DB)\n"
    assert not (tmp_path / "ledger.db").exists()


def test_diff_is_a_unified_diff_headed_by_tree_path_and_version(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings)
    result = run(environ, "diff", DEMO_FLOW_ID, "1", "3.0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"--- a/{PATH}@1.0", f"+++ b/{PATH}@3.0"]
    assert any(line.startswith("-") and '"timeout"' not in line for line in lines[2:])
    assert run(environ, "diff", DEMO_FLOW_ID, "2", "2.0").stdout == ""


def test_diff_paths_follow_a_rename(
    settings: Settings, environ: dict[str, str], simulator: SimulatorServer
) -> None:
    archive(settings)
    simulator.state.rename(DEMO_FLOW_ID, "After hours")
    simulator.state.add_versions(DEMO_FLOW_ID)
    archive(settings)
    result = run(environ, "diff", DEMO_FLOW_ID, "3", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"--- a/{PATH}@3.0",
        f"+++ b/flow/after-hours--{DEMO_FLOW_ID}.json@4.0",
    ]
    assert '-  "name": "Main inbound",' in result.stdout.splitlines()
    assert '+  "name": "After hours",' in result.stdout.splitlines()


def test_diff_json_lists_the_changes_and_an_empty_array_when_equal(
    settings: Settings, environ: dict[str, str]
) -> None:
    archive(settings)
    result = run(environ, "diff", DEMO_FLOW_ID, "1", "2", "--json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)
    assert {"op", "path"} <= set(changes[0])
    (timeout,) = [c for c in changes if c["path"].endswith("/timeout/config/lit/val")]
    assert timeout == {"op": "replace", "path": timeout["path"], "old": 30, "new": 40}
    added = [c for c in changes if c["op"] == "add"]
    assert added and all("old" not in c for c in added)
    same = run(environ, "diff", DEMO_FLOW_ID, "2", "2.0", "--json")
    assert (same.exit_code, same.stdout) == (0, "[]\n")


def test_diff_without_both_versions_is_a_usage_error(environ: dict[str, str]) -> None:
    result = run(environ, "diff", DEMO_FLOW_ID, "1")
    assert result.exit_code == 2
    assert "Missing argument 'VERSION_B'" in result.stderr


def test_diff_as_a_real_process(
    settings: Settings, environ: dict[str, str], tmp_path: Path
) -> None:
    archive(settings)
    result = archiver("diff", DEMO_FLOW_ID[:8], "2", "3", "--json", env=environ, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    in_process = run(environ, "diff", DEMO_FLOW_ID, "2.0", "3.0", "--json")
    assert json.loads(result.stdout) == json.loads(in_process.stdout) != []


def test_show_and_diff_say_what_the_history_repository_holds(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    """The live history, written by the worker's own lane: each version's file at its
    commit is what ``show`` prints, under the path ``diff`` names, and ``archiver diff`` is
    a patch that git applies to one commit's file to make the next one's."""
    repo = tmp_path / "history.git"
    environ = cli_env(simulator, tmp_path, HISTORY_REPO=str(repo))
    settings = make_settings(simulator, tmp_path, HISTORY_REPO=str(repo))
    archive(settings)
    simulator.state.rename(DEMO_FLOW_ID, "After hours")
    simulator.state.add_versions(DEMO_FLOW_ID, 2)
    archive(settings)
    config = HistoryConfig.from_settings(settings, ())
    assert config is not None
    with Ledger(settings.archiver_db) as ledger:
        assert run_history(ledger, config) == 5
    log = json.loads(run(environ, "history", "log", DEMO_FLOW_ID, "--json").stdout)
    commits = {row["versionId"]: row["commit"] for row in log}
    assert list(commits) == ["1.0", "2.0", "3.0", "4.0", "5.0"]
    paths = {}
    for version, commit in commits.items():
        diff = run(environ, "diff", DEMO_FLOW_ID, version, version).stdout
        assert diff == ""
        other = "2.0" if version == "1.0" else "1.0"  # every version's timeout differs
        header = run(environ, "diff", DEMO_FLOW_ID, other, version).stdout.splitlines()[1]
        paths[version] = header.removeprefix("+++ b/").removesuffix(f"@{version}")
        in_git = git(repo, "show", f"{commit}:{paths[version]}")
        assert in_git == run(environ, "show", DEMO_FLOW_ID, "--version", version).stdout_bytes
    assert paths["3.0"] == PATH != paths["4.0"] == f"flow/after-hours--{DEMO_FLOW_ID}.json"
    # git may pair the lines otherwise; ours is a patch git applies, the rename's too
    patch = run(environ, "diff", DEMO_FLOW_ID, "3", "4").stdout
    patched = tmp_path / "patched" / f"{paths['4.0']}@4.0"
    patched.parent.mkdir(parents=True)
    patched.write_bytes(git(repo, "show", f"{commits['3.0']}:{PATH}"))
    subprocess.run(["git", "apply"], input=patch.encode(), cwd=tmp_path / "patched", check=True)
    assert patched.read_bytes() == git(repo, "show", f"{commits['4.0']}:{paths['4.0']}")


def git(repo: Path, *args: str) -> bytes:
    """The real git's answer about the history repository."""
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, check=True
    ).stdout
