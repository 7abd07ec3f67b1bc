"""The tamper-evident audit log: an append-only hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so that
changing, inserting or removing any entry breaks every hash after it. Triggers
make the database refuse UPDATE and DELETE on the table.

Removing entries at the end breaks no hash, so two records kept apart from the rows
name the end: ``sqlite_sequence`` (the highest ``seq`` ever inserted) and the one-row
``audit_head`` table, which a trigger moves forward on every insert and which refuses
to be deleted or moved back. Neither holds against someone who rewrites the whole file
consistently; only a head recorded outside the ledger (``check_audit(expect_head=...)``)
catches that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from ..clock import iso, utcnow
from .db import transaction
from .listing import listing

if TYPE_CHECKING:
    from .handle import Ledger

GENESIS = "0" * 64

# The number to continue from is the highest ever used, by the rows, the anchor or
# SQLite's AUTOINCREMENT counter, so entries removed at the end leave a gap before the
# next entry that every later verify reports; the new entry links to the last one left.
_CHAIN_END = """
SELECT max(
    coalesce((SELECT max(seq) FROM audit_log), 0),
    coalesce((SELECT seq FROM audit_head WHERE id = 1), 0),
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)
), coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), ?)
"""


# An entry's columns, in the order AuditEntry.from_row takes them.
AUDIT_COLUMNS = "seq, at, action, subject, detail, prev_hash, hash"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    action: str
    subject: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> AuditEntry:
        """An entry from a row of ``AUDIT_COLUMNS``, its detail decoded."""
        seq, at, action, subject, detail, prev_hash, digest = row
        return cls(seq, at, action, subject, json.loads(detail), prev_hash, digest)


def entry_hash(
    prev_hash: str, seq: int, at: str, action: str, subject: str | None, detail: str
) -> str:
    """SHA-256 over the previous hash and this entry's fields, in one canonical form."""
    canonical = json.dumps([prev_hash, seq, at, action, subject, detail], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(ledger: Ledger, action: str, subject: str | None = None, **detail: Any) -> AuditEntry:
    """Append one entry, inside the caller's transaction when there is one."""
    return append_many(ledger, [(action, subject, detail)])[0]


def append_many(
    ledger: Ledger, entries: Sequence[tuple[str, str | None, dict[str, Any]]]
) -> list[AuditEntry]:
    """Append several entries with one read of the chain's end and one insert."""
    appended: list[AuditEntry] = []
    with transaction(ledger.db):
        seq, prev = ledger.db.execute(_CHAIN_END, [GENESIS]).fetchone()
        at = iso(utcnow())
        rows = []
        for action, subject, detail in entries:
            seq += 1
            text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
            digest = entry_hash(prev, seq, at, action, subject, text)
            rows.append((seq, at, action, subject, text, prev, digest))
            appended.append(AuditEntry(seq, at, action, subject, detail, prev, digest))
            prev = digest
        ledger.db.conn.executemany(
            "INSERT INTO audit_log (seq, at, action, subject, detail, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return appended


def audit_entries(
    ledger: Ledger, *, subject: str | None = None, limit: int | None = None
) -> list[AuditEntry]:
    """Entries in order, optionally only those about ``subject``."""
    sql, params = listing(
        f"SELECT {AUDIT_COLUMNS} FROM audit_log",
        equal=[("subject", subject)],
        order="seq",
        limit=limit,
    )
    return [AuditEntry.from_row(r) for r in ledger.db.execute(sql, params)]


def verify_audit(ledger: Ledger) -> tuple[int, str | None]:
    """(entries checked, description of the first problem or None): ``check_audit``'s
    verdict without the head."""
    check = check_audit(ledger)
    return check.entries, check.problem


def check_audit(ledger: Ledger, *, expect_head: tuple[int, str] | None = None) -> AuditCheck:
    """Walk the chain, then hold its end against ``audit_head``, ``sqlite_sequence`` and,
    when given, a (seq, hash) head recorded outside the ledger earlier.

    All of it is read in one snapshot, so appends running meanwhile do not count as a
    mismatch between the rows and the records of their end.
    """
    with _snapshot(ledger.db):
        walk = _walk(ledger.db)
        if walk.problem:
            return walk
        problem = (
            _against_anchor(ledger.db, walk)
            or _against_sequence(ledger.db, walk)
            or _against_recorded(ledger.db, walk, expect_head)
        )
    return AuditCheck(walk.entries, walk.head_seq, walk.head_hash, problem)


@dataclass(frozen=True)
class AuditCheck:
    """What ``check_audit`` found: the entries walked, the last one's seq and hash (the
    head an operator records), and the first problem, or None when the log verifies."""

    entries: int
    head_seq: int
    head_hash: str
    problem: str | None

    @property
    def head(self) -> str:
        """The head as ``SEQ:HASH``, the form ``archiver audit verify --expect-head`` takes."""
        return f"{self.head_seq}:{self.head_hash}"


@contextmanager
def _snapshot(db: Database) -> Iterator[None]:
    """One read transaction (joining the caller's when there is one), without the write lock."""
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _walk(db: Database) -> AuditCheck:
    """Check every entry's number, link and hash, in order; stop at the first bad one."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = db.execute(f"SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq")
    try:
        for seq, at, action, subject, detail, prev_hash, digest in rows:
            count += 1
            problem = None
            if seq != expected_seq:
                problem = f"entry {expected_seq} is missing (next entry is {seq})"
            elif prev_hash != prev:
                problem = f"entry {seq} does not follow entry {seq - 1} (previous hash differs)"
            elif entry_hash(prev_hash, seq, at, action, subject, detail) != digest:
                problem = f"entry {seq} ({action}) was altered: its hash does not match"
            if problem:
                return AuditCheck(count, expected_seq - 1, prev, problem)
            prev = digest
            expected_seq += 1
    finally:
        rows.close()
    return AuditCheck(count, expected_seq - 1, prev, None)


def _missing_at_end(last: int, end: int, source: str) -> str:
    which = f"entry {end} is" if end == last + 1 else f"entries {last + 1} to {end} are"
    return f"{which} missing at the end ({source})"


def _against_anchor(db: Database, walk: AuditCheck) -> str | None:
    """The ``audit_head`` row must name the last entry, by number and hash."""
    row = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if row is None:
        return "the audit head (table audit_head) is missing"
    seq, digest = row
    if seq > walk.head_seq:
        return _missing_at_end(walk.head_seq, seq, f"the audit head records entry {seq}")
    if seq < walk.head_seq:
        return (
            f"entries {seq + 1} to {walk.head_seq} were added without moving the audit head"
            f" (it records entry {seq})"
        )
    if digest != walk.head_hash:
        return f"entry {seq} is not the one the audit head records (hash differs)"
    return None


def _against_sequence(db: Database, walk: AuditCheck) -> str | None:
    """SQLite's AUTOINCREMENT counter must not be ahead of (or behind) the last entry."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    highest = int(row[0]) if row else 0
    if highest > walk.head_seq:
        return _missing_at_end(
            walk.head_seq, highest, f"sqlite_sequence says {highest} entries were written"
        )
    if highest < walk.head_seq:
        return f"sqlite_sequence ({highest}) is behind the last entry ({walk.head_seq})"
    return None


def _against_recorded(db: Database, walk: AuditCheck, expect: tuple[int, str] | None) -> str | None:
    """A head recorded earlier must still be in the chain, unchanged."""
    if expect is None:
        return None
    seq, digest = expect
    if seq > walk.head_seq:
        return (
            f"the recorded head {seq}:{digest} is not in the log: it ends at entry {walk.head_seq}"
        )
    row = db.execute("SELECT hash FROM audit_log WHERE seq = ?", [seq]).fetchone()
    found = row[0] if row else GENESIS
    if found != digest:
        return (
            f"entry {seq} is not the recorded head {seq}:{digest}: the log was rewritten"
            " since the head was recorded"
        )
    return None
