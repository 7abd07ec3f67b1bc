"""The registry of sources and the ``SOURCES`` setting (contract sections 2 and 12): an
unknown name stops a process at start naming the variable; events of a source left out
are recorded and ignored, the sweep and discovery pass it over, the admin API refuses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.app import create_app, read_settings
from service.errors import ConfigError
from service.genesys import GenesysClient
from service.genesys.sources import SOURCE_TYPES, enabled_types, source_for
from service.ledger import Ledger, jobs
from service.ledger import events as ledger_events
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from service.sweep import discover, sweep_known
from tests.helpers import ADMIN_TOKEN, INBOUND_TOKEN, archiver, cli_env, make_settings, web_config

SAMPLES = Path(__file__).resolve().parents[2] / "inbound" / "samples"


def test_every_name_has_its_source_and_the_flow_comes_first() -> None:
    assert SOURCE_TYPES[:2] == ("flow", "routing-strategy")
    assert len(set(SOURCE_TYPES)) == len(SOURCE_TYPES)
    for name in SOURCE_TYPES:
        assert source_for(name).source_type == name


def test_sources_keeps_the_registrys_order_and_defaults_to_all() -> None:
    assert enabled_types(None) == SOURCE_TYPES
    assert enabled_types(["routing-strategy", "flow"]) == ("flow", "routing-strategy")
    assert enabled_types(["routing-strategy", ""]) == ("routing-strategy",)


@pytest.mark.parametrize(
    ("value", "words"),
    [("flow,queues", "unknown source type 'queues'"), (" , ", "names no source type")],
)
def test_an_unknown_or_empty_sources_list_is_a_config_error_naming_the_variable(
    tmp_path: Path, value: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        read_settings(web_config(tmp_path, SOURCES=value))
    assert str(caught.value).startswith("SOURCES is invalid: ")
    assert words in str(caught.value)


def test_read_settings_gives_the_enabled_types(tmp_path: Path) -> None:
    assert read_settings(web_config(tmp_path)).sources == SOURCE_TYPES
    given = read_settings(web_config(tmp_path, SOURCES=" routing-strategy , flow"))
    assert given.sources == ("flow", "routing-strategy")


def test_the_command_line_stops_with_exit_2_naming_sources(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path, SOURCES="flow,bogus")
    done = archiver("sweep", env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "SOURCES" in lines[0] and "'bogus'" in lines[0]
    assert not (tmp_path / "ledger.db").exists()


def _routing_strategy_event() -> dict[str, object]:
    doc = json.loads((SAMPLES / "notification-routing-strategy.json").read_text())
    doc["topicName"] = f"v2.routing.strategies.{DEMO_STRATEGY_ID}"
    doc["eventBody"]["id"] = DEMO_STRATEGY_ID
    return doc


def test_events_of_a_source_left_out_are_recorded_and_ignored(tmp_path: Path) -> None:
    client = create_app(web_config(tmp_path, SOURCES="flow")).test_client()
    answer = client.post(
        "/webhooks/genesys",
        json=_routing_strategy_event(),
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
    )
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["ignored"] == 1
    with Ledger(tmp_path / "ledger.db") as ledger:
        (event,) = ledger_events.list_events(ledger)
        assert (event["source_type"], event["outcome"]) == ("routing-strategy", "ignored")
        assert "SOURCES" in event["reason"]
        assert jobs.list_jobs(ledger, limit=None) == []


def test_the_same_event_starts_a_job_when_its_source_is_enabled(tmp_path: Path) -> None:
    client = create_app(web_config(tmp_path, SOURCES="routing-strategy")).test_client()
    answer = client.post(
        "/webhooks/genesys",
        json=_routing_strategy_event(),
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
    )
    assert answer.status_code == 202
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert [j.source_type for j in jobs.list_jobs(ledger, limit=None)] == ["routing-strategy"]


def test_the_admin_api_refuses_a_source_left_out(tmp_path: Path) -> None:
    client = create_app(web_config(tmp_path, SOURCES="flow")).test_client()
    answer = client.post(
        "/archives",
        json={"strategyId": DEMO_STRATEGY_ID, "sourceType": "routing-strategy"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status_code == 422
    assert "SOURCES" in answer.get_json()["fields"]["sourceType"][0]


def test_discovery_and_the_sweep_pass_a_source_left_out_over(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(simulator, tmp_path, SOURCES="flow")
    enabled = enabled_types(settings.sources)
    simulator.state.clear_requests()
    with GenesysClient.from_settings(settings) as client:
        found = discover(client, enabled=enabled)
    paths = {r.path for r in simulator.state.requests}
    assert "/api/v2/flows" in paths
    assert not any(path.startswith("/api/v2/routing/strategies") for path in paths)
    assert found.routing_strategies == [] and (DEMO_FLOW_ID, "flow") in found.flows
    with Ledger.from_settings(settings) as ledger:
        known = [(DEMO_FLOW_ID, "flow"), (DEMO_STRATEGY_ID, "routing-strategy")]
        result = sweep_known(ledger, known, enabled=enabled)
        queued = {(j.strategy_id, j.source_type) for j in jobs.list_jobs(ledger, limit=None)}
    assert result.queued == 1
    assert queued == {(DEMO_FLOW_ID, "flow")}


def test_archiving_a_source_left_out_exits_2_naming_sources(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path, SOURCES="flow")
    done = archiver(
        "archive", DEMO_STRATEGY_ID, "--source", "routing-strategy", env=env, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert "SOURCES" in done.stderr
    assert simulator.state.api_calls() == 0
