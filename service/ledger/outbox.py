"""The outbox: completion events and their deliveries, one per configured target.

An event is written in the same transaction as the archive (or the dead job) it
announces, so that it can never be lost; its body is fixed then, byte for byte, and
every retry sends the same bytes. Deliveries are claimed with a lease like jobs
(Unix seconds, renewed while an attempt runs), and never two at once for one target,
so that a slow or dead target holds up only its own lane.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from ..ops.logs import redact
from . import audit
from .db import transaction, update_in_batches
from .listing import listing

if TYPE_CHECKING:
    from .handle import Ledger

# The longest wait before a retry that the ledger records, whatever a target asked for:
# beyond it a date overflows, and a month is more than any schedule means.
MAX_RETRY_SECONDS = 30 * 24 * 3600.0


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at next_attempt_at (maybe now), or in flight under a lease
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: 410, or the retry schedule ran out


@dataclass(frozen=True)
class Delivery:
    id: str
    event_id: str
    event_type: str
    target: str
    state: DeliveryState
    attempts: int
    next_attempt_at: str
    last_status: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    body: str  # the event's exact JSON


_SELECT = (
    "SELECT d.id, d.event_id, e.type, d.target, d.state, d.attempts, d.next_attempt_at,"
    " d.last_status, d.last_error, d.created_at, d.delivered_at, e.body"
    " FROM deliveries d JOIN outbox_events e ON e.id = d.event_id"
)


def _delivery(row: Sequence[Any]) -> Delivery:
    values = list(row)
    values[4] = DeliveryState(values[4])
    return Delivery(*values)


def add_event(
    ledger: Ledger,
    event_type: str,
    strategy_id: str | None,
    data: dict[str, Any],
    targets: Sequence[str],
) -> str | None:
    """Write one event and a delivery per target; inside the caller's transaction."""
    if not targets:
        return None
    now = iso(utcnow())
    event_id = str(uuid.uuid4())
    body = json.dumps({"type": event_type, "timestamp": now, "data": data}, separators=(",", ":"))
    with transaction(ledger.db):
        ledger.db.execute(
            "INSERT INTO outbox_events (id, type, strategy_id, body, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [event_id, event_type, strategy_id, body, now],
        )
        ledger.db.conn.executemany(
            "INSERT INTO deliveries (id, event_id, target, state, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, 'pending', ?, ?)",
            [(str(uuid.uuid4()), event_id, target, now, now) for target in targets],
        )
    return event_id


def claim_delivery(
    ledger: Ledger, owner: str, *, lease_seconds: float, targets: Sequence[str]
) -> Delivery | None:
    """The oldest due delivery to one of ``targets`` whose lane is free, leased to ``owner``."""
    if not targets:
        return None
    marks = ", ".join("?" * len(targets))
    with transaction(ledger.db):
        now = utcnow()
        clock = now.timestamp()
        row = ledger.db.execute(
            "SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            f" AND target IN ({marks})"
            " AND target NOT IN (SELECT target FROM deliveries WHERE state = 'pending'"
            " AND lease_until > ?)"
            " ORDER BY next_attempt_at, created_at LIMIT 1",
            [iso(now), clock, *targets, clock],
        ).fetchone()
        if row is None:
            return None
        ledger.db.execute(
            "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?",
            [owner, clock + lease_seconds, row[0]],
        )
        return get_delivery(ledger, row[0])


def extend_delivery_lease(
    ledger: Ledger, delivery_id: str, owner: str, *, lease_seconds: float
) -> bool:
    """Push the lease of an attempt in flight forward; False when it is no longer held."""
    with transaction(ledger.db):
        cursor = ledger.db.execute(
            "UPDATE deliveries SET lease_until = ?"
            " WHERE id = ? AND lease_owner = ? AND state = 'pending'",
            [utcnow().timestamp() + lease_seconds, delivery_id, owner],
        )
        return cursor.rowcount == 1


