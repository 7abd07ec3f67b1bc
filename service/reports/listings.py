"""The listings of ``archiver ledger``: one query per kind of record, as plain dicts.

All with the same filters, all built on ledger verbs (no SQL here), newest first. Command
line and scripts share them, and ``render.render_table`` turns their rows into aligned
columns for people.
"""

from __future__ import annotations

from collections.abc import Callable

from ..clock import iso, parse_iso
from ..errors import UsageError
from ..ledger import DeliveryState, JobState, Ledger, Submission
from . import Row

DEFAULT_LIMIT = 100


def parse_since(text: str) -> str:
    """An ISO-8601 time (a date alone means its midnight UTC) in the ledger's own form.

    Raises ``ValueError`` when ``text`` is not one.
    """
    return iso(parse_iso(text.strip()))


def strategies(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Known strategies with their counts; ``since``: first seen or last archived since."""
    _check_status("strategies", status)
    found = ledger.list_strategies(strategy_id=strategy_id, since=since, limit=limit)
    # Version entries the last run left out (contract section 3), each with its reason.
    skipped = ledger.skipped_versions([r["id"] for r in found])
    return [
        {
            "strategyId": r["id"],
            "sourceType": r["source_type"],
            "name": r["name"],
            "archives": r["archives"],
            "jobs": r["jobs"],
            "deadJobs": r["dead_jobs"],
            # Deleted in Genesys (contract section 11): passed over by the sweep.
            "state": "deleted" if r["deleted_at"] else "live",
            "deletedAt": r["deleted_at"],
            "deletedBy": r["deleted_by"],
            "firstSeenAt": r["first_seen_at"],
            "lastArchivedAt": r["last_archived_at"],
            "skipped": skipped.get(r["id"], []),
        }
        for r in found
    ]


def archives(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Archives; ``status`` is the submission state (pending, submitted, rejected, local)."""
    _check_status("archives", status)
    found = ledger.list_archives(
        strategy_id=strategy_id,
        submission=Submission(status) if status else None,
        since=since,
        limit=limit,
    )
    return [a.as_dict() for a in found]


def jobs(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Archive jobs; ``status`` is the job state."""
    _check_status("jobs", status)
    found = ledger.list_jobs(strategy_id=strategy_id, state=status, since=since, limit=limit)
    return [j.as_dict() for j in found]


def events(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Inbound notifications as recorded (without their bodies)."""
    _check_status("events", status)
    return [
        {
            "eventId": r["id"],
            "receivedAt": r["received_at"],
            "topic": r["topic"],
            "sourceType": r["source_type"],
            "strategyId": r["strategy_id"],
            "outcome": r["outcome"],
            "reason": r["reason"],
            "jobId": r["job_id"],
            "correlationId": r["correlation_id"],
            "eventbridgeId": r["eventbridge_id"],
            # Who made the change, as the event says (audit user and client, flow operation).
            "userId": r["user_id"],
            "userName": r["user_name"],
            "clientId": r["client_id"],
            "clientName": r["client_name"],
        }
        for r in ledger.list_events(strategy_id=strategy_id, since=since, limit=limit)
    ]


def deliveries(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Outbound deliveries, one per event and target; ``status`` is the delivery state."""
    _check_status("deliveries", status)
    found = ledger.list_deliveries(state=status, strategy_id=strategy_id, since=since, limit=limit)
    return [d.as_dict() for d in found]


def audit(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Audit log entries; ``strategy_id`` keeps the entries whose subject it is."""
    _check_status("audit", status)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "action": e.action,
            "subject": e.subject,
            "detail": e.detail,
            "prevHash": e.prev_hash,
            "hash": e.hash,
        }
        for e in ledger.list_audit(subject=strategy_id, since=since, limit=limit)
    ]


QUERIES: dict[str, Callable[..., list[Row]]] = {
    "strategies": strategies,
    "archives": archives,
    "jobs": jobs,
    "events": events,
    "deliveries": deliveries,
    "audit": audit,
}

# The values ``status`` may take, for the kinds that have a state column.
STATUSES: dict[str, tuple[str, ...]] = {
    "archives": tuple(str(s) for s in Submission),
    "jobs": tuple(str(s) for s in JobState),
    "deliveries": tuple(str(s) for s in DeliveryState),
}


def _check_status(kind: str, status: str | None) -> None:
    if status is None:
        return
    allowed = STATUSES.get(kind)
    if allowed is None:
        kinds = ", ".join(STATUSES)
        raise UsageError(f"--status applies only to {kinds}, not to {kind}")
    if status not in allowed:
        raise UsageError(f"--status for {kind} must be one of {', '.join(allowed)}, got {status!r}")
