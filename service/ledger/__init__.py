"""The SQLite ledger: the only code that knows SQL. It offers verbs, not tables."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from sqlite_utils import Database

from .archives import ArchiveRecord, ArchiveVerbs, Submission
from .audit import AuditEntry, AuditVerbs
from .db import close, connect, transaction
from .events import Accepted, EventVerbs, IncomingEvent
from .jobs import Job, JobRetry, JobState, JobVerbs, LeaseLost
from .metrics import MetricsVerbs
from .outbox import Delivery, DeliveryState, OutboxVerbs
from .queries import QueryVerbs

__all__ = [
    "Accepted",
    "ArchiveRecord",
    "AuditEntry",
    "Delivery",
    "DeliveryState",
    "IncomingEvent",
    "Job",
    "JobRetry",
    "JobState",
    "LeaseLost",
    "Ledger",
    "Submission",
]


class Ledger(ArchiveVerbs, AuditVerbs, EventVerbs, JobVerbs, MetricsVerbs, OutboxVerbs, QueryVerbs):
    """One process's handle on the ledger file. Open it after any fork, never before."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db: Database = connect(self.path)

    def transaction(self) -> AbstractContextManager[Database]:
        """One atomic write spanning several verbs."""
        return transaction(self.db)

    def close(self) -> None:
        close(self.db)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
