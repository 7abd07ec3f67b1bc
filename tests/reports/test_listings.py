"""The listings of ``archiver ledger``: one ``listing`` over every kind, filters checked once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.errors import UsageError
from service.ledger import Ledger, audit, jobs
from service.reports.listings import KINDS, STATUSES, listing

FLOW = "38426578-d900-459f-a7e7-3260397f7ca3"
OTHER = "5b1e8d2f-4c0a-4e7f-9d3b-2a6c8f0e1d47"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


def test_every_kind_lists_from_an_empty_ledger(ledger: Ledger) -> None:
    assert KINDS == ("strategies", "archives", "jobs", "events", "deliveries", "audit")
    for kind in KINDS:
        assert listing(ledger, kind) == [], kind


def test_the_status_filter_reaches_the_kind_s_own_state(ledger: Ledger) -> None:
    jobs.enqueue(ledger, FLOW, "flow", reason="admin")
    assert [row["strategyId"] for row in listing(ledger, "jobs", status="waiting")] == [FLOW]
    assert listing(ledger, "jobs", status="done") == []
    assert listing(ledger, "archives", status="pending") == []
    assert STATUSES["archives"] == ("pending", "submitted", "rejected", "local")


def test_the_strategy_filter_of_the_audit_log_is_the_entry_s_subject(ledger: Ledger) -> None:
    audit.append(ledger, "admin.archive_requested", FLOW)
    audit.append(ledger, "admin.archive_requested", OTHER)
    found = listing(ledger, "audit", strategy_id=FLOW)
    assert [(row["action"], row["subject"]) for row in found] == [("admin.archive_requested", FLOW)]
    assert len(listing(ledger, "audit", limit=None)) >= 2


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("events", "done", "--status applies only to archives, jobs, deliveries, not to events"),
        ("jobs", "finished", "--status for jobs must be one of "),
    ],
)
def test_a_status_the_kind_does_not_have_is_a_usage_error(
    ledger: Ledger, kind: str, status: str, message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        listing(ledger, kind, status=status)
    assert str(caught.value).startswith(message)
