"""Decision tables against the simulator over real HTTP (contract section 12): published
and superseded versions archived once with every row, drafts left until published, error
versions never, a deleted table a 404 that goes up for the pipeline's deletion check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from service.archive.gone import ObjectDeleted
from service.archive.pipeline import Archiver
from service.backoff import Backoff
from service.config import Settings
from service.errors import UpstreamError
from service.genesys import GenesysClient
from service.genesys.sources import Known
from service.genesys.sources.decision_table import DecisionTableSource
from service.genesys.sources.entries import iso_date
from service.ledger import Ledger
from service.simulator import DEMO_TABLE_ID, SimulatorServer

FAST = Backoff.exponential(0.01, cap=0.05, tries=5, full_jitter=True, max_retry_after=180.0)
SOURCE = DecisionTableSource()
VERSIONS = f"/api/v2/businessrules/decisiontables/{DEMO_TABLE_ID}/versions"


@pytest.fixture
def client(settings: Settings) -> Iterator[GenesysClient]:
    with GenesysClient.from_settings(settings, retry=FAST) as client:
        yield client


def control(sim: SimulatorServer, path: str, body: dict[str, Any] | None = None) -> Any:
    """A change through the simulator's control API (``/_sim/routing``)."""
    response = requests.post(f"{sim.url}/_sim/routing/{path}", json=body or {}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def archive_all(client: GenesysClient, table_id: str, known: Known) -> list[Any]:
    """What one run would archive: the new versions, each completed with its rows."""
    listing = SOURCE.list_versions(client, table_id, known=known)
    return [SOURCE.complete(client, table_id, version) for version in listing.versions]


def test_published_and_superseded_versions_with_every_row_in_order(
    simulator: SimulatorServer, client: GenesysClient
) -> None:
    listing = SOURCE.list_versions(client, DEMO_TABLE_ID)
    assert [v.version_id for v in listing.versions] == ["2", "1"]  # the draft 3 waits
    assert (listing.valid, listing.skipped, listing.complete) == (2, [], True)
    done = [SOURCE.complete(client, DEMO_TABLE_ID, v) for v in listing.versions]
    held = simulator.state.routing.versions(DEMO_TABLE_ID)
    assert held is not None
    for version in done:
        source = held[version.number - 1]
        rows = version.document["rows"]
        assert [row["rowIndex"] for row in rows] == list(range(1, source.doc["rowCount"] + 1))
        assert rows == source.rows
        assert {k: v for k, v in version.document.items() if k != "rows"} == source.doc
        assert version.created == iso_date(source.doc["dateCreated"])
        assert version.modified == iso_date(source.doc["dateModified"])
        assert version.author == source.doc["publishedBy"]["id"]
        assert not version.current
    assert [len(v.document["rows"]) for v in done] == [64, 60]
    strategy = SOURCE.describe(client, DEMO_TABLE_ID, done)
    assert (strategy.id, strategy.name, strategy.source_type) == (
        DEMO_TABLE_ID,
        "Queue selection by segment",
        "decision-table",
    )


def test_the_events_user_is_the_author(client: GenesysClient) -> None:
    known = Known(archived=frozenset({"1"}), author="Ada Lovelace")
    versions = SOURCE.list_versions(client, DEMO_TABLE_ID, known=known).versions
    assert [(v.version_id, v.author) for v in versions] == [("2", "Ada Lovelace")]


def test_a_draft_waits_then_is_archived_once_published(
    simulator: SimulatorServer, client: GenesysClient
) -> None:
    archived = frozenset({"1", "2"})
    assert archive_all(client, DEMO_TABLE_ID, Known(archived=archived)) == []

    control(simulator, f"decision-table/{DEMO_TABLE_ID}/publish")
    done = archive_all(client, DEMO_TABLE_ID, Known(archived=archived))
    assert [(v.version_id, v.document["status"]) for v in done] == [("3", "Published")]
    assert len(done[0].document["rows"]) == 65
    # Version 2, now superseded, was archived before: nothing more.
    assert archive_all(client, DEMO_TABLE_ID, Known(archived=archived | {"3"})) == []


def test_rows_over_several_pages(simulator: SimulatorServer, client: GenesysClient) -> None:
    control(simulator, f"decision-table/{DEMO_TABLE_ID}/publish")
    assert control(simulator, f"decision-table/{DEMO_TABLE_ID}/drafts", {"rows": 250}) == {
        "version": 4
    }
    control(simulator, f"decision-table/{DEMO_TABLE_ID}/publish")
    simulator.state.clear_requests()

    done = archive_all(client, DEMO_TABLE_ID, Known(archived=frozenset({"1", "2", "3"})))

    assert [v.version_id for v in done] == ["4"]
    rows = done[0].document["rows"]
    assert [row["rowIndex"] for row in rows] == list(range(1, 251))
    assert len({row["id"] for row in rows}) == 250
    paths = [r.path for r in simulator.state.requests if r.path.startswith("/api/v2")]
    assert paths.count(f"{VERSIONS}/4/rows") == 3  # 100 + 100 + 50
    assert paths.count(VERSIONS) == 1
    assert len(paths) == 4  # the listing and the row pages: the table itself is not read


def test_versions_listed_over_several_cursor_pages(
    simulator: SimulatorServer, client: GenesysClient
) -> None:
    for _ in range(100):
        control(simulator, f"decision-table/{DEMO_TABLE_ID}/publish")
        control(simulator, f"decision-table/{DEMO_TABLE_ID}/drafts", {"rows": 1})
    simulator.state.clear_requests()

    listing = SOURCE.list_versions(client, DEMO_TABLE_ID, known=Known(archived=frozenset()))

    assert [v.number for v in listing.versions] == list(range(102, 0, -1))  # 103 is a draft
    listed = [r for r in simulator.state.requests if r.path == VERSIONS]
    assert len(listed) == 2
    assert "after" in listed[1].query


def test_error_and_unknown_statuses_and_bad_entries(
    simulator: SimulatorServer, client: GenesysClient
) -> None:
    # Newest first: the draft 3, the published 2, the superseded 1.
    simulator.state.corrupt_next(VERSIONS, "entities.0.status", "Error")  # never, unreported
    simulator.state.corrupt_next(VERSIONS, "entities.1.status", "Archived")  # unknown
    simulator.state.corrupt_next(VERSIONS, "entities.2.dateCreated", "yesterday")

    listing = SOURCE.list_versions(client, DEMO_TABLE_ID)

    assert listing.versions == []
    assert [(s.version_id, s.reason) for s in listing.skipped] == [
        ("1", "dateCreated: must be an ISO-8601 date-time with a time zone"),
        ("2", "status: unknown value 'Archived'"),
    ]
    assert listing.all_bad


def test_a_version_without_dates_takes_the_tables(
    simulator: SimulatorServer, client: GenesysClient
) -> None:
    for name in ("dateCreated", "dateModified", "datePublished", "publishedBy", "createdBy"):
        simulator.state.corrupt_next(VERSIONS, f"entities.1.{name}", None)
    table = SOURCE.read(client, DEMO_TABLE_ID)
    held = simulator.state.routing.versions(DEMO_TABLE_ID)
    assert held is not None
    simulator.state.clear_requests()

    versions = SOURCE.list_versions(client, DEMO_TABLE_ID).versions

    assert versions[0].version_id == "2"
    assert versions[0].created == versions[0].modified == iso_date(table["dateModified"])
    assert versions[0].author is None
    assert versions[1].created == iso_date(held[0].doc["dateCreated"])
    # The table is read once, for the version that needs it.
    table_path = f"/api/v2/businessrules/decisiontables/{DEMO_TABLE_ID}"
    assert [r.path for r in simulator.state.requests] == [VERSIONS, table_path]


@pytest.mark.parametrize("answer", ["404", "410"])
def test_a_deleted_table_answers_404_or_410_to_every_read(
    simulator: SimulatorServer, client: GenesysClient, answer: str
) -> None:
    versions = SOURCE.list_versions(client, DEMO_TABLE_ID).versions
    assert control(simulator, f"decision-table/{DEMO_TABLE_ID}/delete", {"answer": answer}) == {
        "answer": answer
    }
    for read in (
        lambda: SOURCE.list_versions(client, DEMO_TABLE_ID),
        lambda: SOURCE.complete(client, DEMO_TABLE_ID, versions[0]),
        lambda: SOURCE.read(client, DEMO_TABLE_ID),
    ):
        with pytest.raises(UpstreamError) as caught:
            read()
        assert caught.value.status == int(answer)


def test_discovery_lists_every_table(simulator: SimulatorServer, client: GenesysClient) -> None:
    listed = [entry["id"] for entry in SOURCE.discover(client)]
    assert sorted(listed) == sorted(simulator.state.routing.ids("decision-table"))
    assert DEMO_TABLE_ID in listed


def test_through_the_pipeline_each_version_once_then_deleted(
    simulator: SimulatorServer, settings: Settings, client: GenesysClient, tmp_path: Path
) -> None:
    with Ledger(tmp_path / "ledger.db") as ledger:
        archiver = Archiver(settings, ledger, client, None)
        first = archiver.run(DEMO_TABLE_ID, "decision-table")
        assert first.archive is not None
        assert first.archive.version_ids == ("2", "1")
        assert first.strategy_name == "Queue selection by segment"
        assert archiver.run(DEMO_TABLE_ID, "decision-table").archive is None  # nothing new

        control(simulator, f"decision-table/{DEMO_TABLE_ID}/publish")
        third = archiver.run(DEMO_TABLE_ID, "decision-table")
        assert third.archive is not None
        assert third.archive.version_ids == ("3",)

        control(simulator, f"decision-table/{DEMO_TABLE_ID}/delete", {"answer": "404"})
        with pytest.raises(ObjectDeleted):
            archiver.run(DEMO_TABLE_ID, "decision-table")
