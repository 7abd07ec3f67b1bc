"""The camelCase JSON views of the ledger's records, for the admin API, listings and reports.

The naming rules live here alone: a column or field ``snake_case`` is shown as
``camelCase``, a record's own ``id`` as ``<kind>Id``, enums as their text and tuples as
lists. Each view below says only what differs from those rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from enum import Enum
from typing import Any

from .archives import ArchiveRecord
from .audit import AuditEntry
from .events import Accepted
from .jobs import Job
from .outbox import Delivery

Row = dict[str, Any]


def camel(name: str) -> str:
    """``strategy_id`` -> ``strategyId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def view(
    record: Any,
    *,
    names: Mapping[str, str] | None = None,
    omit: Iterable[str] = (),
) -> Row:
    """A dataclass as a JSON-ready dict in field order: each field camelCased, or named as
    ``names`` says; ``omit``: fields left out."""
    names = names or {}
    left_out = set(omit)
    return {
        names.get(f.name) or camel(f.name): _value(getattr(record, f.name))
        for f in fields(record)
        if f.name not in left_out
    }


def row_view(row: Mapping[str, Any], columns: Sequence[str], *, kind: str = "") -> Row:
    """The ``columns`` of a query's row, in that order, camelCased (``id`` as ``<kind>Id``)."""
    return {(f"{kind}Id" if c == "id" and kind else camel(c)): row[c] for c in columns}


def archive(record: ArchiveRecord) -> Row:
    """An archive, with its number of versions before their ids."""
    shown = view(record, names={"id": "archiveId", "sha256": "contentSha256"})
    ordered: Row = {}
    for key, value in shown.items():
        if key == "versionIds":
            ordered["versionCount"] = len(record.version_ids)
        ordered[key] = value
    return ordered


def job(record: Job) -> Row:
    """A job, without its lease (the worker holding it is not the admin's business)."""
    return view(record, names={"id": "jobId"}, omit=("lease_owner", "lease_until"))


def delivery(record: Delivery) -> Row:
    """A delivery, without its event's body."""
    return view(record, names={"id": "deliveryId"}, omit=("body",))


def accepted(result: Accepted) -> Row:
    """The 202 body of one webhook request."""
    return view(result)


def audit_entry(entry: AuditEntry, *, hashes: bool = True) -> Row:
    """An audit entry; without its chain's hashes when ``hashes`` is false."""
    return view(entry, omit=() if hashes else ("prev_hash", "hash"))


# The columns of an inbound event a listing shows, in order (never its body).
EVENT_COLUMNS = (
    "id",
    "received_at",
    "topic",
    "source_type",
    "strategy_id",
    "outcome",
    "reason",
    "job_id",
    "correlation_id",
    "eventbridge_id",
    "user_id",
    "user_name",
    "client_id",
    "client_name",
)


def event(row: Mapping[str, Any], columns: Sequence[str] = EVENT_COLUMNS) -> Row:
    """An inbound event as recorded, its ``columns`` only."""
    return row_view(row, columns, kind="event")


def strategy(row: Mapping[str, Any], skipped: list[Row]) -> Row:
    """A strategy of ``queries.list_strategies`` with its counts, its state (deleted in
    Genesys, contract section 11, or live) and the version entries its last run left out."""
    columns = ("id", "source_type", "name", "archives", "jobs", "dead_jobs")
    shown = row_view(row, columns, kind="strategy")
    shown["state"] = "deleted" if row["deleted_at"] else "live"
    shown |= row_view(row, ("deleted_at", "deleted_by", "first_seen_at", "last_archived_at"))
    shown["skipped"] = skipped
    return shown
