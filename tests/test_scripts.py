"""Admin scripts run as an admin runs them: a real process over real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.ledger import Ledger, archives, audit
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import ARCHIVER, cli_env

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def test_verify_archives_finds_an_altered_document(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    for strategy, source in ((DEMO_FLOW_ID, "flow"), (DEMO_STRATEGY_ID, "routing-strategy")):
        done = subprocess.run(
            [*ARCHIVER, "archive", strategy, "--source", source], env=env, cwd=tmp_path
        )
        assert done.returncode == 0
    verify = [sys.executable, str(SCRIPTS / "verify_archives.py")]
    good = subprocess.run(verify, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "2 archive document(s) checked, 0 bad"
    (document,) = (tmp_path / "archive" / "flow").rglob("*.json")
    document.write_text(document.read_text().replace("Main inbound", "Main inbound (edited)"))
    bad = subprocess.run(verify, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stdout.count("MISMATCH") == 1
    assert "does not match its recorded SHA-256" in bad.stdout


def test_backup_ledger_copies_a_consistent_ledger(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    done = subprocess.run(
        [*ARCHIVER, "archive", DEMO_FLOW_ID, "--source", "flow"], env=env, cwd=tmp_path
    )
    assert done.returncode == 0
    copy = tmp_path / "backups" / "ledger-copy.db"
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "backup_ledger.py"), str(copy)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "audit entries" in result.stdout
    with Ledger(copy) as restored:
        (archive,) = archives.list_archives(restored)
        assert archive.strategy_id == DEMO_FLOW_ID
        assert audit.verify_audit(restored)[1] is None
    assert not list(copy.parent.glob(".*partial"))
    missing = subprocess.run(
        [sys.executable, str(SCRIPTS / "backup_ledger.py"), str(copy)],
        env={**env, "ARCHIVER_DB": str(tmp_path / "nope.db")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
    assert "no ledger at" in missing.stderr


SCRIPT_COMMANDS = {
    "strategy_history.py": "report history",
    "daily_summary.py": "report daily",
    "verify_archives.py": "verify-archives",
    "backup_ledger.py": "backup",
}


@pytest.mark.parametrize("script", sorted(SCRIPT_COMMANDS))
def test_every_script_has_help_that_does_nothing_else(script: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "ARCHIVER_DB": str(tmp_path / "ledger.db"), **_pythonpath()}
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"Usage: {script} [OPTIONS]")
    assert "document(s) checked" not in result.stdout  # verify_archives.py ran its check
    assert list(tmp_path.iterdir()) == []  # backup_ledger.py used to write a file "--help"
    command = subprocess.run(
        [*ARCHIVER, *SCRIPT_COMMANDS[script].split(), "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # the same command under another name
    assert command.stdout.split("\n", 1)[1] == result.stdout.split("\n", 1)[1]


def test_verify_archives_without_a_ledger_exits_1_and_creates_none(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "verify_archives.py")],
        env={"PATH": "/usr/bin:/bin", "ARCHIVER_DB": "var/ledger.db", **_pythonpath()},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"verify_archives: no ledger at {tmp_path / 'var' / 'ledger.db'} (ARCHIVER_DB)\n"
    )
    assert list(tmp_path.iterdir()) == []


def _pythonpath() -> dict[str, str]:
    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
