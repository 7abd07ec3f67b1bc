"""Archives and the versions each one holds.

An archive is recorded once its document is safely in cold storage; its
``submission`` then says what became of it at the archival endpoint.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from ..ops.logs import redact
from . import audit, outbox
from . import history as history_queue
from .db import transaction
from .listing import listing

if TYPE_CHECKING:
    from .handle import Ledger


class Submission(StrEnum):
    """Where an archive stands with the archival endpoint."""

    PENDING = "pending"  # stored locally, not yet accepted by the endpoint
    SUBMITTED = "submitted"  # the endpoint answered 2xx or 409
    REJECTED = "rejected"  # the endpoint refused it (4xx other than 409 and 429)
    LOCAL = "local"  # no endpoint configured: cold storage is the archive


@dataclass(frozen=True)
class ArchiveRecord:
    id: str
    idempotency_key: str
    strategy_id: str
    source_type: str
    strategy_name: str
    version_ids: tuple[str, ...]
    archive_timestamp: str
    sha256: str
    size: int
    location: str
    created_at: str
    submission: Submission
    submission_detail: str | None
    submission_attempts: int
    submitted_at: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ArchiveRecord:
        values = dict(row)
        values["version_ids"] = tuple(json.loads(values["version_ids"]))
        values["submission"] = Submission(values["submission"])
        values.pop("version_count", None)
        return cls(**values)


def archived_version_ids(ledger: Ledger, strategy_id: str) -> set[str]:
    """Ids of every version of ``strategy_id`` that some archive holds."""
    rows = ledger.db.execute(
        "SELECT DISTINCT version_id FROM archived_versions WHERE strategy_id = ?", [strategy_id]
    )
    return {r[0] for r in rows}


def find_archive(ledger: Ledger, idempotency_key: str) -> ArchiveRecord | None:
    """The archive recorded under ``idempotency_key``, if any."""
    return _one(ledger, "idempotency_key = ?", [idempotency_key])


def get_archive(ledger: Ledger, archive_id: str) -> ArchiveRecord | None:
    """The archive with id ``archive_id``, if any."""
    return _one(ledger, "id = ?", [archive_id])


def list_archives(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    submission: Submission | None = None,
    since: str | None = None,
    limit: int | None = None,
) -> list[ArchiveRecord]:
    """Archives, newest first, filtered as asked."""
    sql, params = listing(
        "SELECT * FROM archives",
        equal=[("strategy_id", strategy_id), ("submission", submission)],
        since=since,
        since_columns=["created_at"],
        order="created_at DESC, rowid DESC",
        limit=limit,
    )
    return [ArchiveRecord.from_row(r) for r in ledger.db.query(sql, params)]


def record_archive(
    ledger: Ledger,
    *,
    idempotency_key: str,
    strategy_id: str,
    source_type: str,
    strategy_name: str,
    version_ids: Sequence[str],
    archive_timestamp: str,
    sha256: str,
    size: int,
    location: str,
    submission: Submission,
    notify: Sequence[str] = (),
    history: bool = False,
) -> ArchiveRecord:
    """Record a stored archive, its versions, its strategy, an audit entry, its item in
    the history's queue and its completion event for each target in ``notify``, atomically.

    ``history``: the history is on, and its lane writes the completion event with the
    versions' commits (contract section 10), so none is written here.
    """
    now = iso(utcnow())
    archive_id = str(uuid.uuid4())
    with transaction(ledger.db):
        _upsert_strategy(ledger, strategy_id, source_type, strategy_name, now, archived=True)
        ledger.db.table("archives").insert(
            {
                "id": archive_id,
                "idempotency_key": idempotency_key,
                "strategy_id": strategy_id,
                "source_type": source_type,
                "strategy_name": strategy_name,
                "version_count": len(version_ids),
                "version_ids": json.dumps(list(version_ids)),
                "archive_timestamp": archive_timestamp,
                "sha256": sha256,
                "size": size,
                "location": location,
                "created_at": now,
                "submission": str(submission),
            }
        )
        ledger.db.table("archived_versions").insert_all(
            {"archive_id": archive_id, "strategy_id": strategy_id, "version_id": v}
            for v in version_ids
        )
        history_queue.queue_archive(ledger, archive_id, announce=history)
        audit.append(
            ledger,
            "archive.stored",
            strategy_id,
            archiveId=archive_id,
            idempotencyKey=idempotency_key,
            versionCount=len(version_ids),
            sha256=sha256,
        )
        outbox.add_event(
            ledger,
            "strategy.archive.completed",
            strategy_id,
            {
                "strategyId": strategy_id,
                "strategyName": strategy_name,
                "sourceType": source_type,
                "archiveId": archive_id,
                "idempotencyKey": idempotency_key,
                "versionCount": len(version_ids),
                "versionIds": list(version_ids),
                "archiveTimestamp": archive_timestamp,
                "contentSha256": sha256,
            },
            () if history else notify,
        )
    record = get_archive(ledger, archive_id)
    assert record is not None
    return record


def pending_submissions(ledger: Ledger, strategy_id: str | None = None) -> list[ArchiveRecord]:
    """Stored archives the endpoint has not accepted yet, oldest first."""
    sql = "submission = ?"
    params: list[Any] = [str(Submission.PENDING)]
    if strategy_id:
        sql += " AND strategy_id = ?"
        params.append(strategy_id)
    rows = ledger.db.query(f"SELECT * FROM archives WHERE {sql} ORDER BY created_at", params)
    return [ArchiveRecord.from_row(r) for r in rows]


def record_submission(
    ledger: Ledger, archive_id: str, outcome: Submission, detail: str | None = None
) -> ArchiveRecord:
    """Record one submission attempt's outcome and audit it; ``detail``, the endpoint's
    own words (it may echo what it was sent, the token too), is stored redacted."""
    if detail is not None:
        detail = redact(detail, ledger.secrets)
    now = iso(utcnow())
    with transaction(ledger.db):
        ledger.db.execute(
            "UPDATE archives SET submission = ?, submission_detail = ?,"
            " submission_attempts = submission_attempts + 1,"
            " submitted_at = CASE WHEN ? = 'submitted' THEN ? ELSE submitted_at END"
            " WHERE id = ?",
            [str(outcome), detail, str(outcome), now, archive_id],
        )
        audit.append(ledger, f"archive.{outcome}", archive_id, detail=detail)
    record = get_archive(ledger, archive_id)
    assert record is not None
    return record


def _upsert_strategy(
    ledger: Ledger,
    strategy_id: str,
    source_type: str,
    name: str | None,
    now: str,
    *,
    archived: bool,
) -> None:
    ledger.db.execute(
        "INSERT INTO strategies (id, source_type, name, first_seen_at, last_archived_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET name = COALESCE(excluded.name, name),"
        " last_archived_at = COALESCE(excluded.last_archived_at, last_archived_at)",
        [strategy_id, source_type, name, now, now if archived else None],
    )


def _one(ledger: Ledger, where: str, params: list[Any]) -> ArchiveRecord | None:
    rows = list(ledger.db.query(f"SELECT * FROM archives WHERE {where}", params))
    return ArchiveRecord.from_row(rows[0]) if rows else None
