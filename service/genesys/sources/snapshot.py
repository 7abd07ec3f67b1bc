"""Snapshot sources: routing configuration Genesys keeps no history of (contract section 12).

A queue, an IVR, a schedule... has one current body. A run reads it (one ``GET``), drops
its volatile fields wherever they appear (member counts move as agents join, not as the
configuration changes), and compares what is left with the last archived snapshot, leaving
``dateModified`` and ``modifiedBy`` out (a save that changed nothing moves them). Equal:
nothing new. Different (a changed ``version`` included): one new version, numbered by the
object's integer ``version`` when it has one, else one more than the last archived number.

A 404 or 410 for the object goes up as it is (the pipeline asks the object's own ``GET``,
which is this same read, and ends the job ``deleted``); a 200 that says ``"state":
"deleted"`` raises ``DeletedInGenesys`` at once, with no second read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from ...clock import utcnow
from ...ids import require_uuid
from ..client import GenesysClient
from .base import DeletedInGenesys, Known, Listing, ProgressFn, Strategy, Version
from .entries import iso_date

# Moved by any save, changed or not: never a reason for a new version.
UNCOMPARED = frozenset({"dateModified", "modifiedBy"})
PAGE_NUMBERS, CURSOR = "page numbers", "after cursor"


class SnapshotSource:
    """One kind of routing-configuration object; a subclass names it and its fields.

    ``collection``: the listing's path (``GET`` one appends the id). ``volatile``: field
    names dropped wherever they appear in the body. ``paging``: how the listing pages
    (``PAGE_NUMBERS`` or ``CURSOR``; the client follows ``nextUri`` in both).
    """

    source_type: str
    label: str
    plural: str
    collection: ClassVar[str]
    volatile: ClassVar[frozenset[str]] = frozenset()
    paging: ClassVar[str] = PAGE_NUMBERS
    topic: re.Pattern[str] | None = None
    audit_entity_types: tuple[str, ...] = ()
    audit_ignored_services: tuple[str, ...] = ()
    alternative: str | None = None
    missing_note: str | None = None

    def discover(self, client: GenesysClient) -> Iterator[dict[str, Any]]:
        """Every entry of the org's listing, through every page."""
        for page in client.pages(self.collection, schema="routing objects page"):
            yield from page["entities"]

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Known | None = None,
        progress: ProgressFn | None = None,
    ) -> Listing:
        """The object as it is now, when it differs from the last snapshot archived."""
        known = known or Known()
        body = self.read(client, strategy_id)
        if progress:
            progress("reading the object", 1, 1)
        state = body.get("state")
        if isinstance(state, str) and state.lower() == "deleted":
            raise DeletedInGenesys(
                f"Genesys Cloud describes {self.label} {strategy_id} as deleted (state: deleted)"
            )
        document = self.document(body)
        last = known.last_document()
        if last is not None and comparable(last) == comparable(document):
            return Listing([], [], valid=1)
        return Listing([self.version(document, known)], [], valid=1)

    def document(self, body: dict[str, Any]) -> dict[str, Any]:
        """The object without its volatile fields: the version document."""
        kept: dict[str, Any] = without(body, self.volatile)
        return kept

    def version(self, document: dict[str, Any], known: Known) -> Version:
        """The new version: numbered, dated and attributed as contract section 12 says."""
        own = document.get("version")
        if isinstance(own, int) and not isinstance(own, bool):
            number = own
        else:
            number = (known.last_number or 0) + 1
        when = _date(document.get("dateModified")) or known.now or utcnow()
        modified_by = document.get("modifiedBy")
        author = known.author or (modified_by if isinstance(modified_by, str) else None)
        return Version(
            version_id=str(number),
            number=number,
            created=when,
            modified=when,
            author=author or None,
            document=document,
            current=True,
        )

    def complete(self, client: GenesysClient, strategy_id: str, version: Version) -> Version:
        """A snapshot is whole as read: no call."""
        require_uuid(strategy_id)
        return version

    def describe(
        self, client: GenesysClient, strategy_id: str, versions: Sequence[Version]
    ) -> Strategy:
        """The object's name as read; read again only when no version is at hand."""
        strategy_id = require_uuid(strategy_id)
        body = versions[0].document if versions else self.read(client, strategy_id)
        return Strategy(id=strategy_id, name=body["name"], source_type=self.source_type)

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The object itself: its own ``GET``, the one call of a run."""
        strategy_id = require_uuid(strategy_id)
        return client.get(f"{self.collection}/{strategy_id}", schema="routing object")


def without(value: Any, names: frozenset[str]) -> Any:
    """``value`` with every key in ``names`` dropped, at any depth (lists included)."""
    if isinstance(value, dict):
        return {k: without(v, names) for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [without(item, names) for item in value]
    return value


def comparable(document: dict[str, Any]) -> str:
    """The document as compared: normalised as the history stores it (sorted keys), the
    fields every save moves left out."""
    kept = {k: v for k, v in document.items() if k not in UNCOMPARED}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


def _date(value: Any) -> datetime | None:
    """``dateModified`` as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return iso_date(value)
    except ValueError:
        return None
