"""Business-rules decision tables (contract section 12, reference section 8): versioned in
Genesys, each version archived once with all its rows.

A table's versions are listed with the ``after`` cursor, newest first. Only ``Published``
and ``Superseded`` versions are archived: a ``Draft`` (or ``Preparing``) version still
changes, so it waits until it is published; an ``Error`` version never holds a usable
table. A version's document is its body plus ``rows``, every row of it (page-numbered)
in ``rowIndex`` order, fetched by ``complete`` as a flow's configuration is.

A version's ``id`` is the table's id (the version is its integer ``version``), so the
archive's version id is that integer as a string. Its dates are its own, else the table's
``dateModified``. Its author is the user the audit event names, else whoever published it
(``publishedBy``, the version's ``modifiedBy``: a version changes no more once published),
else its creator, else unknown. A deleted table answers 404 to every read, which goes up
as it is: the pipeline's deletion check is the table's own ``GET``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...clock import utcnow
from ...ids import require_uuid
from ..client import GenesysClient
from .base import (
    LISTING,
    NO_ID,
    Known,
    Listing,
    ProgressFn,
    SkippedVersion,
    Strategy,
    Version,
    described,
)
from .entries import bad_entry, iso_date, name_of, version_order

COLLECTION = "/api/v2/businessrules/decisiontables"
ARCHIVED_STATUSES = frozenset({"Published", "Superseded"})
# Left for a later run (still changing) or never archived (no usable table).
WAITING_STATUSES = frozenset({"Draft", "Preparing"})
NEVER_STATUSES = frozenset({"Error"})


class DecisionTableSource:
    """Decision tables: cursor-paged versions, each with its page-numbered rows."""

    source_type = "decision-table"
    label = "decision table"
    plural = "decision tables"
    topic: re.Pattern[str] | None = None
    # A version's audit event names the table: its entity id is the table's id.
    audit_entity_types: tuple[str, ...] = ("DecisionTable", "DecisionTableVersion")
    audit_ignored_services: tuple[str, ...] = ()
    alternative: str | None = None
    missing_note: str | None = None

    def discover(self, client: GenesysClient) -> Iterator[dict[str, Any]]:
        """Every decision table of the org (``after`` cursor, every page)."""
        for page in client.pages(COLLECTION, schema="routing objects page"):
            yield from page["entities"]

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Known | None = None,
        progress: ProgressFn | None = None,
    ) -> Listing:
        """The published versions not archived yet, newest first (rows left to ``complete``).

        Every page is read: a rollback can publish again a version older than the newest.
        """
        strategy_id = require_uuid(strategy_id)
        known = known or Known()
        table_date = _lazy(lambda: self._table_date(client, strategy_id, known))
        found: dict[str, Version] = {}
        skipped: dict[str, SkippedVersion] = {}
        valid = seen = 0
        path = f"{COLLECTION}/{strategy_id}/versions"
        for page in client.pages(path, schema="decision table versions page"):
            for entry in page["entities"]:
                seen += 1
                reason = bad_entry("decision table version", entry)
                if reason is not None:
                    key = _entry_key(entry)
                    skipped.setdefault(key, SkippedVersion(key, reason))
                    continue
                status = entry["status"]
                version_id = str(entry["version"])
                if status in WAITING_STATUSES or status in NEVER_STATUSES:
                    continue
                if status not in ARCHIVED_STATUSES:
                    reason = f"status: unknown value {status!r}"
                    skipped.setdefault(version_id, SkippedVersion(version_id, reason))
                    continue
                valid += 1
                if version_id not in known.archived and version_id not in found:
                    found[version_id] = table_version(entry, known, table_date)
            if progress:
                progress(LISTING, seen, None)
        for version_id in found:
            skipped.pop(version_id, None)
        versions = sorted(found.values(), key=version_order, reverse=True)
        return Listing(versions, sorted(skipped.values(), key=lambda s: s.version_id), valid)

    def complete(self, client: GenesysClient, strategy_id: str, version: Version) -> Version:
        """The version with every row under ``rows``, in ``rowIndex`` order."""
        strategy_id = require_uuid(strategy_id)
        if "rows" in version.document:
            return version
        path = f"{COLLECTION}/{strategy_id}/versions/{version.number}/rows"
        rows: list[dict[str, Any]] = []
        for page in client.pages(path, schema="decision table rows page"):
            rows.extend(page["entities"])
        rows.sort(key=lambda row: row["rowIndex"])
        return replace(version, document=dict(version.document, rows=rows))

    def describe(
        self, client: GenesysClient, strategy_id: str, versions: Sequence[Version]
    ) -> Strategy:
        """The table's name: the newest version's when it carries one, else the table's."""
        names = (name_of(version.document) for version in versions)
        return described(self, client, require_uuid(strategy_id), names)

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The table itself (its own ``GET``): 404 once deleted."""
        strategy_id = require_uuid(strategy_id)
        return client.get(f"{COLLECTION}/{strategy_id}", schema="routing object")

    def _table_date(self, client: GenesysClient, strategy_id: str, known: Known) -> datetime:
        """The table's ``dateModified``, for a version without dates of its own (one
        ``GET``, made only then); the run's time when the table has none either."""
        modified = self.read(client, strategy_id).get("dateModified")
        if isinstance(modified, str):
            return iso_date(modified)
        return known.now or utcnow()


def table_version(
    entry: Mapping[str, Any], known: Known, table_date: Callable[[], datetime]
) -> Version:
    """A ``Version`` from a validated version entry (its body, without rows yet)."""
    number: int = entry["version"]
    created = entry.get("dateCreated")
    modified = entry.get("dateModified") or entry.get("datePublished")
    by = _user_id(entry.get("publishedBy")) or _user_id(entry.get("createdBy"))
    return Version(
        version_id=str(number),
        number=number,
        created=iso_date(created) if created else table_date(),
        modified=iso_date(modified) if modified else table_date(),
        author=known.author or by,
        document=dict(entry),
    )


def _user_id(who: Any) -> str | None:
    """The ``id`` of a user reference (``{id, selfUri}``), when it has a non-empty one."""
    user_id = who.get("id") if isinstance(who, Mapping) else None
    return user_id if isinstance(user_id, str) and user_id else None


def _entry_key(entry: Any) -> str:
    """What a skipped entry is called: its version number when it has one."""
    number = entry.get("version") if isinstance(entry, Mapping) else None
    if isinstance(number, int) and not isinstance(number, bool):
        return str(number)
    return NO_ID


def _lazy(make: Callable[[], datetime]) -> Callable[[], datetime]:
    """``make``'s value, computed at the first call only."""
    cache: list[datetime] = []

    def get() -> datetime:
        if not cache:
            cache.append(make())
        return cache[0]

    return get
