"""Finding an archived version's document from the ledger and cold storage, archived for
real from the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from service.archive import open_archiver
from service.config import Settings
from service.errors import StorageError, UsageError
from service.history.commits import version_changes
from service.history.documents import ArchivedVersion, VersionNotFound, archived_version
from service.history.layout import normalise, tree_path
from service.ledger import ArchiveRecord, Ledger
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer


def archive(settings: Settings, object_id: str, source: str = "flow", **kw: Any) -> ArchiveRecord:
    """Archive ``object_id`` from the simulator now, as ``archiver archive`` does."""
    with open_archiver(settings) as archiver:
        run = archiver.run(object_id, source, **kw)
    assert run.archive is not None
    return run.archive


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    with Ledger(settings.archiver_db) as opened:
        yield opened


def find(settings: Settings, ledger: Ledger, *args: Any, **kw: Any) -> ArchivedVersion:
    return archived_version(ledger, settings.archive_dir, *args, **kw)


def stored(settings: Settings, record: ArchiveRecord) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((settings.archive_dir / record.location).read_bytes())
    return payload


def test_a_flow_version_is_its_configuration_under_its_history_path(
    settings: Settings, ledger: Ledger
) -> None:
    record = archive(settings, DEMO_FLOW_ID)
    found = find(settings, ledger, DEMO_FLOW_ID, "2.0")
    payload = stored(settings, record)
    (position,) = [i for i, r in enumerate(payload["versionMatrix"]) if r["versionId"] == "2.0"]
    assert found.document == payload["versions"][position]["configuration"]
    assert found.content == normalise(found.document)
    assert found.name == "Main inbound"
    assert found.path == f"flow/main-inbound--{DEMO_FLOW_ID}.json"
    assert (found.source_type, found.object_id, found.version_id) == ("flow", DEMO_FLOW_ID, "2.0")
    assert found.archive == record


def test_the_newest_version_by_default_and_a_bare_number_for_its_id(
    settings: Settings, ledger: Ledger
) -> None:
    archive(settings, DEMO_FLOW_ID)
    assert find(settings, ledger, DEMO_FLOW_ID).version_id == "3.0"
    assert find(settings, ledger, DEMO_FLOW_ID, "1") == find(settings, ledger, DEMO_FLOW_ID, "1.0")


def test_the_newest_is_the_highest_version_whichever_archive_holds_it(
    settings: Settings, ledger: Ledger, simulator: SimulatorServer
) -> None:
    archive(settings, DEMO_FLOW_ID)
    (added,) = simulator.state.add_versions(DEMO_FLOW_ID)
    second = archive(settings, DEMO_FLOW_ID)
    assert second.version_ids == (added,)
    newest = find(settings, ledger, DEMO_FLOW_ID)
    assert (newest.version_id, newest.archive) == ("4.0", second)


def test_a_version_comes_from_the_newest_archive_holding_it(
    settings: Settings, ledger: Ledger, simulator: SimulatorServer
) -> None:
    first = archive(settings, DEMO_FLOW_ID)
    simulator.state.add_versions(DEMO_FLOW_ID)
    again = archive(settings, DEMO_FLOW_ID, full=True)  # every version, a new key
    assert again.id != first.id and "2.0" in again.version_ids
    assert find(settings, ledger, DEMO_FLOW_ID, "2.0").archive == again
    assert find(settings, ledger, DEMO_FLOW_ID, "2").archive == again


def test_a_renamed_object_keeps_each_version_under_the_name_archived_with_it(
    settings: Settings, ledger: Ledger, simulator: SimulatorServer
) -> None:
    archive(settings, DEMO_FLOW_ID)
    simulator.state.rename(DEMO_FLOW_ID, "Main inbound / after hours")
    simulator.state.add_versions(DEMO_FLOW_ID)
    archive(settings, DEMO_FLOW_ID)
    old, new = find(settings, ledger, DEMO_FLOW_ID, "3"), find(settings, ledger, DEMO_FLOW_ID, "4")
    assert old.path == tree_path("flow", DEMO_FLOW_ID, "Main inbound")
    assert new.path == f"flow/main-inbound-after-hours--{DEMO_FLOW_ID}.json"


def test_each_version_is_the_path_and_content_of_its_history_commit(
    settings: Settings, ledger: Ledger, simulator: SimulatorServer
) -> None:
    first = archive(settings, DEMO_FLOW_ID)
    simulator.state.rename(DEMO_FLOW_ID, "Renamed")
    simulator.state.add_versions(DEMO_FLOW_ID)
    second = archive(settings, DEMO_FLOW_ID)
    changes = version_changes(stored(settings, first)) + version_changes(stored(settings, second))
    assert [c.version_id for c in changes] == ["1.0", "2.0", "3.0", "4.0"]
    for change in changes:
        assert change.version_id is not None
        found = find(settings, ledger, DEMO_FLOW_ID, change.version_id)
        assert (found.path, found.content) == (change.path, change.content)


def test_a_routing_strategy_version_is_the_version_document_named_by_the_archive(
    settings: Settings, ledger: Ledger
) -> None:
    record = archive(settings, DEMO_STRATEGY_ID, "routing-strategy")
    payload = stored(settings, record)
    found = find(settings, ledger, DEMO_STRATEGY_ID)
    assert found.document == payload["versions"][0]  # newest first in the archive
    assert "configuration" not in found.document
    assert found.name == "Priority routing" == payload["strategyName"]
    assert found.path == f"routing-strategy/priority-routing--{DEMO_STRATEGY_ID}.json"
    assert find(settings, ledger, DEMO_STRATEGY_ID, "1").document["version"] == 1


def test_a_bare_number_prefers_the_id_that_reads_as_it_and_else_is_ambiguous(
    settings: Settings, ledger: Ledger, simulator: SimulatorServer
) -> None:
    simulator.state.add_versions(DEMO_FLOW_ID, version_id="5.0-debug")
    simulator.state.add_versions(DEMO_FLOW_ID, version_id="5.0")
    simulator.state.add_versions(DEMO_FLOW_ID, version_id="6.0-a")
    simulator.state.add_versions(DEMO_FLOW_ID, version_id="6.0-b")
    archive(settings, DEMO_FLOW_ID)
    assert find(settings, ledger, DEMO_FLOW_ID, "5").version_id == "5.0"
    assert find(settings, ledger, DEMO_FLOW_ID, "5.0-debug").version_id == "5.0-debug"
    with pytest.raises(UsageError, match=r"version '6' of .* is ambiguous.*6\.0-a, 6\.0-b"):
        find(settings, ledger, DEMO_FLOW_ID, "6")


def test_an_unknown_version_names_what_was_looked_for_and_what_there_is(
    settings: Settings, ledger: Ledger
) -> None:
    archive(settings, DEMO_FLOW_ID)
    with pytest.raises(VersionNotFound) as raised:
        find(settings, ledger, DEMO_FLOW_ID, "9", source_type="flow")
    assert str(raised.value) == (
        f"no archive of flow {DEMO_FLOW_ID} holds version '9'; archived versions: 1.0, 2.0, 3.0"
    )


def test_an_object_without_archives_names_the_ledger(settings: Settings, ledger: Ledger) -> None:
    archive(settings, DEMO_FLOW_ID)
    with pytest.raises(VersionNotFound, match="no archive of routing-strategy") as raised:
        find(settings, ledger, DEMO_FLOW_ID, source_type="routing-strategy")
    assert str(settings.archiver_db) in str(raised.value)
    with pytest.raises(VersionNotFound, match=f"no archive of {DEMO_STRATEGY_ID} in the ledger"):
        find(settings, ledger, DEMO_STRATEGY_ID, "1.0")


def test_a_missing_archive_document_is_named(settings: Settings, ledger: Ledger) -> None:
    record = archive(settings, DEMO_FLOW_ID)
    (settings.archive_dir / record.location).unlink()
    with pytest.raises(StorageError, match=f"cannot read archive document {record.location}"):
        find(settings, ledger, DEMO_FLOW_ID, "1.0")


def test_an_altered_archive_document_is_refused(settings: Settings, ledger: Ledger) -> None:
    record = archive(settings, DEMO_FLOW_ID)
    path = settings.archive_dir / record.location
    path.write_bytes(path.read_bytes().replace(b"Main inbound", b"Main outbound"))
    with pytest.raises(StorageError, match="does not match its recorded SHA-256"):
        find(settings, ledger, DEMO_FLOW_ID)
