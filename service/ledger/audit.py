"""The tamper-evident audit log: an append-only hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so that
changing, inserting or removing any entry breaks every hash after it. Triggers
make the database refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from ..clock import iso, utcnow
from .db import transaction

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    action: str
    subject: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(
    prev_hash: str, seq: int, at: str, action: str, subject: str | None, detail: str
) -> str:
    """SHA-256 over the previous hash and this entry's fields, in one canonical form."""
    canonical = json.dumps([prev_hash, seq, at, action, subject, detail], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditVerbs:
    """Appending to and checking the audit log. Call ``audit`` inside the write it records."""

    db: Database

    def audit(self, action: str, subject: str | None = None, **detail: Any) -> AuditEntry:
        """Append one entry, inside the caller's transaction when there is one."""
        return self.audit_many([(action, subject, detail)])[0]

    def audit_many(
        self, entries: Sequence[tuple[str, str | None, dict[str, Any]]]
    ) -> list[AuditEntry]:
        """Append several entries with one read of the chain's end and one insert."""
        appended: list[AuditEntry] = []
        with transaction(self.db):
            last = self.db.execute(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev = (last[0], last[1]) if last else (0, GENESIS)
            at = iso(utcnow())
            rows = []
            for action, subject, detail in entries:
                seq += 1
                text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
                digest = entry_hash(prev, seq, at, action, subject, text)
                rows.append((seq, at, action, subject, text, prev, digest))
                appended.append(AuditEntry(seq, at, action, subject, detail, prev, digest))
                prev = digest
            self.db.conn.executemany(
                "INSERT INTO audit_log (seq, at, action, subject, detail, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return appended

    def audit_entries(
        self, *, subject: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Entries in order, optionally only those about ``subject``."""
        sql = "SELECT seq, at, action, subject, detail, prev_hash, hash FROM audit_log"
        params: list[Any] = []
        if subject:
            sql += " WHERE subject = ?"
            params.append(subject)
        sql += " ORDER BY seq"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6])
            for r in self.db.execute(sql, params)
        ]

    def verify_audit(self) -> tuple[int, str | None]:
        """Walk the chain; return (entries checked, description of the first bad entry or None)."""
        prev = GENESIS
        expected_seq = 1
        count = 0
        rows = self.db.execute(
            "SELECT seq, at, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq"
        )
        for seq, at, action, subject, detail, prev_hash, digest in rows:
            count += 1
            if seq != expected_seq:
                return count, f"entry {expected_seq} is missing (next entry is {seq})"
            if prev_hash != prev:
                return count, f"entry {seq} does not follow entry {seq - 1} (previous hash differs)"
            if entry_hash(prev_hash, seq, at, action, subject, detail) != digest:
                return count, f"entry {seq} ({action}) was altered: its hash does not match"
            prev = digest
            expected_seq += 1
        return count, None
