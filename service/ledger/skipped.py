"""Version entries left out of archives, with their reasons, until they pass or vanish.

A listing entry that fails validation does not block the others (contract section 3): the
archive run records it here and tries it again next time. The rows of a strategy always
describe its latest run, so ``archiver ledger strategies`` shows what is left out now.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from . import audit
from .db import transaction
from .present import row_view

if TYPE_CHECKING:
    from .handle import Ledger

# What a listing shows of each left-out entry, in order.
_SKIPPED_COLUMNS = ("source_type", "version_id", "reason", "first_seen_at", "last_seen_at", "times")


def record_skipped(
    ledger: Ledger,
    strategy_id: str,
    source_type: str,
    skipped: Sequence[tuple[str, str]],
    *,
    complete: bool = True,
    passed: Collection[str] = (),
) -> list[str]:
    """Make ``skipped`` (``(version id, reason)`` pairs) the strategy's left-out entries.

    After a ``complete`` listing every other row of the strategy goes (fixed, or gone from
    Genesys); after a partial one only the rows of ``passed`` entries (now valid) go. An
    entry left out for the first time gets an audit entry. Returns the ids of those.
    """
    now = iso(utcnow())
    wanted = {version_id: reason for version_id, reason in skipped}
    if not wanted and not _held(ledger, strategy_id, source_type):
        # The usual run: nothing left out now or before. No write, so no turn at the
        # write lock (only this strategy's one running job writes its rows).
        return []
    with transaction(ledger.db):
        held = _held(ledger, strategy_id, source_type)
        gone = held - set(wanted) if complete else held & set(passed)
        for version_id in sorted(gone):
            ledger.db.execute(
                "DELETE FROM skipped_versions"
                " WHERE strategy_id = ? AND source_type = ? AND version_id = ?",
                [strategy_id, source_type, version_id],
            )
        if wanted:
            ledger.db.execute(
                "INSERT INTO strategies (id, source_type, first_seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT(id) DO NOTHING",
                [strategy_id, source_type, now],
            )
        for version_id, reason in sorted(wanted.items()):
            ledger.db.execute(
                "INSERT INTO skipped_versions"
                " (strategy_id, source_type, version_id, reason, first_seen_at, last_seen_at,"
                " times) VALUES (?, ?, ?, ?, ?, ?, 1)"
                " ON CONFLICT(strategy_id, source_type, version_id) DO UPDATE SET"
                " reason = excluded.reason, last_seen_at = excluded.last_seen_at,"
                " times = times + 1",
                [strategy_id, source_type, version_id, reason, now, now],
            )
        new = sorted(set(wanted) - held)
        for version_id in new:
            audit.append(
                ledger,
                "version.skipped",
                strategy_id,
                sourceType=source_type,
                versionId=version_id,
                reason=wanted[version_id],
            )
    return new


def _held(ledger: Ledger, strategy_id: str, source_type: str) -> set[str]:
    """The version ids of the strategy's left-out entries as the ledger holds them."""
    rows = ledger.db.execute(
        "SELECT version_id FROM skipped_versions WHERE strategy_id = ? AND source_type = ?",
        [strategy_id, source_type],
    ).fetchall()
    return {r[0] for r in rows}


def skipped_versions(
    ledger: Ledger, strategy_ids: Collection[str]
) -> dict[str, list[dict[str, Any]]]:
    """The left-out entries of each of ``strategy_ids`` (those with any), by version id."""
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = sorted(set(strategy_ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = ledger.db.query(
            "SELECT strategy_id, source_type, version_id, reason, first_seen_at,"
            " last_seen_at, times FROM skipped_versions"
            f" WHERE strategy_id IN ({marks}) ORDER BY strategy_id, version_id",
            chunk,
        )
        for row in rows:
            found.setdefault(row["strategy_id"], []).append(row_view(row, _SKIPPED_COLUMNS))
    return found
