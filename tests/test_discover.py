"""``archiver sweep --discover`` against a plain org: a listing that fails is reported on one
line and the others go on; deleted flows are not queued; progress only on a terminal."""

from __future__ import annotations

import json
from pathlib import Path

from service.simulator import SimulatorServer
from tests.helpers import archiver, archiver_on_terminal, cli_env


def queued(env: dict[str, str], cwd: Path) -> list[tuple[str, str]]:
    """(source type, id) of every job in the ledger, as ``archiver ledger jobs`` lists them."""
    listed = archiver("ledger", "jobs", "--json", "--limit", "0", env=env, cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    return sorted((j["sourceType"], j["strategyId"]) for j in json.loads(listed.stdout))


def test_a_failing_routing_listing_is_reported_and_flows_are_queued(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.state.inject_fault(404, times=5, path="/api/v2/routing/strategies")
    env = cli_env(simulator, tmp_path, SOURCES="flow,routing-strategy")  # a plain org's

    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()  # one line, and no progress off a terminal
    assert line.startswith(
        "archiver: routing-strategy listing failed, skipped: Genesys Cloud answered 404"
    )
    assert line.endswith("(a plain Genesys Cloud org has no routing strategies)")
    flows = simulator.state.strategy_ids("flow")
    assert f"discovered {len(flows)} flow(s) and 0 routing strategy(ies)" in result.stdout
    assert queued(env, tmp_path) == sorted(("flow", f) for f in flows)


def test_a_failing_flow_listing_does_not_stop_the_others(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.state.inject_fault(500, times=1, path="/api/v2/flows")
    env = cli_env(simulator, tmp_path, SOURCES="flow,routing-strategy")

    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)

    assert result.returncode == 1  # a failure, not an absent listing: said once the rest is done
    (line,) = result.stderr.splitlines()
    assert line.startswith("archiver: flow listing failed, skipped: Genesys Cloud answered 500")
    strategies = simulator.state.strategy_ids("routing-strategy")
    assert queued(env, tmp_path) == sorted(("routing-strategy", s) for s in strategies)


def test_every_listing_failing_exits_1(simulator: SimulatorServer, tmp_path: Path) -> None:
    simulator.state.inject_fault(403, times=5, path="/api/v2/")
    env = cli_env(simulator, tmp_path, SOURCES="flow,routing-strategy")
    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 2
    assert "sweep: 0 strategies" in result.stdout


def test_deleted_flows_are_not_queued(simulator: SimulatorServer, tmp_path: Path) -> None:
    flows = sorted(simulator.state.strategy_ids("flow"))
    simulator.state.delete_flow(flows[0])  # the listing leaves it out (deleted=false)
    # A listing entry that says it is deleted (as deleted=true listings show them).
    simulator.state.corrupt_next("/api/v2/flows", "entities.0.deleted", True)
    env = cli_env(simulator, tmp_path)

    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    jobs = [strategy_id for source, strategy_id in queued(env, tmp_path) if source == "flow"]
    assert jobs == flows[2:]


def test_discovery_draws_progress_on_a_terminal(simulator: SimulatorServer, tmp_path: Path) -> None:
    result, drawn = archiver_on_terminal(
        "sweep", "--discover", env=cli_env(simulator, tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0
    assert b"listing flows" in drawn and b"listing routing strategies" in drawn
    assert "discovered" in result.stdout
