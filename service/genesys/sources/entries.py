"""Reading the entries of a version listing: each checked alone, known ones passed over.

Each entry of a version listing is checked on its own: one that fails (a missing date,
an id without a leading integer) is left out as a ``SkippedVersion`` with its reason, and
the others are archived (contract section 3). Version ids are strings; a version's number
is the id's leading integer, and versions are ordered by ``version_order``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..schemas import check
from .base import NO_ID, Listing, SkippedVersion, Version

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EntryReader:
    """Reads the entries of one version listing: each checked alone, known ones passed over."""

    def __init__(
        self,
        known: Collection[str],
        schema: str,
        make: Callable[[Mapping[str, Any]], Version],
    ) -> None:
        self.known = set(known)
        self.schema = schema
        self.make = make
        self.found: dict[str, Version] = {}
        self.skipped: dict[str, SkippedVersion] = {}
        self.valid = 0

    def read(self, entry: Any) -> bool:
        """Take one entry; True when it is a version archived before (in ``known``)."""
        entry_id = entry.get("id") if isinstance(entry, Mapping) else None
        if isinstance(entry_id, str) and entry_id in self.known:
            self.valid += 1
            return True
        if isinstance(entry_id, str) and entry_id in self.found:
            return False  # listed twice (a page boundary moved while paging)
        reason = bad_entry(self.schema, entry)
        if reason is not None:
            key = entry_id if isinstance(entry_id, str) and entry_id else NO_ID
            self.skipped.setdefault(key, SkippedVersion(key, reason))
            return False
        version = self.make(entry)
        self.found[version.version_id] = version
        self.skipped.pop(version.version_id, None)
        self.valid += 1
        return False

    def listing(self, complete: bool) -> Listing:
        versions = sorted(self.found.values(), key=version_order, reverse=True)
        skipped = sorted(self.skipped.values(), key=lambda s: s.version_id)
        return Listing(versions, skipped, self.valid, complete)


def bad_entry(schema: str, entry: Any) -> str | None:
    """Why a version entry cannot be archived (its bad fields, one line), or None if it can."""
    found = check(schema, entry)
    if not found and schema == "flow version" and version_number(entry["id"]) is None:
        found = {"id": [f"{entry['id']!r} has no leading integer to number the version by"]}
    if not found:
        return None
    return "; ".join(f"{path}: {', '.join(messages)}" for path, messages in sorted(found.items()))


_LEADING_INTEGER = re.compile(r"\d+")
_RUNS = re.compile(r"\d+|\D+")


def version_number(version_id: str) -> int | None:
    """The leading integer of a version id (``"3.0"`` and ``"3.0-debug"``: 3), else None."""
    match = _LEADING_INTEGER.match(version_id)
    return int(match.group()) if match else None


def version_order(version: Version) -> tuple[Any, ...]:
    """A sort key for any version ids: the number, then the rest of the id, digit runs as
    numbers (``"3.10"`` after ``"3.9"``), then the id itself, so that no two ids tie."""
    rest = version.version_id
    match = _LEADING_INTEGER.match(rest)
    if match and version.number == int(match.group()):
        rest = rest[match.end() :]
    runs = tuple((0, int(run), "") if run.isdigit() else (1, 0, run) for run in _RUNS.findall(rest))
    return version.number, runs, version.version_id


def iso_date(value: str) -> datetime:
    """An ISO-8601 string with a zone (``Z`` included) as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def epoch_ms(value: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime, exact to the millisecond."""
    return _EPOCH + timedelta(milliseconds=value)


def name_of(who: Any) -> str | None:
    """The ``name`` of a reference (``{id, name}``), when it has a non-empty one."""
    name = who.get("name") if isinstance(who, Mapping) else None
    return name if isinstance(name, str) and name else None