def record_attempt(
    ledger: Ledger,
    delivery_id: str,
    owner: str,
    *,
    outcome: DeliveryState,
    status: int | None,
    detail: str,
    retry_in: float | None = None,
) -> Delivery | None:
    """One attempt's outcome; None when the lease was lost (another worker has it now).

    ``retry_in`` is clamped to ``MAX_RETRY_SECONDS``: a huge one would overflow the date.
    ``detail`` (a receiver's answer may echo a credential) is stored redacted.
    """
    detail = redact(detail, ledger.secrets)
    wait = retry_in or 0.0
    wait = min(max(wait, 0.0), MAX_RETRY_SECONDS) if math.isfinite(wait) else MAX_RETRY_SECONDS
    with transaction(ledger.db):
        now = utcnow()
        next_at = iso(now + timedelta(seconds=wait))
        cursor = ledger.db.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?,"
            " last_error = ?, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL,"
            " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END"
            " WHERE id = ? AND lease_owner = ? AND state = 'pending'",
            [
                str(outcome),
                status,
                None if outcome is DeliveryState.DELIVERED else detail,
                next_at,
                str(outcome),
                iso(now),
                delivery_id,
                owner,
            ],
        )
        if cursor.rowcount != 1:
            return None
        delivery = get_delivery(ledger, delivery_id)
        assert delivery is not None
        # Every attempt's outcome is audited; one still pending is a retry.
        action = "retry" if outcome is DeliveryState.PENDING else str(outcome)
        audit.append(
            ledger,
            f"delivery.{action}",
            delivery.event_id,
            deliveryId=delivery_id,
            target=delivery.target,
            attempts=delivery.attempts,
            status=status,
            detail=detail,
        )
        return delivery


def get_delivery(ledger: Ledger, delivery_id: str) -> Delivery | None:
    """One delivery with its event, or None."""
    row = ledger.db.execute(f"{_SELECT} WHERE d.id = ?", [delivery_id]).fetchone()
    return _delivery(row) if row else None


def list_deliveries(
    ledger: Ledger,
    *,
    state: str | None = None,
    strategy_id: str | None = None,
    since: str | None = None,
    limit: int | None = 100,
) -> list[Delivery]:
    """Deliveries, newest first."""
    sql, params = listing(
        _SELECT,
        equal=[("d.state", state), ("e.strategy_id", strategy_id)],
        since=since,
        since_columns=["d.created_at"],
        order="d.created_at DESC, d.rowid DESC",
        limit=limit,
    )
    return [_delivery(r) for r in ledger.db.execute(sql, params)]


def redeliver(ledger: Ledger, *, delivery_id: str | None = None, dead: bool = False) -> list[str]:
    """Make dead deliveries (one, or all) pending and due now; return their ids."""
    with transaction(ledger.db):
        now = iso(utcnow())
        if delivery_id:
            rows = ledger.db.execute(
                "SELECT id FROM deliveries WHERE id = ? AND state = 'dead'", [delivery_id]
            ).fetchall()
        elif dead:
            rows = ledger.db.execute("SELECT id FROM deliveries WHERE state = 'dead'").fetchall()
        else:
            rows = []
        ids = [r[0] for r in rows]
        ledger.db.conn.executemany(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, attempts = 0,"
            " lease_owner = NULL, lease_until = NULL WHERE id = ?",
            [(now, i) for i in ids],
        )
        for i in ids:
            audit.append(ledger, "admin.redeliver", i)
        return ids


def prune_outbox_bodies(ledger: Ledger, before: str, *, batch: int = 500) -> int:
    """Empty the bodies of events created before ``before`` (ISO-8601) that every target
    has received; how many.

    A pending delivery must resend the same bytes, and a dead one may be sent again on
    an admin's request (``redeliver``): their events keep their bodies.
    """
    return update_in_batches(
        ledger.db,
        "UPDATE outbox_events SET body = '' WHERE rowid IN (SELECT e.rowid"
        " FROM outbox_events e WHERE e.created_at < ? AND e.body != ''"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id"
        " AND d.state != 'delivered') LIMIT ?)",
        [before],
        batch,
    )


def outbox_backlog(ledger: Ledger) -> int:
    """Deliveries not yet delivered nor dead."""
    row = ledger.db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()
    return int(row[0])
