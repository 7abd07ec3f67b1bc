"""The audit log: a hash chain the database will not let anyone rewrite."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from service.ledger import Ledger, audit
from service.ledger.audit import entry_hash
from service.ledger.migrations import MIGRATIONS


def test_entries_chain_to_each_other(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        first = audit.append(ledger, "admin.test", "subject-1", note="one")
        second = audit.append(ledger, "admin.test", "subject-2", note="two")
        assert first.prev_hash == "0" * 64
        assert second.prev_hash == first.hash
        assert audit.verify_audit(ledger) == (2, None)


def test_update_and_delete_are_refused(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        audit.append(ledger, "admin.test", "s", note="one")
        with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
            ledger.db.execute("UPDATE audit_log SET action = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="cannot be deleted"):
            ledger.db.execute("DELETE FROM audit_log")
        assert audit.verify_audit(ledger) == (1, None)


def test_verify_names_the_first_altered_entry(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        for n in range(4):
            audit.append(ledger, "admin.test", f"s{n}", n=n)
        ledger.db.execute("DROP TRIGGER audit_log_no_update")
        ledger.db.execute("UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 3")
        expected = "entry 3 (admin.test) was altered: its hash does not match"
        assert audit.verify_audit(ledger)[1] == expected


def test_verify_notices_a_removed_entry(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        for n in range(3):
            audit.append(ledger, "admin.test", f"s{n}", n=n)
        ledger.db.execute("DROP TRIGGER audit_log_no_delete")
        ledger.db.execute("DELETE FROM audit_log WHERE seq = 2")
        assert audit.verify_audit(ledger)[1] == "entry 2 is missing (next entry is 3)"


def _fifteen_entries(ledger: Ledger) -> list[str]:
    """Fifteen entries; their hashes in order."""
    return [audit.append(ledger, "admin.test", f"s{n}", n=n).hash for n in range(15)]


def _delete_after(ledger: Ledger, seq: int) -> None:
    """What someone with write access does: drop the trigger, delete, put the trigger back."""
    ledger.db.execute("DROP TRIGGER audit_log_no_delete")
    ledger.db.execute("DELETE FROM audit_log WHERE seq > ?", [seq])
    ledger.db.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit log entries cannot be deleted'); END"
    )


def _rewind_anchor(ledger: Ledger, seq: int) -> None:
    """Move the anchor back to entry ``seq``, around its triggers."""
    ledger.db.execute("DROP TRIGGER audit_head_forward_only")
    ledger.db.execute(
        "UPDATE audit_head SET seq = ?, hash = (SELECT hash FROM audit_log WHERE seq = ?)",
        [seq, seq],
    )


def test_verify_notices_entries_removed_at_the_end(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        _fifteen_entries(ledger)
        _delete_after(ledger, 5)
        assert audit.verify_audit(ledger) == (
            5,
            "entries 6 to 15 are missing at the end (the audit head records entry 15)",
        )
        # the service goes on, and later entries do not paper over the gap
        assert audit.append(ledger, "admin.test").seq == 16
        assert audit.verify_audit(ledger)[1] == "entry 6 is missing (next entry is 16)"


def test_the_anchor_catches_a_removed_tail_with_a_rewound_sequence(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        _fifteen_entries(ledger)
        _delete_after(ledger, 14)
        ledger.db.execute("UPDATE sqlite_sequence SET seq = 14 WHERE name = 'audit_log'")
        assert audit.verify_audit(ledger)[1] == (
            "entry 15 is missing at the end (the audit head records entry 15)"
        )
        assert audit.append(ledger, "admin.test").seq == 16
        assert audit.verify_audit(ledger)[1] == "entry 15 is missing (next entry is 16)"


def test_the_sequence_catches_a_removed_tail_with_a_rewound_anchor(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        _fifteen_entries(ledger)
        _delete_after(ledger, 5)
        _rewind_anchor(ledger, 5)
        assert audit.verify_audit(ledger)[1] == (
            "entries 6 to 15 are missing at the end (sqlite_sequence says 15 entries were written)"
        )


def test_only_a_recorded_head_catches_a_consistent_rewind(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        hashes = _fifteen_entries(ledger)
        recorded = audit.check_audit(ledger)
        assert (recorded.problem, recorded.head) == (None, f"15:{hashes[14]}")
        _delete_after(ledger, 5)
        ledger.db.execute("UPDATE sqlite_sequence SET seq = 5 WHERE name = 'audit_log'")
        _rewind_anchor(ledger, 5)
        assert audit.verify_audit(ledger) == (5, None)  # what the ledger alone cannot prove
        assert audit.check_audit(ledger, expect_head=(5, hashes[4])).problem is None
        assert audit.check_audit(ledger, expect_head=(15, hashes[14])).problem == (
            f"the recorded head 15:{hashes[14]} is not in the log: it ends at entry 5"
        )


def test_a_recorded_head_catches_a_rewritten_chain(tmp_path: Path) -> None:
    """Everything rebuilt from scratch, as long as before, with one entry changed."""
    with Ledger(tmp_path / "l.db") as ledger:
        hashes = _fifteen_entries(ledger)
    (tmp_path / "l.db").unlink()
    with Ledger(tmp_path / "l.db") as forged:
        for n in range(15):
            audit.append(forged, "admin.test", f"s{n}", n=99 if n == 3 else n)
        assert audit.verify_audit(forged) == (15, None)
        assert audit.check_audit(forged, expect_head=(15, hashes[14])).problem == (
            f"entry 15 is not the recorded head 15:{hashes[14]}: the log was rewritten"
            " since the head was recorded"
        )


def test_the_anchor_refuses_deletion_replacement_and_moving_back(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        hashes = _fifteen_entries(ledger)
        refused = {
            "DELETE FROM audit_head": "the audit head cannot be deleted",
            "INSERT OR REPLACE INTO audit_head VALUES (1, 5, 'x')": "cannot be replaced",
            "UPDATE audit_head SET seq = 5": "only moves forward",
            f"UPDATE audit_head SET seq = 16, hash = '{hashes[14]}'": "only moves forward",
        }
        for sql, message in refused.items():
            with pytest.raises(sqlite3.IntegrityError, match=message):
                ledger.db.execute(sql)
        # an entry put back into a gap in the middle would move the anchor back: refused
        ledger.db.execute("DROP TRIGGER audit_log_no_delete")
        ledger.db.execute("DELETE FROM audit_log WHERE seq = 7")
        with pytest.raises(sqlite3.IntegrityError, match="only moves forward"):
            ledger.db.execute(
                "INSERT INTO audit_log SELECT 7, at, action, subject, detail, prev_hash, hash"
                " FROM audit_log WHERE seq = 8"
            )
        assert audit.verify_audit(ledger)[1] == "entry 7 is missing (next entry is 8)"


def test_the_migration_anchors_an_existing_ledger(tmp_path: Path) -> None:
    """A ledger written before the anchor existed: the migration starts it at the last
    entry, and a tail removed before the upgrade still shows through sqlite_sequence."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        db = Database(conn)
        MIGRATIONS.apply(db, stop_before="0005_audit_anchor")
        prev = "0" * 64
        for seq in range(1, 8):
            digest = entry_hash(prev, seq, "2026-01-01T00:00:00Z", "admin.test", None, "{}")
            conn.execute(
                "INSERT INTO audit_log VALUES (?, '2026-01-01T00:00:00Z', 'admin.test',"
                " NULL, '{}', ?, ?)",
                [seq, prev, digest],
            )
            prev = digest
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE seq = 7")
    conn.close()
    with Ledger(path) as ledger:
        check = audit.check_audit(ledger)
        assert (
            check.problem
            == "entry 7 is missing at the end (sqlite_sequence says 7 entries were written)"
        )
        assert ledger.db.execute("SELECT seq FROM audit_head").fetchone()[0] == 6
        assert audit.append(ledger, "admin.test").seq == 8  # the anchor follows new entries
        assert ledger.db.execute("SELECT seq FROM audit_head").fetchone()[0] == 8
        assert audit.verify_audit(ledger) == (7, "entry 7 is missing (next entry is 8)")


def test_verify_while_entries_are_appended_sees_no_false_break(tmp_path: Path) -> None:
    """Another connection appends all the time; every check reads one consistent snapshot."""
    path = tmp_path / "l.db"
    appending, stop = threading.Event(), threading.Event()

    def append() -> None:
        with Ledger(path) as writer:
            while not stop.is_set():
                audit.append_many(writer, [("admin.test", None, {"n": n}) for n in range(3)])
                appending.set()

    with Ledger(path) as ledger:
        thread = threading.Thread(target=append)
        thread.start()
        try:
            assert appending.wait(5)
            checks = [audit.check_audit(ledger)]
            deadline = time.monotonic() + 5
            # until the writer has appended ten batches meanwhile
            while checks[-1].entries < checks[0].entries + 30 and time.monotonic() < deadline:
                checks.append(audit.check_audit(ledger))
        finally:
            stop.set()
            thread.join()
        assert [c.problem for c in checks] == [None] * len(checks)
        assert checks[-1].entries >= checks[0].entries + 30
