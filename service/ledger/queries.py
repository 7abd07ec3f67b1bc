"""Read-only views the admin commands and reports need and no other verb gives: strategies
with their counts, the audit log newest first, by subject or by time window, and events by
time window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .audit import AUDIT_COLUMNS, AuditEntry
from .listing import listing

if TYPE_CHECKING:
    from .handle import Ledger

# Shortest id prefix a command accepts (contract section 3): 8 hex digits, a UUID's first group.
MIN_PREFIX = 8


def resolve_object(ledger: Ledger, text: str) -> list[tuple[str, str, str | None]]:
    """``(id, source_type, name)`` of every object ``text`` may mean, by id: the object
    whose id it is, whose id starts with it (at least ``MIN_PREFIX`` characters, any
    case), or whose name it is exactly. Sorted by source type, name, id; one object
    once."""
    if not text:
        return []
    where = ["name = ?"]
    params: list[Any] = [text]
    if len(text) >= MIN_PREFIX:
        # substr, not LIKE: an id's "_" or "%" is no wildcard, and ids are lower case.
        where.append("substr(id, 1, ?) = ?")
        params.extend([len(text), text.lower()])
    rows = ledger.db.execute(
        f"SELECT id, source_type, name FROM strategies WHERE {' OR '.join(where)}"
        " ORDER BY source_type, name, id",
        params,
    )
    return [(row[0], row[1], row[2]) for row in rows]


def list_strategies(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    since: str | None = None,
    limit: int | None = 100,
) -> list[dict[str, Any]]:
    """Known strategies with their archive and job counts, most recently active first,
    and (``deleted_at``, ``deleted_by``) when marked deleted.

    ``since`` keeps those first seen or last archived at or after that time.
    """
    sql, params = listing(
        "SELECT s.id, s.source_type, s.name, s.first_seen_at, s.last_archived_at,"
        " (SELECT count(*) FROM archives a WHERE a.strategy_id = s.id) AS archives,"
        " (SELECT count(*) FROM jobs j WHERE j.strategy_id = s.id) AS jobs,"
        " (SELECT count(*) FROM jobs j WHERE j.strategy_id = s.id AND j.state = 'dead')"
        " AS dead_jobs, d.deleted_at, d.deleted_by"
        " FROM strategies s LEFT JOIN strategy_sources d"
        " ON d.strategy_id = s.id AND d.source_type = s.source_type",
        equal=[("s.id", strategy_id)],
        since=since,
        since_columns=["s.first_seen_at", "s.last_archived_at"],
        order="max(s.first_seen_at, COALESCE(s.last_archived_at, '')) DESC, s.rowid DESC",
        limit=limit,
    )
    return list(ledger.db.query(sql, params))


def list_audit(
    ledger: Ledger,
    *,
    subject: str | None = None,
    since: str | None = None,
    limit: int | None = 100,
) -> list[AuditEntry]:
    """Audit entries, newest first, optionally only those about ``subject``."""
    sql, params = listing(
        f"SELECT {AUDIT_COLUMNS} FROM audit_log",
        equal=[("subject", subject)],
        since=since,
        since_columns=["at"],
        order="seq DESC",
        limit=limit,
    )
    return [AuditEntry.from_row(r) for r in ledger.db.execute(sql, params)]


def audit_about(ledger: Ledger, subjects: Sequence[str]) -> list[AuditEntry]:
    """Audit entries whose subject is any of ``subjects``, oldest first."""
    wanted = sorted(set(subjects))
    found: list[AuditEntry] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = ledger.db.execute(
            f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE subject IN ({marks})",
            chunk,
        )
        found += [AuditEntry.from_row(r) for r in rows]
    return sorted(found, key=lambda e: e.seq)


def audit_between(ledger: Ledger, start: str, end: str) -> list[AuditEntry]:
    """Audit entries written at or after ``start`` and before ``end``, oldest first."""
    rows = ledger.db.execute(
        f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE at >= ? AND at < ? ORDER BY seq",
        [start, end],
    )
    return [AuditEntry.from_row(r) for r in rows]


def events_between(ledger: Ledger, start: str, end: str) -> list[dict[str, Any]]:
    """Inbound events received at or after ``start`` and before ``end``, oldest first,
    without their bodies."""
    return list(
        ledger.db.query(
            "SELECT id, received_at, topic, source_type, strategy_id, correlation_id,"
            " eventbridge_id, outcome, reason, job_id FROM events"
            " WHERE received_at >= ? AND received_at < ? ORDER BY received_at, rowid",
            [start, end],
        )
    )
