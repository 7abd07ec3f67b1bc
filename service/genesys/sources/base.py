"""What every source is: one small interface, and the plain values it returns.

A ``Source`` is one kind of object the archiver keeps (a flow, a queue...). It lists the
objects of the org for discovery, reads what is new about one object given what the
archiver already ``Known``s of it, completes a version with whatever a listing leaves out,
names the object, and reads the object itself (whether it still exists). Sources only
read Genesys Cloud: they never touch the ledger or cold storage. The pipeline, the ledger,
the history and the events treat every source alike through this interface.

Two kinds fit it: versioned sources (flows, routing strategies, decision tables), whose
versions Genesys lists, and snapshot sources (queues, IVRs...), which have no history in
Genesys: each read is compared with the last archived snapshot (``Known.last_document``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..client import GenesysClient

ProgressFn = Callable[[str, int, int | None], None]  # (stage, done, total or None)

LISTING = "listing versions"
NO_ID = "(no id)"


@dataclass(frozen=True)
class Version:
    """One version of an object, with the document Genesys returned for it.

    ``current``: the object as it is now (a snapshot), which retention never leaves out:
    its date is that of the object's last change, however long ago that was.
    """

    version_id: str
    number: int
    created: datetime
    modified: datetime
    author: str | None
    document: dict[str, Any]
    current: bool = False


@dataclass(frozen=True)
class SkippedVersion:
    """A version entry left out of an archive, and why (one line naming the fields)."""

    version_id: str  # as listed; NO_ID when the entry has no usable id
    reason: str


@dataclass(frozen=True)
class Listing:
    """What one read of an object's versions found.

    ``versions``: the new, valid versions, newest first. ``skipped``: the entries left out.
    ``valid``: entries that passed or were archived before. ``complete``: every page was read
    (a routing listing stops at the first page reaching a known version).
    """

    versions: list[Version]
    skipped: list[SkippedVersion]
    valid: int
    complete: bool = True

    @property
    def all_bad(self) -> bool:
        """Every entry read was bad: nothing can be archived."""
        return bool(self.skipped) and self.valid == 0


@dataclass(frozen=True)
class Strategy:
    """What an archive calls the object its versions belong to."""

    id: str
    name: str
    source_type: str


def _nothing() -> dict[str, Any] | None:
    return None


@dataclass(frozen=True)
class Known:
    """What the archiver knows of one object before a read, built by the pipeline from
    the ledger and cold storage, so that sources never touch either.

    ``archived``: the version ids archived before. ``last_number``: the highest version
    number archived (None: none yet). ``last_document``: the newest archived version's
    document, read from cold storage only when a source asks (a flow never does).
    ``author``: the user the event that started this run names, if any. ``now``: the time
    of this run, the date of a snapshot whose object carries none.
    """

    archived: frozenset[str] = frozenset()
    last_number: int | None = None
    last_document: Callable[[], dict[str, Any] | None] = field(default=_nothing, compare=False)
    author: str | None = None
    now: datetime | None = None


class DeletedInGenesys(Exception):
    """A source's read found the object described as deleted (``"state": "deleted"``):
    control flow for the pipeline, which treats it as the object's own GET saying so."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Source(Protocol):
    """How one kind of object is read from Genesys Cloud (the module docstring says more).

    Names: ``source_type`` is the contract's (``sourceType``, ``--source``, the history's
    folder); ``label`` and ``plural`` are what messages call one and many of them.
    ``topic``: the source's own notification topic (its id in group 1), if it has one.
    ``audit_entity_types``: the audit ``entityType`` values whose events are about it;
    ``audit_ignored_services``: the ``serviceName`` values whose events of those entity
    types are about something else (a WFM schedule is no Architect schedule).
    ``alternative``: the source type a 404 most often means was meant instead, if any.
    ``missing_note``: why a 404 for its whole listing is no failure, if it is not.
    """

    source_type: str
    label: str
    plural: str
    topic: re.Pattern[str] | None
    audit_entity_types: tuple[str, ...]
    audit_ignored_services: tuple[str, ...]
    alternative: str | None
    missing_note: str | None

    def discover(self, client: GenesysClient) -> Iterator[dict[str, Any]]:
        """Every object of the org (each entry has an ``id``), through every page."""
        ...

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Known | None = None,
        progress: ProgressFn | None = None,
    ) -> Listing:
        """The versions of the object that are new given ``known`` (None: nothing known),
        newest first."""
        ...

    def complete(self, client: GenesysClient, strategy_id: str, version: Version) -> Version:
        """``version`` with whatever its listing left out (a flow's configuration)."""
        ...

    def describe(
        self, client: GenesysClient, strategy_id: str, versions: Sequence[Version]
    ) -> Strategy:
        """The object's id, current name and source type, for the archive."""
        ...

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The object itself (its own ``GET``), which says whether it still exists."""
        ...


def described(
    source: Source, client: GenesysClient, strategy_id: str, names: Iterable[str | None]
) -> Strategy:
    """The object as ``describe`` gives it: named by the first of ``names`` that is set
    (taken from the versions at hand, lazily), else by the object itself (one ``read``)."""
    name = next((n for n in names if n), None) or source.read(client, strategy_id)["name"]
    return Strategy(id=strategy_id, name=name, source_type=source.source_type)
