"""The listings of ``archiver ledger``: one query per kind of record, as plain dicts.

All with the same filters, all built on ledger verbs (no SQL here), newest first. Command
line and scripts share them, and ``render.render_table`` turns their rows into aligned
columns for people.
"""

from __future__ import annotations

from collections.abc import Callable

from ..clock import iso, parse_iso
from ..errors import UsageError
from ..ledger import DeliveryState, JobState, Ledger, Submission, outbox, present, queries
from ..ledger import archives as ledger_archives
from ..ledger import events as ledger_events
from ..ledger import jobs as ledger_jobs
from ..ledger import skipped as ledger_skipped
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
    found = queries.list_strategies(ledger, strategy_id=strategy_id, since=since, limit=limit)
    # Version entries the last run left out (contract section 3), each with its reason.
    skipped = ledger_skipped.skipped_versions(ledger, [r["id"] for r in found])
    return [present.strategy(r, skipped.get(r["id"], [])) for r in found]


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
    found = ledger_archives.list_archives(
        ledger,
        strategy_id=strategy_id,
        submission=Submission(status) if status else None,
        since=since,
        limit=limit,
    )
    return [present.archive(a) for a in found]


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
    found = ledger_jobs.list_jobs(
        ledger, strategy_id=strategy_id, state=status, since=since, limit=limit
    )
    return [present.job(j) for j in found]


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
        present.event(r)
        for r in ledger_events.list_events(
            ledger, strategy_id=strategy_id, since=since, limit=limit
        )
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
    found = outbox.list_deliveries(
        ledger, state=status, strategy_id=strategy_id, since=since, limit=limit
    )
    return [present.delivery(d) for d in found]


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
        present.audit_entry(e)
        for e in queries.list_audit(ledger, subject=strategy_id, since=since, limit=limit)
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
