"""From the ledger's history items to the commits they make: one function for the live
lane and for a rebuild, so that both give the same commits.

What an item makes depends on the item, its archive document in cold storage and what
earlier items committed (a version is committed once; a deleted object's file is removed
only when the tree holds it). ``Replay`` is that state, learnt from the ledger's record
(live) or built up while replaying every item (rebuild).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..archive.store import read_payload
from ..errors import StorageError
from ..ledger.history import ARCHIVE, CommitRow, HistoryItem
from .commits import Change, deletion_change, version_changes

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

ObjectKey = tuple[str, str]  # (source type, object id)


@dataclass
class Replay:
    """What the branch holds so far: committed versions, and each present file's name."""

    archive_dir: Path
    committed: set[tuple[str, str, str]] = field(default_factory=set)
    present: dict[ObjectKey, str] = field(default_factory=dict)  # object -> its file's name

    def learn(self, rows: Iterable[CommitRow]) -> None:
        """Take in commits already made (the ledger's record), oldest first."""
        for row in rows:
            key = (row.source_type, row.object_id)
            if row.version_id is None:
                self.present.pop(key, None)
            else:
                self.committed.add((row.source_type, row.object_id, row.version_id))
                self.present[key] = row.name

    def changes(self, item: HistoryItem) -> list[Change]:
        """The commits ``item`` makes after everything taken in so far (then taken in too)."""
        key = (item.source_type, item.object_id)
        if item.kind == ARCHIVE:
            made = [
                change
                for change in version_changes(self._document(item))
                if (item.source_type, item.object_id, change.version_id) not in self.committed
            ]
        elif key in self.present:
            by, by_id = item.deleted_by, item.deleted_by_id
            if by_id is None and by and _UUID.match(by):
                by, by_id = None, by  # the ledger knew only the id
            made = [
                deletion_change(
                    item.source_type,
                    item.object_id,
                    item.name or self.present[key],
                    item.deleted_at or "1970-01-01T00:00:00Z",
                    None if by == by_id else by,
                    by_id,
                )
            ]
        else:
            made = []  # nothing of the object in the tree: nothing to remove
        for change in made:
            if change.version_id is None:
                self.present.pop(key, None)
            else:
                self.committed.add((item.source_type, item.object_id, change.version_id))
                self.present[key] = change.name
        return made

    def _document(self, item: HistoryItem) -> dict:
        if item.location is None:
            raise StorageError(f"history item {item.seq}: its archive is not in the ledger")
        return read_payload(self.archive_dir, item.location, item.sha256)


def commit_row(change: Change, commit: str) -> CommitRow:
    """How the ledger records ``change`` made as ``commit``."""
    return CommitRow(
        commit=commit,
        source_type=change.source_type,
        object_id=change.object_id,
        version_id=change.version_id,
        archive_key=change.archive_key,
        name=change.name,
        author=change.author.name,
        email=change.author.email,
        date=datetime.fromtimestamp(change.when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
