"""The audit log: a hash chain the database will not let anyone rewrite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.ledger import Ledger


def test_entries_chain_to_each_other(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        first = ledger.audit("admin.test", "subject-1", note="one")
        second = ledger.audit("admin.test", "subject-2", note="two")
        assert first.prev_hash == "0" * 64
        assert second.prev_hash == first.hash
        assert ledger.verify_audit() == (2, None)


def test_update_and_delete_are_refused(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.audit("admin.test", "s", note="one")
        with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
            ledger.db.execute("UPDATE audit_log SET action = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="cannot be deleted"):
            ledger.db.execute("DELETE FROM audit_log")
        assert ledger.verify_audit() == (1, None)


def test_verify_names_the_first_altered_entry(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        for n in range(4):
            ledger.audit("admin.test", f"s{n}", n=n)
        ledger.db.execute("DROP TRIGGER audit_log_no_update")
        ledger.db.execute("UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 3")
        expected = "entry 3 (admin.test) was altered: its hash does not match"
        assert ledger.verify_audit()[1] == expected


def test_verify_notices_a_removed_entry(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        for n in range(3):
            ledger.audit("admin.test", f"s{n}", n=n)
        ledger.db.execute("DROP TRIGGER audit_log_no_delete")
        ledger.db.execute("DELETE FROM audit_log WHERE seq = 2")
        assert ledger.verify_audit()[1] == "entry 2 is missing (next entry is 3)"
