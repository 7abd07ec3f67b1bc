"""Ids on the command line (contract section 3): a UUID, or a unique prefix of at least 8
characters or the exact name of an object the ledger knows; ambiguous is exit 2 listing
the candidates, and looking one up never creates a ledger."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.commands import cli
from service.commands.base import CommandEnv
from service.ledger import Ledger, jobs, queries
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import ARCHIVER, cli_env

TWIN_A = "abcdef01-0000-4000-8000-00000000000a"
TWIN_B = "abcdef01-0000-4000-8000-00000000000b"


def run(*args: str, environ: dict[str, str]) -> Result:
    """``archiver ARGS`` in process, its settings from ``environ`` only."""
    return CliRunner().invoke(cli, list(args), obj=CommandEnv(environ))


@pytest.fixture
def archived(simulator: SimulatorServer, tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment of a ledger holding the demo flow and strategy, and the flow's name."""
    environ = cli_env(simulator, tmp_path)
    for object_id, source in ((DEMO_FLOW_ID, "flow"), (DEMO_STRATEGY_ID, "routing-strategy")):
        done = run("archive", object_id, "--source", source, environ=environ)
        assert done.exit_code == 0, done.stderr
    with Ledger(tmp_path / "ledger.db") as ledger:
        (flow,) = queries.list_strategies(ledger, strategy_id=DEMO_FLOW_ID)
    return environ, flow["name"]


def test_a_prefix_or_a_name_names_the_object(archived: tuple[dict[str, str], str]) -> None:
    environ, name = archived
    for given in (DEMO_FLOW_ID[:8], DEMO_FLOW_ID[:13].upper(), name):
        listed = run("ledger", "archives", "--strategy", given, "--json", environ=environ)
        assert listed.exit_code == 0, listed.stderr
        (archive,) = json.loads(listed.stdout)
        assert archive["strategyId"] == DEMO_FLOW_ID, given
    report = run("report", "history", name, "--json", environ=environ)
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["strategy"]["strategyId"] == DEMO_FLOW_ID


def test_archive_by_prefix_takes_the_source_the_ledger_knows(
    archived: tuple[dict[str, str], str], simulator: SimulatorServer
) -> None:
    environ, _ = archived
    again = run("archive", DEMO_STRATEGY_ID[:8], environ=environ)
    assert again.exit_code == 0, again.stderr
    assert again.stdout == f"routing-strategy {DEMO_STRATEGY_ID}: no new versions to archive\n"


def test_no_match_and_short_prefixes_exit_2(archived: tuple[dict[str, str], str]) -> None:
    environ, name = archived
    for given in (DEMO_FLOW_ID[:7], name.upper() + "?", "ffffffff"):
        result = run("ledger", "jobs", "--strategy", given, environ=environ)
        assert result.exit_code == 2, given
        (line,) = result.stderr.splitlines()
        assert "a unique prefix of one (8 characters or more) or the exact name" in line
        assert f"none of those in the ledger at {environ['ARCHIVER_DB']} matches" in line


def test_an_ambiguous_prefix_exits_2_listing_the_candidates(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path) as ledger:
        jobs.enqueue(ledger, TWIN_A, "flow", reason="sweep")
        jobs.enqueue(ledger, TWIN_B, "routing-strategy", reason="sweep")
    environ = {"ARCHIVER_DB": str(path), "ARCHIVE_DIR": str(tmp_path / "archive")}
    for args in (["archive", "abcdef01"], ["report", "history", "ABCDEF01-0000"]):
        result = run(*args, environ=environ)
        assert result.exit_code == 2, args
        (line,) = result.stderr.splitlines()
        assert "is ambiguous, it matches: " in line
        assert f"flow {TWIN_A}; routing-strategy {TWIN_B}" in line
    one = run(
        "ledger", "jobs", "--strategy", "abcdef01-0000-4000-8000-00000000000", environ=environ
    )
    assert one.exit_code == 2  # still both: 35 characters of 36
    exact = run("ledger", "jobs", "--strategy", TWIN_B[:-1] + "B", "--json", environ=environ)
    assert exact.exit_code == 0, exact.stderr
    assert [job["strategyId"] for job in json.loads(exact.stdout)] == [TWIN_B]


def test_a_prefix_without_a_ledger_exits_2_and_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    environ = {"ARCHIVER_DB": "var/ledger.db", "ARCHIVE_DIR": "var/archive"}
    for args in (["archive", "abcdef01"], ["ledger", "jobs", "--strategy", "Main Inbound"]):
        result = run(*args, environ=environ)
        assert result.exit_code == 2, args
        assert f"there is no ledger at {tmp_path / 'var' / 'ledger.db'} (ARCHIVER_DB)" in (
            result.stderr
        )
    assert list(tmp_path.iterdir()) == []


def test_a_name_through_a_real_process(
    archived: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    environ, name = archived
    result = subprocess.run(
        [*ARCHIVER, "ledger", "strategies", "--strategy", name, "--json"],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["strategyId"], row["name"]) == (DEMO_FLOW_ID, name)
