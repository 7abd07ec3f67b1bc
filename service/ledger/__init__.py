"""The SQLite ledger: the only code that knows SQL. It offers verbs, not tables.

``Ledger`` is the handle (a connection, the secrets to mask); the verbs are functions
that take it first, one module per table: ``jobs``, ``archives``, ``events``, ``outbox``,
``audit``, ``deletions``, ``skipped``, ``gauges`` and ``queries`` (reads for reports).
``listing`` builds their filtered listings and ``present`` their camelCase views.
"""

from __future__ import annotations

from .archives import ArchiveRecord, Submission
from .audit import AuditCheck, AuditEntry
from .db import LOCK_TIMEOUT_SECONDS
from .deletions import Deletion
from .events import Accepted, Actor, IncomingEvent
from .gauges import LedgerGauges
from .handle import Ledger
from .jobs import Job, JobState, LeaseLost
from .outbox import Delivery, DeliveryState

__all__ = [
    "LOCK_TIMEOUT_SECONDS",
    "Accepted",
    "Actor",
    "ArchiveRecord",
    "AuditCheck",
    "AuditEntry",
    "Deletion",
    "Delivery",
    "DeliveryState",
    "IncomingEvent",
    "Job",
    "JobState",
    "LeaseLost",
    "Ledger",
    "LedgerGauges",
    "Submission",
]
