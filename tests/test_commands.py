"""The ``archiver`` click group in process, with click's runner: help, version, completion,
errors on one line, and the read-only commands that never create a ledger."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from service.commands import cli
from service.commands.base import CommandEnv
from service.ledger import Ledger, jobs
from service.simulator import DEMO_FLOW_ID, SimulatorServer
from tests.helpers import cli_env

UNKNOWN = "0d6f5a8e-2b4c-4e1a-9f3d-7c8b9a0e1f2d"
QUEUED = "38426578-d900-459f-a7e7-3260397f7ca3"


def run(*args: str, environ: dict[str, str] | None = None) -> Result:
    """``archiver ARGS`` in process, its settings from ``environ`` only (no ``.env``)."""
    return CliRunner().invoke(cli, list(args), obj=CommandEnv(environ or {}))


def every_command(
    group: click.Group = cli, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
    return found


COMMANDS = [" ".join(path) for path, _ in every_command()]


def test_the_command_surface() -> None:
    assert COMMANDS == [
        "archive",
        "audit",
        "audit verify",
        "backup",
        "demo",
        "diff",
        "history",
        "history log",
        "history rebuild",
        "ledger",
        "outbox",
        "outbox redeliver",
        "report",
        "report daily",
        "report history",
        "show",
        "simulate",
        "sweep",
        "verify-archives",
        "web",
        "worker",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_that_does_nothing_else(command: str, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    result = run(*command.split(), "--help", environ={"ARCHIVER_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: archiver {command} ")
    (_, described), *_ = [c for c in every_command() if " ".join(c[0]) == command]
    assert described.help and described.help.strip()
    assert result.stderr == ""
    assert not db.exists()


def test_choices_are_shown_in_the_help() -> None:
    choices = "[flow|routing-strategy|queue|ivr|schedule|schedule-group|emergency-group|"
    assert choices in run("archive", "--help").stdout
    assert "[direct|eventbridge]" in run("simulate", "--help").stdout
    listing = run("ledger", "--help").stdout
    assert "strategies, archives, jobs, events, deliveries, audit" in listing
    assert "jobs: waiting, running, done, dead" in " ".join(listing.split())


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.stdout) == (
        0,
        f"archiver, version {version('genesys-strategy-archiver')}\n",
    )


def test_the_epilog_names_the_settings_and_completion() -> None:
    text = " ".join(run("--help").stdout.split())
    for name in (".env", "ARCHIVER_DB", "ARCHIVE_DIR", "GENESYS_CLIENT_ID", "INBOUND_TOKEN"):
        assert name in text
    assert "_ARCHIVER_COMPLETE=bash_source archiver" in text


def test_shell_completion_is_clicks_own() -> None:
    runner = CliRunner()
    script = runner.invoke(cli, [], prog_name="archiver", env={"_ARCHIVER_COMPLETE": "bash_source"})
    assert script.exit_code == 0
    assert "_archiver_completion" in script.stdout
    words = runner.invoke(
        cli,
        [],
        prog_name="archiver",
        env={"_ARCHIVER_COMPLETE": "bash_complete", "COMP_WORDS": "archiver le", "COMP_CWORD": "1"},
    )
    assert words.stdout.split() == ["plain,ledger"]
    kinds = runner.invoke(
        cli,
        [],
        prog_name="archiver",
        env={
            "_ARCHIVER_COMPLETE": "bash_complete",
            "COMP_WORDS": "archiver ledger de",
            "COMP_CWORD": "2",
        },
    )
    assert kinds.stdout.split() == ["plain,deliveries"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ledger", "everything"], "archiver: Invalid value for 'KIND': 'everything' is not one"),
        (["ledger", "jobs", "--limit", "-1"], "archiver: Invalid value for '--limit'"),
        (["outbox", "redeliver"], "archiver: give one of --id ID or --dead"),
        (["outbox", "redeliver", "--dead", "--id", UNKNOWN], "archiver: give one of --id ID"),
        (["archive"], "archiver: Missing argument 'ID'"),
        (["sweep", "--discovery"], "archiver: No such option '--discovery'. Did you mean '--d"),
        (["nonsense"], "archiver: No such command 'nonsense'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(*args, environ={"ARCHIVER_DB": str(tmp_path / "ledger.db")})
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(message)
    assert "(usage: archiver " in line
    assert result.stdout == ""
    assert not (tmp_path / "ledger.db").exists()


def test_our_usage_and_config_errors_exit_2_without_usage(tmp_path: Path) -> None:
    bad_id = run("archive", "../../etc", environ={"ARCHIVER_DB": str(tmp_path / "l.db")})
    assert (bad_id.exit_code, bad_id.stderr) == (
        2,
        "archiver: strategy id must be a UUID, or a unique prefix of one (8 characters or"
        " more) or the exact name of an object the ledger knows, got '../../etc'; there is"
        f" no ledger at {tmp_path / 'l.db'} (ARCHIVER_DB)\n",
    )
    bad_setting = run("ledger", "jobs", environ={"RETENTION_DAYS": "soon"})
    assert (bad_setting.exit_code, bad_setting.stderr) == (
        2,
        "archiver: RETENTION_DAYS is invalid: must be a whole number (got 'soon')\n",
    )


READ_ONLY = [
    ["ledger", "jobs"],
    ["audit", "verify"],
    ["outbox", "redeliver", "--dead"],
    ["report", "history", UNKNOWN],
    ["report", "daily"],
    ["verify-archives"],
    ["backup", "copy.db"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=[" ".join(a[:2]) for a in READ_ONLY])
def test_read_only_commands_never_create_a_ledger_and_name_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(*args, environ={"ARCHIVER_DB": "var/ledger.db", "ARCHIVE_DIR": "var/archive"})
    assert result.exit_code == 1
    assert (
        result.stderr == f"archiver: no ledger at {tmp_path / 'var' / 'ledger.db'} (ARCHIVER_DB)\n"
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    """A ledger with one job waiting, made with a ledger verb."""
    path = tmp_path / "ledger.db"
    with Ledger(path) as ledger:
        jobs.enqueue(ledger, QUEUED, "flow", reason="sweep")
    return path


def test_ledger_lists_as_json_and_as_a_table(ledger_path: Path) -> None:
    environ = {"ARCHIVER_DB": str(ledger_path)}
    listed = run("ledger", "jobs", "--json", environ=environ)
    assert listed.exit_code == 0, listed.stderr
    (job,) = json.loads(listed.stdout)
    assert (job["strategyId"], job["state"], job["reason"]) == (QUEUED, "waiting", "sweep")
    table = run("ledger", "jobs", "--status", "waiting", environ=environ)
    assert table.exit_code == 0
    assert QUEUED in table.stdout.splitlines()[1]
    none = run("ledger", "jobs", "--status", "dead", environ=environ)
    assert (none.exit_code, none.stdout) == (0, "no jobs\n")
    wrong = run("ledger", "jobs", "--status", "finished", environ=environ)
    assert wrong.exit_code == 2
    assert wrong.stderr.startswith("archiver: --status for jobs must be one of waiting, running")


def test_audit_verify_prints_the_head(ledger_path: Path) -> None:
    result = run("audit", "verify", environ={"ARCHIVER_DB": str(ledger_path)})
    assert result.exit_code == 0, result.stderr
    entries, head = result.stdout.splitlines()
    assert entries.endswith("entries, hash chain intact")
    seq_hash = head.removeprefix("head ")
    kept = run(
        "audit", "verify", "--expect-head", seq_hash, environ={"ARCHIVER_DB": str(ledger_path)}
    )
    assert kept.exit_code == 0
    assert f"recorded head {seq_hash.split(':')[0]} found unchanged" in kept.stdout


def test_backup_copies_the_ledger_naming_absolute_paths(
    ledger_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("backup", "backups/copy.db", environ={"ARCHIVER_DB": "ledger.db"})
    assert result.exit_code == 0, result.stderr
    copy = tmp_path / "backups" / "copy.db"
    assert result.stdout.startswith(f"ledger {ledger_path} copied to {copy} (")
    with Ledger(copy) as restored:
        (job,) = jobs.list_jobs(restored)
        assert job.strategy_id == QUEUED
    assert not list(copy.parent.glob(".*partial"))


def test_report_of_an_unknown_strategy_exits_1(ledger_path: Path) -> None:
    result = run("report", "history", UNKNOWN, environ={"ARCHIVER_DB": str(ledger_path)})
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"archiver: strategy {UNKNOWN} is unknown to the ledger\n"


def test_daily_report_of_a_quiet_day(ledger_path: Path) -> None:
    result = run("report", "daily", "--json", environ={"ARCHIVER_DB": str(ledger_path)})
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["attention"] == [] and summary["complete"] is True
    future = run("report", "daily", "--date", "2999-01-01", environ={"ARCHIVER_DB": "x.db"})
    assert future.exit_code == 2
    assert future.stderr.startswith("archiver: --date 2999-01-01 is in the future")


def test_errors_never_repeat_a_secret(ledger_path: Path) -> None:
    secret = "client-secret-pasted-in-the-wrong-place"
    environ = {"GENESYS_CLIENT_SECRET": secret, "ARCHIVER_DB": str(ledger_path)}
    pasted = run("archive", secret, environ=environ)
    assert pasted.exit_code == 2
    assert secret not in pasted.stderr
    assert pasted.stderr.startswith("archiver: strategy id must be a UUID, or a unique prefix")
    bearer = run("ledger", "jobs", "--strategy", "Bearer abcdef0123456789", environ=environ)
    assert bearer.exit_code == 2
    assert "none of those in the ledger" in bearer.stderr
    assert "abcdef0123456789" not in bearer.stderr
    assert bearer.stderr.startswith("archiver: Invalid value for '--strategy'")


def test_one_archive_one_name_and_a_missing_archive_folder_named_as_such(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    environ = cli_env(simulator, tmp_path)
    made = run("archive", DEMO_FLOW_ID, environ=environ)
    assert made.exit_code == 0, made.stderr
    (listed,) = json.loads(run("ledger", "archives", "--json", environ=environ).stdout)
    archive_id, key = listed["archiveId"], listed["idempotencyKey"]
    assert f" in archive {archive_id} (key {key}), " in made.stdout
    assert (tmp_path / "archive" / "flow" / DEMO_FLOW_ID / f"{key}.json").is_file()
    header, row = run("ledger", "archives", environ=environ).stdout.splitlines()
    assert header.split()[1:4] == ["ARCHIVE", "KEY", "(DOCUMENT"]
    assert row.split()[1:3] == [archive_id, key]

    gone = tmp_path / "moved-away"
    moved = {**environ, "ARCHIVE_DIR": str(gone)}
    verify = run("verify-archives", environ=moved)
    assert (verify.exit_code, verify.stdout) == (1, "")
    assert verify.stderr == f"archiver: the archive folder {gone} (ARCHIVE_DIR) does not exist\n"
    report = run("report", "history", DEMO_FLOW_ID, "--json", environ=moved)
    assert report.exit_code == 1
    (problem,) = json.loads(report.stdout)["problems"]
    assert problem == (
        f"archive {archive_id} (key {key}): the archive folder {gone} (ARCHIVE_DIR) does not exist"
    )
    assert not gone.exists()
