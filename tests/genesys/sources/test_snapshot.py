"""Snapshot sources against the simulator over real HTTP, through the archive pipeline
(contract section 12): one GET per run; a snapshot taken; an unchanged object, or one whose
volatile fields alone moved, gives no new version; a real change gives one; deletion by a
404, a 410 and by ``state: "deleted"``; versions numbered, dated and attributed as the
contract says; the archive's document read by the history as its commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.archive import open_archiver
from service.archive.gone import ObjectDeleted
from service.archive.job import run_archive_job
from service.archive.store import read_document
from service.clock import iso, parse_iso
from service.config import Settings
from service.errors import UpstreamError
from service.genesys import GenesysClient
from service.genesys.sources import source_for
from service.genesys.sources.snapshot import SnapshotSource
from service.history.commits import version_changes
from service.history.layout import normalise, tree_path
from service.ledger import ArchiveRecord, IncomingEvent, JobState, Ledger, archives
from service.ledger import events as ledger_events
from service.ledger import jobs as ledger_jobs
from service.ledger.events import Actor
from service.simulator import SimulatorServer
from service.sweep import discover
from service.worker import Worker
from tests.helpers import WORKER_TUNING, make_settings, running_worker, wait_for

SNAPSHOTS = ("queue", "ivr", "schedule", "schedule-group", "emergency-group", "skill-group")
ARCHITECT = frozenset({"ivr", "schedule", "schedule-group", "emergency-group"})


def snapshot_source(source_type: str) -> SnapshotSource:
    source = source_for(source_type)
    assert isinstance(source, SnapshotSource)
    return source


def first_id(simulator: SimulatorServer, source_type: str) -> str:
    return simulator.state.routing.ids(source_type)[0]


def current(simulator: SimulatorServer, source_type: str, object_id: str) -> dict[str, Any]:
    found = simulator.state.routing.lookup(source_type, object_id)
    assert found is not None
    return found.doc


def api_paths(simulator: SimulatorServer) -> list[str]:
    return [r.path for r in simulator.state.requests if r.path.startswith("/api/v2/")]


def stored(settings: Settings, record: ArchiveRecord) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        read_document(settings.archive_dir, record.location, record.sha256)
    )
    return payload


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for item in value for k in keys_anywhere(item)}
    return set()


@pytest.mark.parametrize("source_type", SNAPSHOTS)
def test_a_snapshot_is_taken_with_one_get_and_an_unchanged_object_gives_no_new_version(
    simulator: SimulatorServer, settings: Settings, source_type: str
) -> None:
    source = snapshot_source(source_type)
    object_id = first_id(simulator, source_type)
    body = current(simulator, source_type, object_id)
    simulator.state.clear_requests()
    with open_archiver(settings) as archiver:
        first = archiver.run(object_id, source_type)
        reads = api_paths(simulator)
        simulator.state.clear_requests()
        again = archiver.run(object_id, source_type)

    assert reads == [f"{source.collection}/{object_id}"]  # the token aside, one call
    assert api_paths(simulator) == [f"{source.collection}/{object_id}"]
    assert again.archive is None and again.version_count == 0
    expected = str(body["version"]) if source_type in ARCHITECT else "1"
    assert first.archive is not None and first.archive.version_ids == (expected,)
    assert first.strategy_name == body["name"]
    payload = stored(settings, first.archive)
    assert payload["sourceType"] == source_type
    (row,) = payload["versionMatrix"]
    assert row["versionNumber"] == int(expected)
    assert row["createdDate"] == row["modifiedDate"] == iso(parse_iso(body["dateModified"]))
    assert row["metadataTags"]["originalAuthor"] == body.get("modifiedBy", "unknown")
    (document,) = payload["versions"]
    assert document["id"] == object_id
    assert not keys_anywhere(document) & source.volatile
    if not source.volatile:
        assert document == body
    else:
        assert set(body) - set(document) == source.volatile & set(body) != set()
        assert (document["name"], document["description"]) == (body["name"], body["description"])


def test_the_document_drops_volatile_fields_wherever_they_are(
    simulator: SimulatorServer, settings: Settings
) -> None:
    queue_id = first_id(simulator, "queue")
    body = current(simulator, "queue", queue_id)
    ring = body["bullseye"]["rings"][1]
    assert ring["memberGroups"][0]["memberCount"] > 0 and body["memberGroups"][0]["memberCount"]
    with open_archiver(settings) as archiver:
        run = archiver.run(queue_id, "queue")
    assert run.archive is not None
    (document,) = stored(settings, run.archive)["versions"]
    assert document["bullseye"]["rings"][1]["memberGroups"][0] == {
        k: v for k, v in ring["memberGroups"][0].items() if k != "memberCount"
    }
    assert "memberCount" not in document["memberGroups"][0]
    assert {"memberCount", "userMemberCount", "joinedMemberCount"}.isdisjoint(document)
    assert document["description"] == body["description"]


@pytest.mark.parametrize(
    ("source_type", "changes"),
    [
        (
            "queue",
            {
                "memberCount": 40,
                "userMemberCount": 11,
                "joinedMemberCount": 30,
                "memberGroups.0.memberCount": 99,
                "bullseye.rings.1.memberGroups.0.memberCount": 77,
            },
        ),
        ("skill-group", {"memberCount": 50, "status": "InProgress"}),
    ],
)
def test_a_change_of_volatile_fields_alone_gives_no_new_version(
    simulator: SimulatorServer, settings: Settings, source_type: str, changes: dict[str, Any]
) -> None:
    object_id = first_id(simulator, source_type)
    with open_archiver(settings) as archiver:
        first = archiver.run(object_id, source_type)
        simulator.state.routing.set_volatile(source_type, object_id, changes)
        after = archiver.run(object_id, source_type)
    assert first.archive is not None
    assert after.archive is None


def test_a_save_that_changes_nothing_moves_no_queue_version(
    simulator: SimulatorServer, settings: Settings
) -> None:
    queue_id = first_id(simulator, "queue")
    before = current(simulator, "queue", queue_id)
    with open_archiver(settings) as archiver:
        archiver.run(queue_id, "queue")
        saved = simulator.state.routing.update(
            "queue", queue_id, {"description": before["description"]}
        )
        after = archiver.run(queue_id, "queue")
    assert saved["dateModified"] != before["dateModified"]  # the save moved the markers only
    assert after.archive is None


@pytest.mark.parametrize("source_type", SNAPSHOTS)
def test_a_real_change_gives_one_new_version(
    simulator: SimulatorServer, settings: Settings, source_type: str
) -> None:
    object_id = first_id(simulator, source_type)
    with open_archiver(settings) as archiver:
        first = archiver.run(object_id, source_type)
        changed = simulator.state.routing.update(
            source_type, object_id, {"description": "Changed by a test"}
        )
        second = archiver.run(object_id, source_type)
        third = archiver.run(object_id, source_type)
    assert first.archive is not None and second.archive is not None
    expected = str(changed["version"]) if source_type in ARCHITECT else "2"
    assert second.archive.version_ids == (expected,)
    assert int(expected) > int(first.archive.version_ids[0])
    assert third.archive is None
    payload = stored(settings, second.archive)
    (document,) = payload["versions"]
    assert document["description"] == "Changed by a test"
    (row,) = payload["versionMatrix"]
    assert row["createdDate"] == iso(parse_iso(changed["dateModified"]))


def test_a_change_of_the_emergency_switch_is_a_new_version(
    simulator: SimulatorServer, settings: Settings
) -> None:
    group_id = first_id(simulator, "emergency-group")
    enabled = current(simulator, "emergency-group", group_id)["enabled"]
    with open_archiver(settings) as archiver:
        archiver.run(group_id, "emergency-group")
        simulator.state.routing.update("emergency-group", group_id, {"enabled": not enabled})
        run = archiver.run(group_id, "emergency-group")
    assert run.archive is not None
    assert stored(settings, run.archive)["versions"][0]["enabled"] is (not enabled)


def test_the_author_is_the_events_user_else_modified_by(
    simulator: SimulatorServer, settings: Settings
) -> None:
    queue_id = first_id(simulator, "queue")
    with open_archiver(settings) as archiver:
        run = archiver.run(queue_id, "queue", author="Ada Lovelace")
    assert run.archive is not None
    (row,) = stored(settings, run.archive)["versionMatrix"]
    assert row["metadataTags"]["originalAuthor"] == "Ada Lovelace"


def test_retention_never_leaves_the_current_snapshot_out(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(simulator, tmp_path, RETENTION_DAYS="1")
    ivr_id = first_id(simulator, "ivr")
    modified = parse_iso(current(simulator, "ivr", ivr_id)["dateModified"])
    with open_archiver(settings) as archiver:
        run = archiver.run(ivr_id, "ivr")
        assert (archiver.clock() - modified).days >= 1  # older than RETENTION_DAYS
    assert run.archive is not None and run.version_count == 1


@pytest.mark.parametrize(("source_type", "answer"), [("queue", "404"), ("skill-group", "410")])
def test_a_known_object_answering_404_or_410_ends_its_job_deleted(
    simulator: SimulatorServer, settings: Settings, source_type: str, answer: str
) -> None:
    object_id = first_id(simulator, source_type)
    with open_archiver(settings) as archiver:
        first = archiver.run(object_id, source_type)
        simulator.state.routing.delete(source_type, object_id, answer)
        outcome = run_archive_job(archiver, object_id, source_type)
    assert outcome.deleted is not None and answer in outcome.deleted
    assert first.archive is not None


@pytest.mark.parametrize("source_type", sorted(ARCHITECT))
def test_a_known_object_described_deleted_is_deleted_after_one_get(
    simulator: SimulatorServer, settings: Settings, source_type: str
) -> None:
    source = snapshot_source(source_type)
    object_id = first_id(simulator, source_type)
    with open_archiver(settings) as archiver:
        archiver.run(object_id, source_type)
        simulator.state.routing.delete(source_type, object_id)
        simulator.state.clear_requests()
        with pytest.raises(ObjectDeleted) as caught:
            archiver.run(object_id, source_type)
    assert "deleted" in caught.value.gone.reason
    assert api_paths(simulator) == [f"{source.collection}/{object_id}"]


def test_an_object_never_seen_that_is_described_deleted_fails_naming_it(
    simulator: SimulatorServer, settings: Settings
) -> None:
    ivr_id = first_id(simulator, "ivr")
    simulator.state.routing.delete("ivr", ivr_id)
    with open_archiver(settings) as archiver, pytest.raises(UpstreamError) as caught:
        archiver.run(ivr_id, "ivr")
    assert f"IVR {ivr_id} as deleted" in str(caught.value)
    assert caught.value.retryable is False


def test_the_history_reads_a_snapshot_archive_as_one_commit(
    simulator: SimulatorServer, settings: Settings
) -> None:
    queue_id = first_id(simulator, "queue")
    with open_archiver(settings) as archiver:
        run = archiver.run(queue_id, "queue")
    assert run.archive is not None
    payload = stored(settings, run.archive)
    (change,) = version_changes(payload)
    assert change.version_id == "1"
    assert change.path == tree_path("queue", queue_id, payload["strategyName"])
    assert change.content == normalise(payload["versions"][0])
    assert change.message.startswith(f"{payload['strategyName']}: version 1\n")


@pytest.mark.parametrize("source_type", SNAPSHOTS)
def test_discovery_lists_every_object_through_its_paging(
    simulator: SimulatorServer, settings: Settings, source_type: str
) -> None:
    source = snapshot_source(source_type)
    simulator.state.clear_requests()
    with GenesysClient.from_settings(settings) as client:
        found = [entry["id"] for entry in source.discover(client)]
    listed = [doc["id"] for doc in simulator.state.routing.listed(source_type)]
    assert sorted(found) == sorted(listed) and len(found) >= 2
    assert set(api_paths(simulator)) == {source.collection}


def test_discovery_passes_over_deleted_entries_of_a_listing(
    simulator: SimulatorServer, settings: Settings
) -> None:
    gone, *live = simulator.state.routing.ids("emergency-group")
    simulator.state.routing.delete("emergency-group", gone)
    with GenesysClient.from_settings(settings) as client:
        listed = [entry["id"] for entry in source_for("emergency-group").discover(client)]
        found = discover(client, enabled=("emergency-group",))
    assert gone in listed  # the listing keeps it, as Genesys's does
    assert sorted(found.all) == sorted((object_id, "emergency-group") for object_id in live)


def test_the_worker_takes_the_author_from_the_event_that_started_the_job(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = make_settings(simulator, tmp_path, **WORKER_TUNING)
    queue_id = first_id(simulator, "queue")
    event = IncomingEvent(
        dedup_key="audit:queue-update-1",
        topic=f"v2.audits.entitytype.Queue.entityid.{queue_id}",
        body="{}",
        source_type="queue",
        strategy_id=queue_id,
        actor=Actor(user_id="5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71", user_name="Grace Hopper"),
    )
    with Ledger(settings.archiver_db) as ledger:
        (job_id,) = ledger_events.accept_events(ledger, [event]).jobs
        with running_worker(Worker(settings)):
            wait_for(lambda: job_done(ledger, job_id), what="the queue's job done")
        (archive,) = archives.list_archives(ledger, strategy_id=queue_id)
    (row,) = stored(settings, archive)["versionMatrix"]
    assert row["metadataTags"]["originalAuthor"] == "Grace Hopper"


def job_done(ledger: Ledger, job_id: str) -> bool:
    job = ledger_jobs.get_job(ledger, job_id)
    return job is not None and job.state is JobState.DONE
