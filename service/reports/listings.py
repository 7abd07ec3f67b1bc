"""The listings of ``archiver ledger``: one query per kind of record, as plain dicts.

``listing`` checks the filters once and runs the kind's query, a ledger verb (no SQL
here), newest first, described as data in ``QUERIES``. Command line and scripts share
them, and ``render.render_table`` turns their rows into aligned columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True)
class Query:
    """One kind's listing: the ledger verb, its names for the two filters, its rows."""

    verb: Callable[..., list[Any]]  # the ledger's listing, newest first
    rows: Callable[[Ledger, list[Any]], list[Row]]  # what the verb found, as plain dicts
    subject: str = "strategy_id"  # the verb's keyword for the strategy filter
    state: str | None = None  # the verb's keyword for the status filter; None: no state
    states: tuple[str, ...] = ()  # the values the status filter may take


def listing(
    ledger: Ledger,
    kind: str,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """The records of ``kind`` (one of ``KINDS``), newest first, as plain dicts;
    ``UsageError`` for a ``status`` the kind does not have."""
    _check_status(kind, status)
    query = QUERIES[kind]
    filters: dict[str, Any] = {query.subject: strategy_id, "since": since, "limit": limit}
    if query.state:
        filters[query.state] = status
    return query.rows(ledger, query.verb(ledger, **filters))


def _each(show: Callable[[Any], Row]) -> Callable[[Ledger, list[Any]], list[Row]]:
    return lambda ledger, found: [show(record) for record in found]


def _strategy_rows(ledger: Ledger, found: list[Row]) -> list[Row]:
    """Each strategy with the version entries its last run left out (contract section 3)."""
    skipped = ledger_skipped.skipped_versions(ledger, [r["id"] for r in found])
    return [present.strategy(r, skipped.get(r["id"], [])) for r in found]


def _values(states: type[StrEnum]) -> tuple[str, ...]:
    return tuple(str(state) for state in states)


# One query per kind, in the order ``archiver ledger`` names them. ``since``: strategies
# first seen or last archived since; ``status``: an archive's submission (pending,
# submitted, rejected, local), a job's or a delivery's state; audit entries are filtered
# by their subject; events are listed without their bodies.
QUERIES: dict[str, Query] = {
    "strategies": Query(queries.list_strategies, _strategy_rows),
    "archives": Query(
        ledger_archives.list_archives,
        _each(present.archive),
        state="submission",
        states=_values(Submission),
    ),
    "jobs": Query(
        ledger_jobs.list_jobs, _each(present.job), state="state", states=_values(JobState)
    ),
    "events": Query(ledger_events.list_events, _each(present.event)),
    "deliveries": Query(
        outbox.list_deliveries,
        _each(present.delivery),
        state="state",
        states=_values(DeliveryState),
    ),
    "audit": Query(queries.list_audit, _each(present.audit_entry), subject="subject"),
}
KINDS = tuple(QUERIES)
# The values ``status`` may take, for the kinds that have a state column.
STATUSES = {kind: query.states for kind, query in QUERIES.items() if query.state}


def _check_status(kind: str, status: str | None) -> None:
    if status is None:
        return
    allowed = STATUSES.get(kind)
    if allowed is None:
        kinds = ", ".join(STATUSES)
        raise UsageError(f"--status applies only to {kinds}, not to {kind}")
    if status not in allowed:
        raise UsageError(f"--status for {kind} must be one of {', '.join(allowed)}, got {status!r}")
