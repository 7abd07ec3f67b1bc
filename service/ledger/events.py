"""Inbound notifications: recorded durably, de-duplicated, each joined to a job.

``accept_events`` is the whole write of one webhook request: events, jobs and
audit entries in one transaction, committed to disk before the 202 is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from . import audit, deletions, jobs
from .db import transaction, update_in_batches
from .listing import listing

if TYPE_CHECKING:
    from .handle import Ledger


@dataclass(frozen=True)
class Actor:
    """Who made the change an event reports, as far as the event says."""

    user_id: str | None = None
    user_name: str | None = None
    client_id: str | None = None
    client_name: str | None = None


@dataclass(frozen=True)
class IncomingEvent:
    """One notification as the inbound surface understood it."""

    dedup_key: str  # EventBridge id, else topic + CorrelationId + body digest
    topic: str
    body: str  # the event as received, compact JSON
    source_type: str | None = None  # None: no known source (heartbeats, other topics)
    strategy_id: str | None = None
    correlation_id: str | None = None
    eventbridge_id: str | None = None
    ignore_reason: str | None = None  # set: recorded, but starts no job
    # Set: the event reports the object deleted (how: "audit action Delete"...); no job,
    # the object is marked deleted (contract, section 11).
    deletion: str | None = None
    changed_at: str | None = None  # when the change happened, when the event says (ISO-8601)
    # The audit message's user and client, or the flow operation's: shown by listings.
    actor: Actor = Actor()


@dataclass
class Accepted:
    """The 202 body of one webhook request."""

    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    jobs: list[str] = field(default_factory=list)


def accept_events(
    ledger: Ledger, events: Sequence[IncomingEvent], *, notify: Sequence[str] = ()
) -> Accepted:
    """Record ``events`` and queue (or join) their jobs, all in one durable transaction.

    ``notify``: the targets a deletion's ``strategy.deleted`` event goes to.
    """
    return accept_batches(ledger, [events], notify=notify)[0]


def accept_batches(
    ledger: Ledger, batches: Sequence[Sequence[IncomingEvent]], *, notify: Sequence[str] = ()
) -> list[Accepted]:
    """Several requests' events in one transaction (one fsync); one result per request.

    A handful of statements per transaction whatever the number of events: one look-up
    of the de-duplication keys, one job per (source type, strategy), one insert of
    events and one of audit entries.
    """
    results = [Accepted() for _ in batches]
    now = iso(utcnow())
    with transaction(ledger.db):
        seen = _seen_keys(
            ledger, {e.dedup_key for batch in batches for e in batch if e.source_type}
        )
        queued: dict[tuple[str, str], str] = {}  # (source type, strategy id) -> job
        joined: dict[str, int] = {}
        rows: list[tuple[Any, ...]] = []
        audits: list[tuple[str, str | None, dict[str, Any]]] = []
        for batch, result in zip(batches, results, strict=True):
            for event in batch:
                if event.source_type is None:
                    result.ignored += 1  # not ours: counted, not stored
                    continue
                if event.dedup_key in seen:
                    result.duplicates += 1
                    continue
                seen.add(event.dedup_key)
                job_id = None
                if _deletes(event):
                    _deleted(ledger, event, now, notify)
                    result.accepted += 1
                elif event.ignore_reason is None and event.strategy_id:
                    key = (event.source_type, event.strategy_id)
                    job_id = queued.get(key)
                    if job_id is None:
                        job_id, _ = jobs.enqueue(
                            ledger, event.strategy_id, event.source_type, reason="event"
                        )
                        queued[key] = job_id
                    joined[job_id] = joined.get(job_id, 0) + 1
                    if job_id not in result.jobs:
                        result.jobs.append(job_id)
                    result.accepted += 1
                else:
                    result.ignored += 1
                event_id = str(uuid.uuid4())
                rows.append(_row(event_id, event, job_id, now))
                outcome = _outcome(event, job_id)
                detail: dict[str, Any] = {
                    "eventId": event_id,
                    "topic": event.topic,
                    "jobId": job_id,
                    "reason": event.ignore_reason,
                }
                if outcome == "deleted":
                    detail["reason"] = event.deletion
                audits.append(
                    (
                        "event.ignored" if outcome == "ignored" else "event.accepted",
                        event.strategy_id,
                        detail,
                    )
                )
        ledger.db.conn.executemany(
            "UPDATE jobs SET events = events + ? WHERE id = ?",
            [(count, job_id) for job_id, count in joined.items()],
        )
        ledger.db.conn.executemany(
            "INSERT INTO events (id, dedup_key, topic, source_type, strategy_id,"
            " correlation_id, eventbridge_id, outcome, reason, job_id, received_at, body,"
            " user_id, user_name, client_id, client_name)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if audits:
            audit.append_many(ledger, audits)
    return results


def _deleted(ledger: Ledger, event: IncomingEvent, now: str, notify: Sequence[str]) -> None:
    """Mark the object of a deletion event deleted (section 11), in the events' write."""
    # _deletes(event) held: the event names its object and how it was deleted.
    assert event.strategy_id and event.source_type and event.deletion
    deletions.mark_deleted(
        ledger,
        event.strategy_id,
        event.source_type,
        at=event.changed_at or now,
        by=event.actor.user_name or event.actor.user_id,
        by_id=event.actor.user_id,
        reason=event.deletion,
        notify=notify,
    )


