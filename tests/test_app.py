"""``create_app``, the one wiring point: the web process's app, and the app the worker
and the commands build and work in (no ``INBOUND_TOKEN`` needed, nothing created)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask import has_app_context

from service import extensions
from service.app import create_app
from service.commands.base import ArchiverCommand, CommandEnv, pass_env
from service.config import Settings
from service.errors import ConfigError
from service.ledger import Ledger
from service.simulator import SimulatorServer
from service.worker import Periodic, Worker
from tests.helpers import INBOUND_TOKEN, WORKER_TUNING, cli_env, wait_for, web_config


def test_only_the_web_process_requires_inbound_token(tmp_path: Path) -> None:
    config = {"ARCHIVER_DB": str(tmp_path / "ledger.db")}
    with pytest.raises(ConfigError, match="INBOUND_TOKEN is required by the web process"):
        create_app(config)
    app = create_app(config, web=False)
    assert extensions.settings(app).inbound_token is None
    assert app.test_client().get("/healthz").status_code == 404  # no web surface
    assert not (tmp_path / "ledger.db").exists()  # nothing created, nothing opened


def test_the_web_app_creates_the_ledger_and_serves(tmp_path: Path) -> None:
    app = create_app(web_config(tmp_path))
    assert (tmp_path / "ledger.db").is_file()
    assert app.test_client().get("/healthz").status_code == 200


def test_every_process_gets_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = {"INBOUND_TOKEN": INBOUND_TOKEN, "ARCHIVER_DB": "data/ledger.db"}
    for web in (True, False):
        settings = extensions.settings(create_app(relative | {"ARCHIVE_DIR": "cold"}, web=web))
        assert settings.archiver_db == tmp_path / "data" / "ledger.db"
        assert settings.archive_dir == tmp_path / "cold"
        assert settings.metrics_dir.is_absolute()
    assert (tmp_path / "data" / "ledger.db").is_file()  # the web app's, where it says


def test_the_app_of_the_worker_and_commands_leaves_prometheus_client_unimported(
    tmp_path: Path,
) -> None:
    # The worker chooses its metrics folder once it has its settings, before
    # prometheus-client is imported: building its app must not import it.
    code = (
        "import sys; from service.app import create_app; create_app({}, web=False);"
        "print('prometheus_client' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


@click.command("where", cls=ArchiverCommand)
@pass_env
def where_command(env: CommandEnv) -> None:
    """Print the ledger's path as the app whose context this is has it."""
    assert env.settings is extensions.settings()
    click.echo(extensions.settings().archiver_db)


def test_a_command_runs_inside_the_app_it_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        where_command, [], obj=CommandEnv({"ARCHIVER_DB": "data/ledger.db"})
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"{tmp_path / 'data' / 'ledger.db'}\n"
    assert not (tmp_path / "data").exists()  # a command that reads creates nothing
    assert not has_app_context()  # popped when the command ended


def test_a_bad_variable_stops_a_command_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(where_command, [], obj=CommandEnv({"JOB_MAX_TRIES": "many"}))
    assert result.exit_code == 2
    assert result.output.startswith("where: JOB_MAX_TRIES ")
    assert len(result.output.splitlines()) == 1


def test_the_worker_runs_its_tasks_inside_its_app(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    app = create_app(cli_env(simulator, tmp_path, **WORKER_TUNING), web=False)
    seen: list[tuple[Settings, str]] = []

    def look(ledger: Ledger) -> None:
        seen.append((extensions.settings(), threading.current_thread().name))

    worker = Worker(app, periodic=(Periodic("look", 0.01, look),))
    assert worker.settings is extensions.settings(app)
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        wait_for(lambda: seen, timeout=10, what="the periodic task")
    finally:
        worker.stop()
        running.join(timeout=10)
    assert not running.is_alive()
    assert seen[0][0] is extensions.settings(app)


def test_a_worker_given_settings_builds_the_app_from_them(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = extensions.settings(create_app(cli_env(simulator, tmp_path), web=False))
    worker = Worker(settings)
    assert extensions.settings(worker.app) is settings
    assert worker.app.test_client().get("/healthz").status_code == 404
