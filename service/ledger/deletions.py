"""Deleted objects (contract section 11): marked once, announced once, passed over by the
sweep, live again when Genesys shows them again.

The mark sits on ``strategy_sources``, whose row is one (id, source type): a flow and a
routing strategy that share an id are deleted apart. Every verb joins the caller's
transaction when there is one (the inbound path marks inside its accept transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..clock import iso, parse_iso, utcnow
from . import audit, outbox
from . import history as history_queue
from .db import transaction

if TYPE_CHECKING:
    from .handle import Ledger

DELETED_EVENT = "strategy.deleted"


@dataclass(frozen=True)
class Deletion:
    """When (and by whom, when known) an object was deleted, and how we learnt it."""

    strategy_id: str
    source_type: str
    deleted_at: str
    deleted_by: str | None
    reason: str


def _when(at: str | datetime | None) -> str:
    """The ledger's one text form of a time given as text, a datetime or not at all (now)."""
    if at is None:
        return iso(utcnow())
    return iso(at if isinstance(at, datetime) else parse_iso(at))


def mark_deleted(
    ledger: Ledger,
    strategy_id: str,
    source_type: str,
    *,
    at: str | datetime | None = None,
    by: str | None = None,
    by_id: str | None = None,
    reason: str,
    notify: Sequence[str] = (),
) -> bool:
    """Mark the object deleted; True when it was live until now.

    ``by``: who deleted it, as listings show it (a name, else an id); ``by_id``: that
    user's id when known, which the history's deletion commit takes as its e-mail.

    Only that change writes: an audit entry, one ``strategy.deleted`` event to each
    target in ``notify``, and the end (``deleted``) of the jobs waiting for it. Marking
    an object already deleted changes nothing, so a repeated deletion announces nothing.
    """
    when = _when(at)
    with transaction(ledger.db):
        ensure_rows(ledger, strategy_id, source_type, when)
        changed = ledger.db.execute(
            "UPDATE strategy_sources SET deleted_at = ?, deleted_by = ?, deleted_reason = ?"
            " WHERE strategy_id = ? AND source_type = ? AND deleted_at IS NULL",
            [when, by, reason, strategy_id, source_type],
        ).rowcount
        if not changed:
            return False
        ledger.db.execute(
            "UPDATE jobs SET state = 'deleted', finished_at = ?, last_error = NULL,"
            " result = ? WHERE strategy_id = ? AND source_type = ? AND state = 'waiting'",
            [iso(utcnow()), '{"deleted": true}', strategy_id, source_type],
        )
        audit.append(
            ledger,
            "strategy.deleted",
            strategy_id,
            sourceType=source_type,
            deletedAt=when,
            deletedBy=by,
            reason=reason,
        )
        data: dict[str, Any] = {"strategyId": strategy_id}
        name = _name(ledger, strategy_id)
        if name:
            data["strategyName"] = name
        data |= {"sourceType": source_type, "deletedAt": when}
        if by:
            data["deletedBy"] = by
        outbox.add_event(ledger, DELETED_EVENT, strategy_id, data, notify)
        history_queue.queue_deletion(
            ledger, source_type, strategy_id, name=name, at=when, by=by, by_id=by_id
        )
        return True


def mark_live(ledger: Ledger, strategy_id: str, source_type: str, *, reason: str) -> bool:
    """Genesys shows the object (again): clear its deletion and remember it was seen.

    True when it was marked deleted until now (then an audit entry says why it is back).
    """
    return bool(mark_seen(ledger, [(strategy_id, source_type)], reason=reason))


def mark_seen(ledger: Ledger, objects: Iterable[tuple[str, str]], *, reason: str) -> int:
    """Objects Genesys listed or answered for: seen now, deleted no longer, in one write.

    Return how many were deleted until now.
    """
    revived = 0
    now = iso(utcnow())
    with transaction(ledger.db):
        for strategy_id, source_type in objects:
            ensure_rows(ledger, strategy_id, source_type, now)
            row = ledger.db.execute(
                "SELECT deleted_at FROM strategy_sources WHERE strategy_id = ? AND source_type = ?",
                [strategy_id, source_type],
            ).fetchone()
            ledger.db.execute(
                "UPDATE strategy_sources SET seen_at = ?, deleted_at = NULL,"
                " deleted_by = NULL, deleted_reason = NULL"
                " WHERE strategy_id = ? AND source_type = ?",
                [now, strategy_id, source_type],
            )
            if row[0] is not None:
                revived += 1
                audit.append(
                    ledger,
                    "strategy.live",
                    strategy_id,
                    sourceType=source_type,
                    reason=reason,
                    deletedAt=row[0],
                )
    return revived


def deletion(ledger: Ledger, strategy_id: str, source_type: str) -> Deletion | None:
    """The object's deletion, or None while it is live (or unknown)."""
    row = ledger.db.execute(
        "SELECT deleted_at, deleted_by, deleted_reason FROM strategy_sources"
        " WHERE strategy_id = ? AND source_type = ? AND deleted_at IS NOT NULL",
        [strategy_id, source_type],
    ).fetchone()
    if row is None:
        return None
    return Deletion(strategy_id, source_type, row[0], row[1], row[2] or "")


def knows(ledger: Ledger, strategy_id: str, source_type: str) -> bool:
    """Whether Genesys ever showed us the object: an archive of it, a discovery or a
    successful read listed it, or it was marked deleted. Only then does a 404 mean
    "deleted" rather than "no such object"."""
    row = ledger.db.execute(
        "SELECT EXISTS (SELECT 1 FROM archives WHERE strategy_id = ? AND source_type = ?)"
        " OR EXISTS (SELECT 1 FROM strategy_sources WHERE strategy_id = ?"
        " AND source_type = ? AND (seen_at IS NOT NULL OR deleted_at IS NOT NULL))",
        [strategy_id, source_type, strategy_id, source_type],
    ).fetchone()
    return bool(row[0])


def deleted_objects(ledger: Ledger) -> list[Deletion]:
    """Every object marked deleted, most recently deleted first."""
    rows = ledger.db.execute(
        "SELECT strategy_id, source_type, deleted_at, deleted_by, deleted_reason"
        " FROM strategy_sources WHERE deleted_at IS NOT NULL"
        " ORDER BY deleted_at DESC, strategy_id"
    )
    return [Deletion(r[0], r[1], r[2], r[3], r[4] or "") for r in rows]


def ensure_rows(ledger: Ledger, strategy_id: str, source_type: str, now: str) -> None:
    """The object's rows, first seen ``now`` unless they exist: ``strategies`` keeps one per
    id, ``strategy_sources`` (where the deletion marks sit) one per id and source type.
    Queueing a job makes them too (``jobs.enqueue``)."""
    ledger.db.execute(
        "INSERT INTO strategies (id, source_type, first_seen_at) VALUES (?, ?, ?)"
        " ON CONFLICT(id) DO NOTHING",
        [strategy_id, source_type, now],
    )
    ledger.db.execute(
        "INSERT INTO strategy_sources (strategy_id, source_type, first_seen_at)"
        " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [strategy_id, source_type, now],
    )


def _name(ledger: Ledger, strategy_id: str) -> str | None:
    row = ledger.db.execute("SELECT name FROM strategies WHERE id = ?", [strategy_id]).fetchone()
    return row[0] if row and row[0] else None
