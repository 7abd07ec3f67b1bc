"""Deleted objects as an archive run meets them, against the simulator over HTTP: only the
object's own GET says "deleted", only for an object the ledger knows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.archive import Archiver
from service.archive.gone import ObjectDeleted
from service.backoff import Backoff
from service.errors import UpstreamError
from service.genesys.client import GenesysClient
from service.ledger import Ledger, archives, deletions
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import make_settings

FAST = Backoff.exponential(0.01, cap=0.05, tries=2, full_jitter=True, max_retry_after=180.0)
FLOW = "flow"


@pytest.fixture
def archiver(simulator: SimulatorServer, tmp_path: Path) -> Iterator[Archiver]:
    settings = make_settings(simulator, tmp_path)
    genesys = GenesysClient.from_settings(settings, retry=FAST)
    with Ledger(settings.archiver_db) as ledger:
        yield Archiver(settings, ledger, genesys, None)
    genesys.close()


def test_a_known_flow_answering_410_is_deleted_and_its_archives_stay(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    first = archiver.run(DEMO_FLOW_ID, FLOW)
    assert first.archive is not None
    simulator.state.delete_flow(DEMO_FLOW_ID)
    with pytest.raises(ObjectDeleted) as raised:
        archiver.run(DEMO_FLOW_ID, FLOW)
    assert "410 architect.flow.deleted" in str(raised.value)
    assert [a.id for a in archives.list_archives(archiver.ledger)] == [first.archive.id]
    # The versions answered 404; only then was the flow itself asked.
    asked = [r.path for r in simulator.state.requests if r.status in (404, 410)]
    assert asked == [
        f"/api/v2/flows/{DEMO_FLOW_ID}/versions",
        f"/api/v2/flows/{DEMO_FLOW_ID}",
    ]


def test_a_404_for_an_id_nobody_saw_stays_a_failure(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    simulator.state.delete_flow(DEMO_FLOW_ID)
    with pytest.raises(UpstreamError) as raised:
        archiver.run(DEMO_FLOW_ID, FLOW)
    assert raised.value.status == 404
    assert deletions.deletion(archiver.ledger, DEMO_FLOW_ID, FLOW) is None


def test_a_404_under_a_flow_that_is_there_stays_a_failure(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    archiver.run(DEMO_FLOW_ID, FLOW)
    simulator.state.add_versions(DEMO_FLOW_ID)
    simulator.state.inject_fault(404, path=f"/api/v2/flows/{DEMO_FLOW_ID}/versions/")
    with pytest.raises(UpstreamError) as raised:
        archiver.run(DEMO_FLOW_ID, FLOW)
    assert raised.value.status == 404


def test_a_marked_object_is_read_again_only_once_genesys_answers_for_it(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    archiver.run(DEMO_FLOW_ID, FLOW)
    simulator.state.delete_flow(DEMO_FLOW_ID)
    deletions.mark_deleted(archiver.ledger, DEMO_FLOW_ID, FLOW, reason="audit Delete")
    simulator.state.clear_requests()
    with pytest.raises(ObjectDeleted):  # a stale event's job: one GET, nothing listed
        archiver.run(DEMO_FLOW_ID, FLOW)
    paths = [r.path for r in simulator.state.requests if r.path.startswith("/api/v2")]
    assert paths == [f"/api/v2/flows/{DEMO_FLOW_ID}"]

    simulator.state.restore_flow(DEMO_FLOW_ID)
    (version,) = simulator.state.add_versions(DEMO_FLOW_ID)
    run = archiver.run(DEMO_FLOW_ID, FLOW)
    assert run.archive is not None and run.archive.version_ids == (version,)
    assert deletions.deletion(archiver.ledger, DEMO_FLOW_ID, FLOW) is None


def test_a_routing_strategy_described_as_deleted_is_deleted(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    simulator.state.add_versions(DEMO_STRATEGY_ID)
    simulator.state.inject_fault(404, path=f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/")
    simulator.state.corrupt_next(
        f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}", "state", "deleted"
    )
    with pytest.raises(ObjectDeleted) as raised:
        archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    assert "as deleted" in str(raised.value)
