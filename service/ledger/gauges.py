"""What ``/metrics`` reports about the ledger itself, read at scrape time.

These numbers describe shared state that any process may change, so they are read
from the ledger on each scrape rather than kept in a process's memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .handle import Ledger


@dataclass(frozen=True)
class LedgerGauges:
    """Jobs and deliveries in hand, and the times that tell whether work keeps up."""

    jobs_waiting: int
    jobs_running: int
    oldest_waiting_created_at: str | None  # ISO-8601 UTC; None when no job waits
    outbox_backlog: int  # deliveries neither delivered nor dead
    last_archive_at: str | None  # when an archive last became final (submitted or local)


def ledger_gauges(ledger: Ledger) -> LedgerGauges:
    """Counts of waiting and running jobs and pending deliveries, and two times."""
    row = ledger.db.execute(
        "SELECT"
        " (SELECT count(*) FROM jobs WHERE state = 'waiting'),"
        " (SELECT count(*) FROM jobs WHERE state = 'running'),"
        " (SELECT min(created_at) FROM jobs WHERE state = 'waiting'),"
        " (SELECT count(*) FROM deliveries WHERE state = 'pending'),"
        " (SELECT max(CASE WHEN submission = 'submitted' THEN submitted_at"
        "  ELSE created_at END) FROM archives WHERE submission IN ('submitted', 'local'))"
    ).fetchone()
    return LedgerGauges(int(row[0]), int(row[1]), row[2], int(row[3]), row[4])
