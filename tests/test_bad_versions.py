"""One bad version entry never blocks a flow (contract section 3).

Bad entries are made in the simulator through ``/_sim`` over real HTTP; the archiver reads
them over real HTTP, in process (to read its metric) and through the ``archiver`` command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client import REGISTRY

from service.archive import Archiver, open_archiver
from service.archive.job import run_archive_job
from service.config import Settings
from service.errors import ValidationFailed
from service.genesys.sources import Version, version_order
from service.ledger import Ledger, archives, queries, skipped
from service.simulator import SimulatorServer
from tests.helpers import archiver as archiver_cli
from tests.helpers import cli_env

MISSING_DATE = "dateCreated: required field"
NO_NUMBER = "id: 'draft' has no leading integer to number the version by"


def add_version(sim: SimulatorServer, flow_id: str, **body: Any) -> str:
    """Make one version through ``/_sim`` (``versionId``, ``missing``); its id."""
    answer = requests.post(f"{sim.url}/_sim/strategies/{flow_id}/versions", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    (made,) = answer.json()["versionIds"]
    return str(made)


def new_flow(sim: SimulatorServer, versions: int) -> str:
    body = {"sourceType": "flow", "versions": versions, "name": "Odd flow"}
    answer = requests.post(f"{sim.url}/_sim/strategies", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def skipped_metric() -> float:
    value = REGISTRY.get_sample_value("archiver_skipped_versions_total", {"kind": "flow"})
    return value or 0.0


def stored(archiver: Archiver, location: str) -> dict[str, Any]:
    return dict(json.loads((archiver.settings.archive_dir / location).read_bytes()))


@pytest.fixture
def archiver(settings: Settings) -> Iterator[Archiver]:
    with open_archiver(settings) as built:
        yield built


@pytest.fixture
def odd_flow(simulator: SimulatorServer) -> str:
    """A flow listing 1.0, 2.0, 3.0-debug (fine), 4.0 without a date and "draft" (bad)."""
    flow_id = new_flow(simulator, 2)
    assert add_version(simulator, flow_id, versionId="3.0-debug") == "3.0-debug"
    assert add_version(simulator, flow_id, missing=["dateCreated"]) == "4.0"
    assert add_version(simulator, flow_id, versionId="draft") == "draft"
    return flow_id


def test_bad_entries_are_left_out_recorded_and_counted(archiver: Archiver, odd_flow: str) -> None:
    before = skipped_metric()

    run = archiver.run(odd_flow, "flow")

    assert run.archive is not None and run.created
    payload = stored(archiver, run.archive.location)
    matrix = [(row["versionId"], row["versionNumber"]) for row in payload["versionMatrix"]]
    assert matrix == [("3.0-debug", 3), ("2.0", 2), ("1.0", 1)]
    assert [v["id"] for v in payload["versions"]] == ["3.0-debug", "2.0", "1.0"]
    assert [(s.version_id, s.reason) for s in run.skipped] == [
        ("4.0", MISSING_DATE),
        ("draft", NO_NUMBER),
    ]
    assert skipped_metric() == before + 2
    assert len(queries.list_strategies(archiver.ledger, strategy_id=odd_flow)) == 1
    held = skipped.skipped_versions(archiver.ledger, [odd_flow])[odd_flow]
    assert [(s["versionId"], s["reason"], s["times"]) for s in held] == [
        ("4.0", MISSING_DATE, 1),
        ("draft", NO_NUMBER, 1),
    ]
    audited = [
        e
        for e in queries.list_audit(archiver.ledger, subject=odd_flow)
        if e.action == "version.skipped"
    ]
    assert sorted(e.detail["versionId"] for e in audited) == ["4.0", "draft"]

    # Tried again on the next run: still bad, still left out, counted again, audited once.
    again = archiver.run(odd_flow, "flow")
    assert again.archive is None and len(again.skipped) == 2
    assert skipped_metric() == before + 4
    held = skipped.skipped_versions(archiver.ledger, [odd_flow])[odd_flow]
    assert [s["times"] for s in held] == [2, 2]
    audited = [
        e
        for e in queries.list_audit(archiver.ledger, subject=odd_flow)
        if e.action == "version.skipped"
    ]
    assert len(audited) == 2


def test_an_entry_bad_once_is_archived_on_the_next_run(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    flow_id = new_flow(simulator, 3)
    path = f"/api/v2/flows/{flow_id}/versions"
    simulator.state.corrupt_next(path, field="entities.0.dateCreated", value="yesterday")

    first = archiver.run(flow_id, "flow")

    assert first.archive is not None
    (bad,) = first.skipped
    assert bad.reason == "dateCreated: must be of integer type"
    assert bad.version_id not in first.archive.version_ids
    assert (
        skipped.skipped_versions(archiver.ledger, [flow_id])[flow_id][0]["versionId"]
        == bad.version_id
    )

    second = archiver.run(flow_id, "flow")

    assert second.archive is not None and second.archive.version_ids == (bad.version_id,)
    assert second.skipped == []
    assert skipped.skipped_versions(archiver.ledger, [flow_id]) == {}


def test_every_entry_bad_archives_nothing_and_fails_naming_them(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    flow_id = new_flow(simulator, 0)
    add_version(simulator, flow_id, missing=["dateCreated"])
    add_version(simulator, flow_id, versionId="draft")

    with pytest.raises(ValidationFailed) as caught:
        archiver.run(flow_id, "flow")

    assert str(caught.value) == (
        f"every version entry of flow {flow_id} is malformed: "
        f"1.0: {MISSING_DATE}; draft: {NO_NUMBER}"
    )
    assert archives.list_archives(archiver.ledger, strategy_id=flow_id) == []
    assert not (archiver.settings.archive_dir / "flow" / flow_id).exists()
    held = skipped.skipped_versions(archiver.ledger, [flow_id])[flow_id]
    assert [s["versionId"] for s in held] == ["1.0", "draft"]


# The command line --------------------------------------------------------------------------


def test_archive_exits_0_naming_the_entries_left_out(
    simulator: SimulatorServer, odd_flow: str, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)

    result = archiver_cli("archive", odd_flow, "--source", "flow", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f'archived flow {odd_flow} "Odd flow": 3 version(s)')
    assert result.stderr.splitlines() == [
        f"archiver: left out version 4.0 of flow {odd_flow}: {MISSING_DATE}",
        f"archiver: left out version draft of flow {odd_flow}: {NO_NUMBER}",
    ]

    listed = archiver_cli("ledger", "strategies", "--json", env=env, cwd=tmp_path)
    (row,) = json.loads(listed.stdout)
    assert [(s["versionId"], s["reason"]) for s in row["skipped"]] == [
        ("4.0", MISSING_DATE),
        ("draft", NO_NUMBER),
    ]
    table = archiver_cli("ledger", "strategies", env=env, cwd=tmp_path).stdout.splitlines()
    assert table[0].endswith("NAME      SKIPPED")
    assert f"Odd flow  2: 4.0 ({MISSING_DATE}); draft (id: 'draft' has no" in table[1]


def test_archive_exits_1_when_every_entry_is_bad(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    flow_id = new_flow(simulator, 0)
    add_version(simulator, flow_id, missing=["dateCreated"])
    env = cli_env(simulator, tmp_path)

    result = archiver_cli("archive", flow_id, "--source", "flow", env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"archiver: every version entry of flow {flow_id} is malformed: 1.0: {MISSING_DATE}\n"
    )
    assert not (tmp_path / "archive" / "flow" / flow_id).exists()
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert archives.list_archives(ledger, strategy_id=flow_id) == []
        assert [s["versionId"] for s in skipped.skipped_versions(ledger, [flow_id])[flow_id]] == [
            "1.0"
        ]


# Ordering ----------------------------------------------------------------------------------


def _version(version_id: str, number: int) -> Version:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return Version(version_id, number, moment, moment, None, {"id": version_id})


def test_any_ids_order_by_number_then_the_rest() -> None:
    ids = ["3.0-debug", "10.0", "3.10", "2.0", "3.9", "3.0", "10", "3.0-a", "3"]
    versions = [_version(i, int(i.split(".")[0].split("-")[0])) for i in ids]

    ordered = [v.version_id for v in sorted(versions, key=version_order)]

    assert ordered == ["2.0", "3", "3.0", "3.0-a", "3.0-debug", "3.9", "3.10", "10", "10.0"]
    assert [v.version_id for v in sorted(reversed(versions), key=version_order)] == ordered


def test_a_shuffled_listing_is_archived_newest_first(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    flow_id = new_flow(simulator, 12)
    listed = requests.get(
        f"{simulator.url}/api/v2/flows/{flow_id}/versions",
        headers={"Authorization": f"Bearer {simulator.state.issue_token()}"},
        timeout=5,
    ).json()["entities"]
    numbers = [int(float(v["id"])) for v in listed]
    assert sorted(numbers) == list(range(1, 13)) and numbers != sorted(numbers, reverse=True)

    run = archiver.run(flow_id, "flow")

    assert run.archive is not None
    payload = stored(archiver, run.archive.location)
    assert [row["versionNumber"] for row in payload["versionMatrix"]] == list(range(12, 0, -1))


# Routing strategies and jobs ---------------------------------------------------------------


def test_a_bad_routing_version_is_left_out_too(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    strategy_id = simulator.state.add_strategy("routing-strategy", versions=3)
    path = f"/api/v2/routing/strategies/{strategy_id}/versions"
    simulator.state.corrupt_next(path, field="items.0.createdDate", value=12)

    run = archiver.run(strategy_id, "routing-strategy")

    assert run.archive is not None and len(run.archive.version_ids) == 2
    (bad,) = run.skipped
    assert bad.reason == "createdDate: must be of string type"
    assert bad.version_id not in run.archive.version_ids


def test_a_partial_listing_clears_only_the_entries_it_saw_pass(tmp_path: Path) -> None:
    sid = "0b0e4a4c-4c6a-4f7e-9d3b-7a1f2e3d4c5b"
    with Ledger(tmp_path / "ledger.db") as ledger:
        skipped.record_skipped(ledger, sid, "routing-strategy", [("a", "bad a"), ("b", "bad b")])
        # A routing listing that stopped early saw neither again: both stay; "a" passed now.
        skipped.record_skipped(ledger, sid, "routing-strategy", [], complete=False, passed=["a"])
        assert [s["versionId"] for s in skipped.skipped_versions(ledger, [sid])[sid]] == ["b"]
        # A complete listing without "b": it is gone from Genesys, or fixed.
        skipped.record_skipped(ledger, sid, "routing-strategy", [], complete=True)
        assert skipped.skipped_versions(ledger, [sid]) == {}


def test_a_job_whose_every_entry_is_bad_fails_without_retrying(
    archiver: Archiver, simulator: SimulatorServer
) -> None:
    flow_id = new_flow(simulator, 0)
    add_version(simulator, flow_id, missing=["dateCreated"])

    outcome = run_archive_job(archiver, flow_id, "flow")

    assert not outcome.ok and not outcome.retryable
    assert outcome.error == (
        f"every version entry of flow {flow_id} is malformed: 1.0: {MISSING_DATE}"
    )
