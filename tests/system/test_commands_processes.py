"""``archiver`` commands that only a real process shows: the console script itself, and
``archiver web`` running gunicorn with the settings packaged in ``service/``."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import requests

from service.simulator import DEMO_FLOW_ID, SimulatorServer
from tests.helpers import ARCHIVER, cli_env, wait_for
from tests.processes import BIN, free_port, running, web_env


def test_the_console_script_is_the_click_group(tmp_path: Path) -> None:
    script = BIN / "archiver"
    command = [str(script)] if script.exists() else ARCHIVER
    result = subprocess.run(
        [*command, "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout) == (
        0,
        f"archiver, version {version('genesys-strategy-archiver')}\n",
    )


def test_archiver_web_serves_from_a_folder_without_gunicorn_conf(tmp_path: Path) -> None:
    port = free_port()
    argv = [*ARCHIVER, "web", "--port", str(port)]
    with running(argv, web_env(tmp_path), tmp_path, "web") as web:
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert web.alive(), f"archiver web exited {web.process.returncode}:\n{web.output}"
            try:
                return requests.get(f"{base}/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(ready, what="archiver web to answer /readyz 200", details=lambda: web.output)
        unauthorised = requests.post(f"{base}/webhooks/genesys", json=[], timeout=10)
        assert unauthorised.status_code == 401
        assert web.terminate() == 0
    # gunicorn with the packaged settings: its own lines as JSON, on the port asked for
    assert f'"msg": "Listening at: http://0.0.0.0:{port}' in web.output
    assert '"process": "web"' in web.output
    assert (tmp_path / "ledger.db").is_file()  # the web process creates the ledger at start


def test_archiver_web_without_inbound_token_exits_2_naming_it(tmp_path: Path) -> None:
    env = web_env(tmp_path)
    del env["INBOUND_TOKEN"]
    result = subprocess.run(
        [*ARCHIVER, "web", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "archiver web: INBOUND_TOKEN is required by the web process but is not set"
    ]


def test_archive_names_the_document_by_its_absolute_path(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path, ARCHIVER_DB="var/ledger.db", ARCHIVE_DIR="var/archive")
    result = subprocess.run(
        [*ARCHIVER, "archive", DEMO_FLOW_ID],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f" {tmp_path / 'var' / 'archive' / 'flow' / DEMO_FLOW_ID}/" in result.stdout