def _seen_keys(ledger: Ledger, keys: set[str]) -> set[str]:
    """Which of ``keys`` the ledger has recorded already."""
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = ledger.db.execute(
            f"SELECT dedup_key FROM events WHERE dedup_key IN ({marks})", chunk
        )
        found.update(r[0] for r in rows)
    return found


def prune_event_bodies(ledger: Ledger, before: str, *, batch: int = 500) -> int:
    """Empty the bodies of events received before ``before`` (ISO-8601); how many.

    The rows stay (de-duplication, listings and reports need no body), as does the
    audit chain, which never held bodies. Batches keep each write lock short.
    """
    return update_in_batches(
        ledger.db,
        "UPDATE events SET body = '' WHERE rowid IN (SELECT rowid FROM events"
        " WHERE received_at < ? AND body != '' LIMIT ?)",
        [before],
        batch,
    )


def list_events(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    since: str | None = None,
    limit: int | None = 100,
) -> list[dict[str, Any]]:
    """Recorded events, newest first."""
    sql, params = listing(
        "SELECT * FROM events",
        equal=[("strategy_id", strategy_id)],
        since=since,
        since_columns=["received_at"],
        order="received_at DESC",
        limit=limit,
    )
    return list(ledger.db.query(sql, params))


def job_author(ledger: Ledger, job_id: str) -> str | None:
    """The user the newest event of a job names (its name, else its id), if any: the author
    of what the job archives when Genesys keeps none, as a snapshot (contract section 12)."""
    row = ledger.db.execute(
        "SELECT coalesce(user_name, user_id) FROM events WHERE job_id = ?"
        " AND coalesce(user_name, user_id) IS NOT NULL"
        " ORDER BY received_at DESC, rowid DESC LIMIT 1",
        [job_id],
    ).fetchone()
    return row[0] if row else None


def _deletes(event: IncomingEvent) -> bool:
    """Whether ``event`` marks its object deleted."""
    return bool(event.deletion and event.ignore_reason is None and event.strategy_id)


def _outcome(event: IncomingEvent, job_id: str | None) -> str:
    """``queued`` (a job), ``deleted`` (the object is gone) or ``ignored`` (recorded only)."""
    if job_id:
        return "queued"
    return "deleted" if _deletes(event) else "ignored"


def _row(event_id: str, event: IncomingEvent, job_id: str | None, now: str) -> tuple[Any, ...]:
    return (
        event_id,
        event.dedup_key,
        event.topic,
        event.source_type,
        event.strategy_id,
        event.correlation_id,
        event.eventbridge_id,
        _outcome(event, job_id),
        event.deletion if _deletes(event) else event.ignore_reason,
        job_id,
        now,
        event.body,
        event.actor.user_id,
        event.actor.user_name,
        event.actor.client_id,
        event.actor.client_name,
    )
