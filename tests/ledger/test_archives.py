"""Archive records: one per key, versions remembered, submissions tracked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.ledger import Ledger, Submission, archives, audit

STRATEGY = "38426578-d900-459f-a7e7-3260397f7ca3"


def record(ledger: Ledger, key: str, versions: list[str], **extra: object):
    values: dict[str, object] = {
        "idempotency_key": key,
        "strategy_id": STRATEGY,
        "source_type": "routing-strategy",
        "strategy_name": "Priority routing",
        "version_ids": versions,
        "archive_timestamp": "2026-11-28T07:00:00.000Z",
        "sha256": "ab" * 32,
        "size": 10,
        "location": f"routing-strategy/{STRATEGY}/{key}.json",
        "submission": Submission.PENDING,
    }
    values.update(extra)
    return archives.record_archive(ledger, **values)  # type: ignore[arg-type]


def test_ledger_file_and_folder_are_created_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "ledger.db"
    with Ledger(path) as ledger:
        assert path.exists()
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        names = [r[0] for r in ledger.db.execute("SELECT name FROM _sqlite_migrations")]
        assert names[0] == "0001_strategies_archives_audit"
        assert len(names) == len(set(names))


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.db").close()
    with Ledger(tmp_path / "l.db") as ledger:
        names = [r[0] for r in ledger.db.execute("SELECT name FROM _sqlite_migrations")]
        assert len(names) == len(set(names)) >= 2


def test_recorded_archive_and_its_versions(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive = record(ledger, "key-1", ["v1", "v2"])
        assert archives.archived_version_ids(ledger, STRATEGY) == {"v1", "v2"}
        assert archives.find_archive(ledger, "key-1") == archive
        assert archives.get_archive(ledger, archive.id) == archive
        assert archives.pending_submissions(ledger, STRATEGY) == [archive]
        entries = audit.audit_entries(ledger)
        assert [e.action for e in entries] == ["archive.stored"]
        assert entries[0].detail["archiveId"] == archive.id


def test_a_key_is_recorded_once(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        record(ledger, "key-1", ["v1"])
        with pytest.raises(sqlite3.IntegrityError):
            record(ledger, "key-1", ["v1"])
        # the failed write left nothing behind: no second audit entry, no orphan versions
        assert len(audit.audit_entries(ledger)) == 1
        assert ledger.db.execute("SELECT count(*) FROM archived_versions").fetchone()[0] == 1


def test_submission_outcomes(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        archive = record(ledger, "key-1", ["v1"])
        done = archives.record_submission(ledger, archive.id, Submission.SUBMITTED, "201 accepted")
        assert done.submission is Submission.SUBMITTED
        assert done.submission_attempts == 1
        assert done.submitted_at is not None
        assert archives.pending_submissions(ledger) == []
        assert [a.id for a in archives.list_archives(ledger, submission=Submission.SUBMITTED)] == [
            archive.id
        ]


def test_list_archives_filters_and_orders_newest_first(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        first = record(ledger, "key-1", ["v1"])
        second = record(ledger, "key-2", ["v2"], strategy_id="00000000-0000-4000-8000-000000000001")
        assert [a.id for a in archives.list_archives(ledger)] == [second.id, first.id]
        assert [a.id for a in archives.list_archives(ledger, strategy_id=STRATEGY)] == [first.id]
        assert len(archives.list_archives(ledger, limit=1)) == 1
