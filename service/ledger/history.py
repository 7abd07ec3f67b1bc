"""The history's queue and its record (contract section 10).

Every archive and every deletion the ledger records adds one item to ``history_items``
in the same transaction, in the order the ledger recorded them; the history lane commits
the pending items in that order and records each version's commit in
``history_commits`` (once: a version is committed once whatever ``--full`` does), the
archive's completion event and the push of the branch, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from ..errors import LedgerError
from . import audit, outbox
from .db import transaction

if TYPE_CHECKING:
    from .handle import Ledger

ARCHIVE, DELETION = "archive", "deletion"
COMPLETED_EVENT = "strategy.archive.completed"
PUSH_EVENT = "history.push"


@dataclass(frozen=True)
class HistoryItem:
    """One archive or deletion waiting for (or given) its commits."""

    seq: int
    kind: str  # ARCHIVE or DELETION
    source_type: str
    object_id: str
    archive_id: str | None  # an archive: its id, where its document is and its key
    location: str | None
    sha256: str | None
    archive_key: str | None
    name: str | None  # a deletion: the object's name as the ledger knew it
    deleted_at: str | None
    deleted_by: str | None  # a name, else an id
    deleted_by_id: str | None
    announce: bool  # the lane writes the archive's completion event


@dataclass(frozen=True)
class CommitRow:
    """One commit of the history as the ledger records it."""

    commit: str
    source_type: str
    object_id: str
    version_id: str | None  # None: a deletion
    archive_key: str | None
    name: str
    author: str
    email: str
    date: str  # ISO-8601 UTC, to the second


_ITEMS = (
    "SELECT i.seq, i.kind, i.source_type, i.object_id, i.archive_id, a.location, a.sha256,"
    " a.idempotency_key, i.name, i.deleted_at, i.deleted_by, i.deleted_by_id, i.announce"
    " FROM history_items i LEFT JOIN archives a ON a.id = i.archive_id"
)
_COMMITS = (
    "SELECT commit_id, source_type, object_id, version_id, archive_key, name, author, email,"
    " authored_at FROM history_commits"
)


def _item(row: Sequence[Any]) -> HistoryItem:
    seq, kind, source_type, object_id, archive_id, location, sha256, key, *rest = row
    name, deleted_at, deleted_by, deleted_by_id, announce = rest
    return HistoryItem(
        seq,
        kind,
        source_type,
        object_id,
        archive_id,
        location,
        sha256,
        key,
        name,
        deleted_at,
        deleted_by,
        deleted_by_id,
        bool(announce),
    )


def _commit(row: Sequence[Any]) -> CommitRow:
    return CommitRow(*row)


def queue_archive(ledger: Ledger, archive_id: str, *, announce: bool = False) -> None:
    """Queue an archive for the history, inside the caller's transaction (record_archive).

    ``announce``: its completion event is the lane's to write, with its commits.
    """
    with transaction(ledger.db):
        ledger.db.execute(
            "INSERT INTO history_items (kind, archive_id, source_type, object_id, announce,"
            " state, created_at) SELECT 'archive', id, source_type, strategy_id, ?, 'pending', ?"
            " FROM archives WHERE id = ?",
            [int(announce), iso(utcnow()), archive_id],
        )


def queue_deletion(
    ledger: Ledger,
    source_type: str,
    object_id: str,
    *,
    name: str | None,
    at: str,
    by: str | None,
    by_id: str | None = None,
) -> None:
    """Queue the removal of a deleted object's file, inside the caller's transaction."""
    with transaction(ledger.db):
        ledger.db.execute(
            "INSERT INTO history_items (kind, source_type, object_id, name, deleted_at,"
            " deleted_by, deleted_by_id, state, created_at)"
            " VALUES ('deletion', ?, ?, ?, ?, ?, ?, 'pending', ?)",
            [source_type, object_id, name, at, by, by_id, iso(utcnow())],
        )


def pending_items(ledger: Ledger, *, limit: int = 100) -> list[HistoryItem]:
    """The oldest items not committed yet, in the order the ledger recorded them."""
    rows = ledger.db.execute(
        f"{_ITEMS} WHERE i.state = 'pending' ORDER BY i.seq LIMIT ?", [int(limit)]
    )
    return [_item(r) for r in rows]


def pending_of(ledger: Ledger, object_id: str, source_type: str | None = None) -> list[HistoryItem]:
    """The object's items not committed yet, in order."""
    sql = f"{_ITEMS} WHERE i.state = 'pending' AND i.object_id = ?"
    params = [object_id]
    if source_type:
        sql += " AND i.source_type = ?"
        params.append(source_type)
    return [_item(r) for r in ledger.db.execute(f"{sql} ORDER BY i.seq", params)]


def items_after(ledger: Ledger, after: int = 0, *, limit: int = 1000) -> list[HistoryItem]:
    """Every item, committed or not, in order, from ``after`` (a seq, exclusive): what a
    rebuild replays."""
    rows = ledger.db.execute(
        f"{_ITEMS} WHERE i.seq > ? ORDER BY i.seq LIMIT ?", [after, int(limit)]
    )
    return [_item(r) for r in rows]


