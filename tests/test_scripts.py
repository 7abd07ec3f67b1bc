"""Admin scripts run as an admin runs them: a real process over real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.ledger import Ledger
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.conftest import ARCHIVER, cli_env

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
        (archive,) = restored.list_archives()
        assert archive.strategy_id == DEMO_FLOW_ID
        assert restored.verify_audit()[1] is None
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
