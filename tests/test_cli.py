"""The ``archiver`` command line as a person runs it: exit codes and messages."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import requests

from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from tests.helpers import ARCHIVER, archiver, archiver_on_terminal, cli_env

ROUTING = "routing-strategy"


def test_archive_prints_one_summary_line(simulator: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(simulator, tmp_path)
    result = archiver("archive", DEMO_FLOW_ID, "--source", "flow", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"archived flow {DEMO_FLOW_ID} ")
    assert " version(s) in archive " in line and " (key " in line
    assert str(tmp_path / "archive" / "flow" / DEMO_FLOW_ID) in line
    assert result.stderr == ""  # no progress drawn when stderr is not a terminal
    again = archiver("archive", DEMO_FLOW_ID, "--source", "flow", env=env, cwd=tmp_path)
    assert again.stdout.strip() == f"flow {DEMO_FLOW_ID}: no new versions to archive"


def test_non_uuid_id_exits_2_before_any_request(simulator: SimulatorServer, tmp_path: Path) -> None:
    result = archiver("archive", "../../etc", env=cli_env(simulator, tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("archiver: strategy id must be a UUID, or a unique prefix")
    assert result.stderr.strip().endswith(
        f"got '../../etc'; there is no ledger at {tmp_path / 'ledger.db'} (ARCHIVER_DB)"
    )
    assert simulator.state.requests == []


def test_an_id_with_a_final_newline_exits_2_like_the_admin_api_refuses_it(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    result = archiver("archive", f"{DEMO_FLOW_ID}\n", "--source", "flow", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("archiver: strategy id must be a UUID, or a unique prefix")
    assert f"got '{DEMO_FLOW_ID}\\n'; there is no ledger at" in result.stderr
    assert simulator.state.requests == []
    listing = archiver("ledger", "jobs", "--strategy", f"{DEMO_FLOW_ID}\n", env=env, cwd=tmp_path)
    assert listing.returncode == 2
    assert "strategy id must be a UUID" in listing.stderr


def test_missing_credentials_exit_2_naming_the_variable(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    del env["GENESYS_CLIENT_SECRET"]
    result = archiver("archive", DEMO_STRATEGY_ID, "--source", ROUTING, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "GENESYS_CLIENT_SECRET is required" in result.stderr
    assert simulator.state.requests == []


def test_refused_archive_exits_1_with_the_endpoint_message(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    with ArchivalSink() as sink:
        sink.state.fail_next(422, message="retentionPolicy.maxVersions exceeds quota")
        env = cli_env(simulator, tmp_path, ARCHIVAL_ENDPOINT=sink.url)
        result = archiver("archive", DEMO_STRATEGY_ID, "--source", ROUTING, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "retentionPolicy.maxVersions exceeds quota" in result.stderr
    assert "test-secret-value" not in result.stderr + result.stdout


def test_genesys_failure_exits_1_with_a_clear_message(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.state.inject_fault(500, times=10, path="/api/v2/routing")
    env = cli_env(simulator, tmp_path)
    result = archiver("archive", DEMO_STRATEGY_ID, "--source", ROUTING, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("archiver: ")
    assert "500" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_progress_is_drawn_on_a_terminal(simulator: SimulatorServer, tmp_path: Path) -> None:
    strategy = simulator.state.add_strategy("flow", versions=30)
    result, drawn = archiver_on_terminal(
        "archive", strategy, "--source", "flow", env=cli_env(simulator, tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0
    screen = drawn.decode()
    assert "fetching versions" in screen
    assert "30/30" in screen
    assert result.stdout.startswith(f"archived flow {strategy} ")


def test_simulate_prints_its_url_and_serves(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        [*ARCHIVER, "simulate", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()
        assert first == f"Genesys Cloud simulator listening on http://127.0.0.1:{port}"
        token = requests.post(
            f"http://127.0.0.1:{port}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("any-client", "any-secret"),
            timeout=10,
        )
        assert token.status_code == 200
        assert token.json()["token_type"] == "bearer"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()
