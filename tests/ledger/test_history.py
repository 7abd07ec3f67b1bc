"""The history's queue and record: items in the ledger's order, written with the archive
or the deletion, commits recorded once with their events, and the migration's backfill."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from service.errors import LedgerError
from service.ledger import (
    Actor,
    IncomingEvent,
    Ledger,
    Submission,
    archives,
    deletions,
    events,
    history,
    outbox,
)
from service.ledger.history import CommitRow, HistoryItem

STRATEGY = "38426578-d900-459f-a7e7-3260397f7ca3"
OTHER = "5be1a7a4-4a3e-4d5c-9a53-2f0f7c1d9e01"


def record(ledger: Ledger, key: str, versions: list[str], strategy: str = STRATEGY, **extra):
    values: dict[str, object] = {
        "idempotency_key": key,
        "strategy_id": strategy,
        "source_type": "routing-strategy",
        "strategy_name": "Priority routing",
        "version_ids": versions,
        "archive_timestamp": "2026-11-28T07:00:00.000Z",
        "sha256": "ab" * 32,
        "size": 10,
        "location": f"routing-strategy/{strategy}/{key}.json",
        "submission": Submission.LOCAL,
    }
    values.update(extra)
    return archives.record_archive(ledger, **values)  # type: ignore[arg-type]


def row(item: HistoryItem, commit: str, version: str | None) -> CommitRow:
    return CommitRow(
        commit=commit,
        source_type=item.source_type,
        object_id=item.object_id,
        version_id=version,
        archive_key=item.archive_key,
        name="Priority routing",
        author="Ada Lovelace",
        email="ada@users.genesys-cloud.invalid",
        date="2026-11-28T07:00:00Z",
    )


def events_of(ledger: Ledger, event_type: str) -> list[dict]:
    rows = ledger.db.execute(
        "SELECT body FROM outbox_events WHERE type = ? ORDER BY rowid", [event_type]
    )
    return [json.loads(body)["data"] for (body,) in rows]


def test_archives_and_deletions_queue_items_in_the_order_the_ledger_records_them(
    tmp_path: Path,
) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        first = record(ledger, "key-1", ["v1", "v2"])
        deletions.mark_deleted(
            ledger, STRATEGY, "routing-strategy", by="Ada", by_id=OTHER, reason="test"
        )
        deletions.mark_deleted(ledger, STRATEGY, "routing-strategy", by="Ada", reason="again")
        second = record(ledger, "key-2", ["w1"], strategy=OTHER)
        items = history.pending_items(ledger)
    assert [(i.kind, i.object_id, i.archive_id) for i in items] == [
        ("archive", STRATEGY, first.id),
        ("deletion", STRATEGY, None),  # once: the second mark changed nothing
        ("archive", OTHER, second.id),
    ]
    assert items[0].location == first.location and items[0].archive_key == "key-1"
    assert items[1].name == "Priority routing"
    assert (items[1].deleted_by, items[1].deleted_by_id) == ("Ada", OTHER)
    assert [i.seq for i in items] == sorted(i.seq for i in items)


def test_with_the_history_on_the_archive_writes_no_completion_event_of_its_own(
    tmp_path: Path,
) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        record(ledger, "key-1", ["v1"], notify=["hook"], history=True)
        record(ledger, "key-2", ["v2"], notify=["hook"])
        assert [e["idempotencyKey"] for e in events_of(ledger, "strategy.archive.completed")] == [
            "key-2"
        ]
        assert [i.announce for i in history.pending_items(ledger)] == [True, False]


def test_recorded_commits_carry_the_completion_event_and_one_push(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive = record(ledger, "key-1", ["v1", "v2"], history=True)
        (item,) = history.pending_items(ledger)
        commits = [row(item, "a" * 40, "v1"), row(item, "b" * 40, "v2")]
        history.record_commits(
            ledger, [(item, commits)], notify=["hook"], push=["mirror"], branch="main"
        )
        assert history.pending_items(ledger) == []
        assert history.last_commit(ledger) == "b" * 40
        (event,) = events_of(ledger, "strategy.archive.completed")
        assert event["archiveId"] == archive.id
        assert event["versionIds"] == ["v1", "v2"]
        assert event["commits"] == [
            {"versionId": "v1", "commit": "a" * 40},
            {"versionId": "v2", "commit": "b" * 40},
        ]
        assert events_of(ledger, "history.push") == [{"branch": "main", "head": "b" * 40}]
        targets = {d.target for d in outbox.list_deliveries(ledger)}
        assert targets == {"hook", "mirror"}
        assert history.history_log(ledger, STRATEGY) == [
            {
                "versionId": "v1",
                "author": "Ada Lovelace",
                "date": "2026-11-28T07:00:00Z",
                "archiveKey": "key-1",
                "commit": "a" * 40,
            },
            {
                "versionId": "v2",
                "author": "Ada Lovelace",
                "date": "2026-11-28T07:00:00Z",
                "archiveKey": "key-1",
                "commit": "b" * 40,
            },
        ]


def test_an_item_is_recorded_once_and_a_version_committed_once(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        record(ledger, "key-1", ["v1"])
        record(ledger, "key-2", ["v1", "v2"])  # --full: v1 again
        first, second = history.pending_items(ledger)
        history.record_commits(ledger, [(first, [row(first, "a" * 40, "v1")])], branch="main")
        with pytest.raises(LedgerError, match="no longer pending"):
            history.record_commits(ledger, [(first, [row(first, "c" * 40, "v1")])], branch="main")
        with pytest.raises(sqlite3.IntegrityError):
            history.record_commits(ledger, [(second, [row(second, "d" * 40, "v1")])], branch="main")
        # Both refusals rolled back everything: the second item still waits.
        assert history.pending_items(ledger) == [second]
        assert [c.commit for c in history.all_commits(ledger)] == ["a" * 40]


def test_an_item_without_commits_is_done_without_a_push(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        record(ledger, "key-1", ["v1"], history=True)
        (item,) = history.pending_items(ledger)
        history.record_commits(ledger, [(item, [])], notify=["hook"], push=["mirror"], branch="m")
        assert history.pending_items(ledger) == []
        assert events_of(ledger, "history.push") == []
        assert [e["commits"] for e in events_of(ledger, "strategy.archive.completed")] == [[]]


def test_the_migration_queues_what_an_existing_ledger_holds_in_its_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.db"
    with Ledger(path) as ledger:
        first = record(ledger, "key-1", ["v1"])
        # Genesys's time of the deletion is older than the archive: the ledger's order counts.
        deletions.mark_deleted(
            ledger, STRATEGY, "routing-strategy", at="2020-01-01T00:00:00Z", by="Ada", reason="t"
        )
        second = record(ledger, "key-2", ["w1"], strategy=OTHER)
        # The ledger as the version before the history left it.
        ledger.db.executescript(
            "DROP TABLE history_commits; DROP TABLE history_items;"
            " DELETE FROM _sqlite_migrations WHERE name LIKE '00%_history%';"
        )
    with Ledger(path) as ledger:
        items = history.pending_items(ledger)
    assert [(i.kind, i.object_id, i.archive_id, i.announce) for i in items] == [
        ("archive", STRATEGY, first.id, False),
        ("deletion", STRATEGY, None, False),
        ("archive", OTHER, second.id, False),
    ]
    assert items[1].name == "Priority routing" and items[1].deleted_by == "Ada"


def test_a_deletion_event_queues_who_deleted_the_object_by_name_and_id(tmp_path: Path) -> None:
    deletion = IncomingEvent(
        dedup_key="k1",
        topic=f"v2.audits.entitytype.Flow.entityid.{STRATEGY}",
        body="{}",
        source_type="flow",
        strategy_id=STRATEGY,
        deletion="audit action Delete",
        changed_at="2026-12-01T10:00:00Z",
        actor=Actor(user_id=OTHER, user_name="Ada Lovelace"),
    )
    with Ledger(tmp_path / "l.db") as ledger:
        events.accept_events(ledger, [deletion])
        (item,) = history.pending_items(ledger)
    assert (item.kind, item.source_type, item.object_id) == ("deletion", "flow", STRATEGY)
    assert (item.deleted_by, item.deleted_by_id) == ("Ada Lovelace", OTHER)
    assert item.deleted_at == "2026-12-01T10:00:00.000Z"
