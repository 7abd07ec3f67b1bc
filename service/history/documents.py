"""One archived version's document, found from the ledger and read from cold storage.

``archiver show`` and ``archiver diff`` read what was archived, never Genesys: the ledger
says which archives hold an object's versions, the newest archive holding a version is
read (its SHA-256 checked) and the version taken from it by the history's own
``version_changes``, so that its path and content are those of its commit (contract
section 10): a flow version's configuration, else the version document itself, normalised,
under the name archived with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive.store import read_payload
from ..errors import ArchiverError, StorageError, UsageError
from ..ledger import archives
from .commits import version_changes
from .layout import tree_path

if TYPE_CHECKING:
    from ..ledger import ArchiveRecord, Ledger

LISTED = 20  # versions named at most in an error: enough to pick from, short enough to read


class VersionNotFound(ArchiverError):
    """No archive holds the version asked for (or none holds the object at all)."""

    retryable = False


@dataclass(frozen=True)
class ArchivedVersion:
    """One version as archived, where and as the history keeps it."""

    source_type: str
    object_id: str
    version_id: str
    name: str  # the object's name as archived with this version
    content: bytes  # the normalised document: byte for byte the history's file
    archive: ArchiveRecord  # the newest archive holding the version

    @property
    def path(self) -> str:
        """The version's file in the history tree (``<sourceType>/<slug>--<id>.json``)."""
        return tree_path(self.source_type, self.object_id, self.name)

    @property
    def document(self) -> Any:
        """The document itself: a flow's configuration, else the version document."""
        return json.loads(self.content)


def archived_version(
    ledger: Ledger,
    archive_dir: Path,
    object_id: str,
    version: str | None = None,
    *,
    source_type: str | None = None,
) -> ArchivedVersion:
    """The archived ``version`` of ``object_id`` (of ``source_type`` when given, else of
    whichever source the archives say), by default its newest (highest version number,
    then latest created date).

    ``version`` is a version id as archived (``2.0``), or a bare version number (``2``)
    that one archived version carries. ``VersionNotFound`` (naming what was looked for and
    what there is) when no archive holds it; ``StorageError`` when the archive document
    holding it is missing, damaged, or does not hold what the ledger says it does.
    """
    what = f"{source_type} {object_id}" if source_type else object_id
    records = [
        record
        for record in archives.list_archives(ledger, strategy_id=object_id)
        if source_type in (None, record.source_type)
    ]  # newest first
    if not records:
        raise VersionNotFound(f"no archive of {what} in the ledger at {ledger.path}")
    what = f"{records[0].source_type} {object_id}"  # named as its archives know it
    holding = [record for record in records if version in record.version_ids]
    if holding:  # an exact id: the ledger alone says where it is
        return _read_version(archive_dir, holding[0], str(version))
    rows = _archived_rows(archive_dir, records)
    version_id = _choose(rows, version, what)
    return _read_version(archive_dir, rows[version_id][0], version_id)


def _archived_rows(
    archive_dir: Path, records: list[ArchiveRecord]
) -> dict[str, tuple[ArchiveRecord, dict[str, Any]]]:
    """Each archived version's matrix row, with the newest archive holding it."""
    rows: dict[str, tuple[ArchiveRecord, dict[str, Any]]] = {}
    for record in records:
        for row in (
            read_payload(archive_dir, record.location, record.sha256).get("versionMatrix") or []
        ):
            if isinstance(row, dict) and isinstance(row.get("versionId"), str):
                rows.setdefault(row["versionId"], (record, row))
    return rows


def _choose(
    rows: dict[str, tuple[ArchiveRecord, dict[str, Any]]], version: str | None, what: str
) -> str:
    """The version id ``version`` names among ``rows``: the newest when None, else the one
    whose version number it is (preferring the id that reads as that number: ``2.0``)."""
    oldest_first = sorted(rows, key=lambda version_id: _order(rows[version_id][1]))
    if not oldest_first:
        raise VersionNotFound(f"the archives of {what} hold no version")
    if version is None:
        return oldest_first[-1]
    number = int(version) if version.isascii() and version.isdigit() else None
    matches = [
        v for v in oldest_first if number is not None and rows[v][1].get("versionNumber") == number
    ]
    if len(matches) > 1:
        matches = [v for v in matches if _reads_as(v, number)] or matches
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(
            f"version {version!r} of {what} is ambiguous, it matches: {', '.join(matches)}"
        )
    listed = ", ".join(oldest_first[-LISTED:])
    more = f" (the newest {LISTED} of {len(oldest_first)})" if len(oldest_first) > LISTED else ""
    raise VersionNotFound(
        f"no archive of {what} holds version {version!r}; archived versions{more}: {listed}"
    )


def _order(row: dict[str, Any]) -> tuple[int, str, str]:
    """Oldest first, as the history commits them: version number, then created date (then
    the id, so that no two versions tie)."""
    number, created = row.get("versionNumber"), row.get("createdDate")
    return (
        number if isinstance(number, int) else -1,
        created if isinstance(created, str) else "",
        str(row.get("versionId")),
    )


def _reads_as(version_id: str, number: int | None) -> bool:
    try:
        return float(version_id) == number
    except ValueError:
        return False


def _read_version(archive_dir: Path, record: ArchiveRecord, version_id: str) -> ArchivedVersion:
    """The version out of ``record``'s archive, as the history commits it: the same
    ``version_changes`` make its path and content."""
    payload = read_payload(archive_dir, record.location, record.sha256)
    try:
        changes = version_changes(payload)
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"archive document {record.location} is malformed: {exc}") from exc
    for change in changes:
        if change.version_id == version_id and change.content is not None:
            return ArchivedVersion(
                source_type=change.source_type,
                object_id=change.object_id,
                version_id=version_id,
                name=change.name,
                content=change.content,
                archive=record,
            )
    raise StorageError(
        f"archive document {record.location} does not hold version {version_id}, which the"
        f" ledger records for archive {record.id} (key {record.idempotency_key})"
    )