def last_commit(ledger: Ledger) -> str | None:
    """The commit the ledger recorded last: where the branch should be."""
    row = ledger.db.execute(
        "SELECT commit_id FROM history_commits ORDER BY n DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def object_commits(ledger: Ledger, objects: Iterable[tuple[str, str]]) -> list[CommitRow]:
    """Every commit recorded for these (source type, id) objects, oldest first."""
    found: list[CommitRow] = []
    for source_type, object_id in sorted(set(objects)):
        rows = ledger.db.execute(
            f"{_COMMITS} WHERE object_id = ? AND source_type = ? ORDER BY n",
            [object_id, source_type],
        )
        found += [_commit(r) for r in rows]
    return found


def all_commits(ledger: Ledger) -> list[CommitRow]:
    """Every commit the ledger recorded, in the order of the branch."""
    return [_commit(r) for r in ledger.db.execute(f"{_COMMITS} ORDER BY n")]


def record_commits(
    ledger: Ledger,
    done: Sequence[tuple[HistoryItem, Sequence[CommitRow]]],
    *,
    notify: Sequence[str] = (),
    push: Sequence[str] = (),
    branch: str,
) -> None:
    """Record the commits of ``done`` items, mark them done, write each announced
    archive's completion event (to ``notify``) and one push of ``branch`` (to ``push``),
    in one transaction. An item already done (another process recorded it) rolls it all
    back with ``LedgerError``.
    """
    now = iso(utcnow())
    head = None
    with transaction(ledger.db):
        for item, commits in done:
            changed = ledger.db.execute(
                "UPDATE history_items SET state = 'done', done_at = ?"
                " WHERE seq = ? AND state = 'pending'",
                [now, item.seq],
            ).rowcount
            if changed != 1:
                raise LedgerError(f"history item {item.seq} is no longer pending")
            ledger.db.conn.executemany(
                "INSERT INTO history_commits (commit_id, item_seq, source_type, object_id,"
                " version_id, archive_key, name, author, email, authored_at, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.commit,
                        item.seq,
                        c.source_type,
                        c.object_id,
                        c.version_id,
                        c.archive_key,
                        c.name,
                        c.author,
                        c.email,
                        c.date,
                        now,
                    )
                    for c in commits
                ],
            )
            head = commits[-1].commit if commits else head
            if item.kind == ARCHIVE and item.announce and item.archive_id:
                _announce(ledger, item.archive_id, notify)
        if head is None:
            return
        count = sum(len(commits) for _, commits in done)
        audit.append(ledger, "history.committed", head, branch=branch, commits=count)
        outbox.add_event(ledger, PUSH_EVENT, None, {"branch": branch, "head": head}, push)


def _announce(ledger: Ledger, archive_id: str, notify: Sequence[str]) -> None:
    """The archive's ``strategy.archive.completed``, as record_archive writes it, with
    ``commits``: each of its versions' commit (committed now or before)."""
    row = ledger.db.execute(
        "SELECT strategy_id, strategy_name, source_type, idempotency_key, version_ids,"
        " archive_timestamp, sha256 FROM archives WHERE id = ?",
        [archive_id],
    ).fetchone()
    if row is None:
        raise LedgerError(f"history item for archive {archive_id}, which the ledger lacks")
    strategy_id, name, source_type, key, versions, timestamp, sha256 = row
    version_ids = json.loads(versions)
    found = dict(
        ledger.db.execute(
            "SELECT version_id, commit_id FROM history_commits WHERE source_type = ?"
            " AND object_id = ? AND version_id IS NOT NULL",
            [source_type, strategy_id],
        ).fetchall()
    )
    outbox.add_event(
        ledger,
        COMPLETED_EVENT,
        strategy_id,
        {
            "strategyId": strategy_id,
            "strategyName": name,
            "sourceType": source_type,
            "archiveId": archive_id,
            "idempotencyKey": key,
            "versionCount": len(version_ids),
            "versionIds": version_ids,
            "archiveTimestamp": timestamp,
            "contentSha256": sha256,
            "commits": [{"versionId": v, "commit": found[v]} for v in version_ids if v in found],
        },
        notify,
    )


def history_log(ledger: Ledger, object_id: str, source_type: str | None = None) -> list[dict]:
    """The object's committed versions, oldest first: ``[{"versionId", "author", "date",
    "archiveKey", "commit"}]`` (deletions are not versions: they are left out)."""
    sql = f"{_COMMITS} WHERE object_id = ? AND version_id IS NOT NULL"
    params = [object_id]
    if source_type:
        sql += " AND source_type = ?"
        params.append(source_type)
    return [
        {
            "versionId": c.version_id,
            "author": c.author,
            "date": c.date,
            "archiveKey": c.archive_key,
            "commit": c.commit,
        }
        for c in map(_commit, ledger.db.execute(f"{sql} ORDER BY n", params))
    ]


def history_backlog(ledger: Ledger) -> int:
    """Items waiting for their commits."""
    row = ledger.db.execute("SELECT count(*) FROM history_items WHERE state = 'pending'")
    return int(row.fetchone()[0])
