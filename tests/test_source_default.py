"""``flow`` is the default source wherever one is chosen; a 404 under one source says which
source was asked and suggests the other."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from service.archive import open_archiver
from service.archive.job import run_archive_job
from service.config import Settings
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import ADMIN_TOKEN, archiver, cli_env

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_archive_without_source_archives_a_flow(simulator: SimulatorServer, tmp_path: Path) -> None:
    result = archiver("archive", DEMO_FLOW_ID, env=cli_env(simulator, tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"archived flow {DEMO_FLOW_ID} ")


def test_a_routing_strategy_id_without_source_suggests_routing_strategy(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    result = archiver("archive", DEMO_STRATEGY_ID, env=cli_env(simulator, tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"archiver: Genesys Cloud has no flow {DEMO_STRATEGY_ID} (--source flow); "
        "if it is a routing strategy, use --source routing-strategy (Genesys Cloud answered 404"
    )


def test_a_flow_id_under_routing_strategy_suggests_flow(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    result = archiver(
        "archive", DEMO_FLOW_ID, "--source", "routing-strategy", env=env, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"archiver: Genesys Cloud has no routing strategy {DEMO_FLOW_ID} "
        "(--source routing-strategy); if it is a flow, use --source flow ("
    )


def test_admin_archive_request_without_source_type_is_for_a_flow(client: FlaskClient) -> None:
    answer = client.post("/archives", json={"strategyId": DEMO_FLOW_ID}, headers=AUTH)
    assert answer.status_code == 202
    job = client.get(f"/jobs/{answer.get_json()['jobId']}", headers=AUTH).get_json()
    assert job["sourceType"] == "flow"


def test_a_job_under_the_wrong_source_dies_with_the_same_hint(settings: Settings) -> None:
    """The worker's job path says it too: the dead job's error is what an admin reads."""
    with open_archiver(settings) as archiver:
        outcome = run_archive_job(archiver, DEMO_STRATEGY_ID, "flow")
    assert not outcome.ok and not outcome.retryable
    assert outcome.error is not None
    assert outcome.error.startswith(
        f"Genesys Cloud has no flow {DEMO_STRATEGY_ID} (--source flow); "
        "if it is a routing strategy, use --source routing-strategy ("
    )
