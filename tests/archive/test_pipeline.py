"""Archiving end to end against the simulator and a local archival endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.archive import Archiver, open_archiver
from service.archive.submit import ArchivalClient
from service.backoff import Backoff
from service.config import Settings
from service.errors import UpstreamError, UsageError
from service.genesys.client import GenesysClient
from service.ledger import Ledger, Submission, archives
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from tests.helpers import make_settings

FAST = Backoff.exponential(0.01, cap=0.05, tries=3, full_jitter=True, max_retry_after=180.0)


@pytest.fixture
def sink() -> Iterator[ArchivalSink]:
    with ArchivalSink() as server:
        yield server


@pytest.fixture
def archiver(simulator: SimulatorServer, sink: ArchivalSink, tmp_path: Path) -> Iterator[Archiver]:
    settings = make_settings(simulator, tmp_path, ARCHIVAL_ENDPOINT=sink.url)
    with _archiver(settings) as built:
        yield built


@contextmanager
def _archiver(settings: Settings) -> Iterator[Archiver]:
    genesys = GenesysClient.from_settings(settings, retry=FAST)
    archival = ArchivalClient.from_settings(settings, retry=FAST)
    with Ledger(settings.archiver_db) as ledger:
        yield Archiver(settings, ledger, genesys, archival)


def stored_bytes(archiver: Archiver, location: str) -> bytes:
    return (archiver.settings.archive_dir / location).read_bytes()


def test_routing_strategy_is_stored_recorded_and_submitted(
    archiver: Archiver, sink: ArchivalSink
) -> None:
    run = archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    assert run.created and run.archive is not None
    archive = run.archive
    assert archive.submission is Submission.SUBMITTED
    document = stored_bytes(archiver, archive.location)
    payload = json.loads(document)
    assert payload["strategyId"] == DEMO_STRATEGY_ID
    assert payload["sourceType"] == "routing-strategy"
    assert payload["idempotencyKey"] == archive.idempotency_key
    assert len(payload["versionMatrix"]) == len(payload["versions"]) == len(archive.version_ids)
    (received,) = sink.state.received
    assert received.key == archive.idempotency_key
    assert received.body == document
    assert archives.archived_version_ids(archiver.ledger, DEMO_STRATEGY_ID) == set(
        archive.version_ids
    )


def test_flow_versions_carry_their_configuration(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    run = archiver.run(DEMO_FLOW_ID, "flow")
    assert run.archive is not None
    payload = json.loads(stored_bytes(archiver, run.archive.location))
    for document, row in zip(payload["versions"], payload["versionMatrix"], strict=True):
        assert document["id"] == row["versionId"]
        assert isinstance(document["configuration"], dict)
        assert row["versionNumber"] == int(float(document["id"]))
        assert row["createdDate"].endswith("Z")
    config_calls = [r for r in simulator.state.requests if r.path.endswith("/configuration")]
    assert len(config_calls) == len(payload["versions"])


def test_second_run_with_no_new_versions_submits_nothing(
    archiver: Archiver, sink: ArchivalSink, simulator: SimulatorServer
) -> None:
    archiver.run(DEMO_FLOW_ID, "flow")
    simulator.state.clear_requests()
    run = archiver.run(DEMO_FLOW_ID, "flow")
    assert run.archive is None
    assert len(sink.state.received) == 1
    assert not [r for r in simulator.state.requests if r.path.endswith("/configuration")]
    assert len(archives.list_archives(archiver.ledger)) == 1


def test_only_new_versions_are_archived_next_time(
    archiver: Archiver, simulator: SimulatorServer, sink: ArchivalSink
) -> None:
    first = archiver.run(DEMO_STRATEGY_ID, "routing-strategy").archive
    new = simulator.state.add_versions(DEMO_STRATEGY_ID, 2)
    second = archiver.run(DEMO_STRATEGY_ID, "routing-strategy").archive
    assert first is not None and second is not None
    assert sorted(second.version_ids) == sorted(new)
    assert first.idempotency_key != second.idempotency_key
    assert len(sink.state.stored) == 2


def test_full_reuses_the_key_and_sends_the_stored_bytes_again(
    archiver: Archiver, sink: ArchivalSink
) -> None:
    first = archiver.run(DEMO_FLOW_ID, "flow").archive
    again = archiver.run(DEMO_FLOW_ID, "flow", full=True)
    assert first is not None and again.archive is not None
    assert again.archive.idempotency_key == first.idempotency_key
    assert not again.created
    assert [r.status for r in sink.state.received] == [201, 409]
    assert sink.state.received[0].body == sink.state.received[1].body
    assert len(list(archiver.settings.archive_dir.rglob("*.json"))) == 1


def test_key_is_the_same_on_another_machine(simulator: SimulatorServer, tmp_path: Path) -> None:
    keys = []
    for machine in ("one", "two"):
        settings = make_settings(simulator, tmp_path / machine)
        with open_archiver(settings) as archiver:
            run = archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
            assert run.archive is not None
            assert run.archive.submission is Submission.LOCAL
            keys.append(run.archive.idempotency_key)
    assert keys[0] == keys[1]


def test_409_from_the_endpoint_counts_as_archived(archiver: Archiver, sink: ArchivalSink) -> None:
    sink.state.fail_next(409, message="already have it")
    run = archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    assert run.archive is not None
    assert run.archive.submission is Submission.SUBMITTED
    assert archives.pending_submissions(archiver.ledger) == []


def test_422_fails_with_the_endpoint_message(archiver: Archiver, sink: ArchivalSink) -> None:
    sink.state.fail_next(422, message="versionMatrix: unknown schema revision")
    with pytest.raises(UpstreamError, match="versionMatrix: unknown schema revision"):
        archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    (archive,) = archives.list_archives(archiver.ledger)
    assert archive.submission is Submission.REJECTED
    assert archive.submission_detail == "422 versionMatrix: unknown schema revision"


def test_endpoint_down_leaves_the_archive_pending_for_the_next_run(
    archiver: Archiver, sink: ArchivalSink
) -> None:
    sink.state.fail_next(503, times=3)
    with pytest.raises(UpstreamError, match="after 3 tries"):
        archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    (pending,) = archives.pending_submissions(archiver.ledger)
    run = archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
    assert [a.id for a in run.finished] == [pending.id]
    assert run.finished[0].submission is Submission.SUBMITTED
    assert run.archive is None
    assert list(sink.state.stored) == [pending.idempotency_key]


def test_a_stored_but_unrecorded_document_is_adopted_not_rebuilt(
    simulator: SimulatorServer, sink: ArchivalSink, tmp_path: Path
) -> None:
    plain = make_settings(simulator, tmp_path)
    with open_archiver(plain) as archiver:
        first = archiver.run(DEMO_STRATEGY_ID, "routing-strategy").archive
    assert first is not None
    original = (plain.archive_dir / first.location).read_bytes()
    plain.archiver_db.unlink()  # as if the run died after storing, before recording
    settings = make_settings(simulator, tmp_path, ARCHIVAL_ENDPOINT=sink.url)
    with _archiver(settings) as archiver:
        run = archiver.run(DEMO_STRATEGY_ID, "routing-strategy")
        (adopted,) = archives.list_archives(archiver.ledger)
    assert run.archive is None  # nothing new: the adopted archive holds every version
    assert adopted.idempotency_key == first.idempotency_key
    assert adopted.submission is Submission.SUBMITTED
    assert (plain.archive_dir / first.location).read_bytes() == original
    assert sink.state.received[0].body == original


def test_non_uuid_id_is_refused_before_any_call(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    with pytest.raises(UsageError, match="strategy id must be a UUID"):
        archiver.run("strategy-42", "flow")
    assert simulator.state.requests == []


def test_unknown_strategy_fails_naming_the_status(archiver: Archiver) -> None:
    with pytest.raises(UpstreamError, match="404"):
        archiver.run("00000000-0000-4000-8000-00000000abcd", "routing-strategy")
    assert archives.list_archives(archiver.ledger) == []


def test_500_versions_within_the_call_budget(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    simulator.state.rate_limit.configure(allowed=1000)  # 511 calls in one window: no pacing wait
    strategy = simulator.state.add_strategy("routing-strategy", versions=500)
    flow = simulator.state.add_strategy("flow", versions=500)
    simulator.state.clear_requests()
    run = archiver.run(strategy, "routing-strategy")
    assert run.archive is not None and len(run.archive.version_ids) == 500
    assert simulator.state.api_calls() <= 1 + 5
    simulator.state.clear_requests()
    run = archiver.run(flow, "flow")
    assert run.archive is not None and len(run.archive.version_ids) == 500
    assert simulator.state.api_calls() <= 5 + 500
