"""The two kinds of versioned things we archive, read through one ``GenesysClient``.

A ``Source`` lists the versions of one strategy that are not archived yet, completes
each with whatever the version listing leaves out, and names the strategy. Results
are plain values; saving them is the archive pipeline's business.

Each entry of a version listing is checked on its own: one that fails (a missing date,
an id without a leading integer) is left out as a ``SkippedVersion`` with its reason, and
the others are archived (contract section 3). Version ids are strings; a version's number
is the id's leading integer, and versions are ordered by ``version_order``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from ..errors import UsageError
from ..ids import require_uuid
from .client import GenesysClient
from .schemas import check

ProgressFn = Callable[[str, int, int | None], None]  # (stage, done, total or None)

LISTING = "listing versions"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Version:
    """One version of a strategy, with the document Genesys returned for it."""

    version_id: str
    number: int
    created: datetime
    modified: datetime
    author: str | None
    document: dict[str, Any]


@dataclass(frozen=True)
class SkippedVersion:
    """A version entry left out of an archive, and why (one line naming the fields)."""

    version_id: str  # as listed; NO_ID when the entry has no usable id
    reason: str


NO_ID = "(no id)"


@dataclass(frozen=True)
class Listing:
    """What one read of a version listing found.

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
    """What an archive calls the strategy its versions belong to."""

    id: str
    name: str
    source_type: str


class Source(Protocol):
    """How one kind of strategy is read from Genesys Cloud."""

    source_type: str

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Collection[str] = (),
        progress: ProgressFn | None = None,
    ) -> Listing: ...

    def complete(self, client: GenesysClient, strategy_id: str, version: Version) -> Version: ...

    def describe(
        self, client: GenesysClient, strategy_id: str, versions: Sequence[Version]
    ) -> Strategy: ...

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]: ...


class RoutingStrategySource:
    """Routing strategies as the contract describes them: cursor-paged, newest first."""

    source_type = "routing-strategy"

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Collection[str] = (),
        progress: ProgressFn | None = None,
    ) -> Listing:
        """Versions not in ``known``, newest first; stops after the page reaching a known one."""
        strategy_id = require_uuid(strategy_id)
        path = f"/api/v2/routing/strategies/{strategy_id}/versions"
        reader = _EntryReader(known, "routing strategy version", routing_version)
        complete = True
        for page in client.pages(path, schema="routing strategy versions page"):
            reached_known = False
            for item in page["items"]:
                reached_known = reader.read(item) or reached_known
            if progress:
                progress(LISTING, len(reader.found), None)
            # The listing is newest first, so everything beyond a known version is known too.
            if reached_known:
                complete = page.get("nextUri") is None
                break
        return reader.listing(complete)

    def complete(self, client: GenesysClient, strategy_id: str, version: Version) -> Version:
        """Routing versions are whole in the listing already: no call."""
        require_uuid(strategy_id)
        return version

    def describe(
        self, client: GenesysClient, strategy_id: str, versions: Sequence[Version]
    ) -> Strategy:
        """The strategy's current name, from ``GET /api/v2/routing/strategies/{id}``."""
        strategy_id = require_uuid(strategy_id)
        body = client.get(f"/api/v2/routing/strategies/{strategy_id}", schema="routing strategy")
        return Strategy(id=strategy_id, name=body["name"], source_type=self.source_type)

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The strategy itself (its own ``GET``), which says whether it still exists."""
        strategy_id = require_uuid(strategy_id)
        return client.get(f"/api/v2/routing/strategies/{strategy_id}", schema="routing strategy")


class FlowSource:
    """Architect flows: page-numbered versions in no documented order, configuration apart."""

    source_type = "flow"

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Collection[str] = (),
        progress: ProgressFn | None = None,
    ) -> Listing:
        """Versions not in ``known``, newest first; every page is read (order undocumented)."""
        strategy_id = require_uuid(strategy_id)
        reader = _EntryReader(known, "flow version", flow_version)
        seen = 0
        path = f"/api/v2/flows/{strategy_id}/versions"
        for page in client.pages(path, schema="flow versions page"):
            for entity in page["entities"]:
                seen += 1
                reader.read(entity)
            if progress:
                progress(LISTING, seen, page.get("total"))
        return reader.listing(complete=True)

    def complete(self, client: GenesysClient, strategy_id: str, version: Version) -> Version:
        """The version with its configuration (the flow's content) under ``configuration``."""
        strategy_id = require_uuid(strategy_id)
        path = (
            f"/api/v2/flows/{strategy_id}/versions/"
            f"{quote(version.version_id, safe='')}/configuration"
        )
        configuration = client.get(path, schema="flow configuration")
        return replace(version, document=dict(version.document, configuration=configuration))

    def describe(
        self, client: GenesysClient, strategy_id: str, versions: Sequence[Version]
    ) -> Strategy:
        """The flow's name: from a fetched configuration when there is one, else the flow."""
        strategy_id = require_uuid(strategy_id)
        for version in versions:
            configuration = version.document.get("configuration")
            if isinstance(configuration, Mapping):
                name = configuration.get("name")
                if isinstance(name, str) and name:
                    return Strategy(id=strategy_id, name=name, source_type=self.source_type)
        body = client.get(f"/api/v2/flows/{strategy_id}", schema="flow")
        return Strategy(id=strategy_id, name=body["name"], source_type=self.source_type)

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The flow itself (``GET /api/v2/flows/{id}``): 410 once it is deleted."""
        strategy_id = require_uuid(strategy_id)
        return client.get(f"/api/v2/flows/{strategy_id}", schema="flow")


SOURCES: dict[str, Source] = {
    RoutingStrategySource.source_type: RoutingStrategySource(),
    FlowSource.source_type: FlowSource(),
}


def source_for(source_type: str) -> Source:
    """The source of that name; ``UsageError`` listing the valid names otherwise."""
    try:
        return SOURCES[source_type]
    except KeyError:
        valid = ", ".join(sorted(SOURCES))
        raise UsageError(f"unknown source type {source_type!r}; use one of: {valid}") from None


def discover_flows(client: GenesysClient) -> Iterator[dict[str, Any]]:
    """Every flow of the org, of every type (``GET /api/v2/flows``, paged)."""
    for page in client.pages("/api/v2/flows", schema="flows page"):
        yield from page["entities"]


def list_routing_strategies(client: GenesysClient) -> Iterator[dict[str, Any]]:
    """Every routing strategy of the org (``GET /api/v2/routing/strategies``, paged)."""
    for page in client.pages("/api/v2/routing/strategies", schema="routing strategies page"):
        yield from page["items"]


class _EntryReader:
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


def routing_version(item: Mapping[str, Any]) -> Version:
    """A ``Version`` from a validated routing strategy version (ISO dates)."""
    return Version(
        version_id=item["id"],
        number=item["version"],
        created=_iso(item["createdDate"]),
        modified=_iso(item["modifiedDate"]),
        author=_name(item.get("createdBy")),
        document=dict(item),
    )


def flow_version(entity: Mapping[str, Any]) -> Version:
    """A ``Version`` from a validated FlowVersion (epoch-ms dates, ISO ``datePublished``)."""
    number = version_number(entity["id"])
    if number is None:
        raise ValueError(f"flow version id {entity['id']!r} has no leading integer")
    created = _epoch_ms(entity["dateCreated"])
    later = [_epoch_ms(entity[k]) for k in ("dateCheckedIn", "dateSaved") if entity.get(k)]
    if entity.get("datePublished"):
        later.append(_iso(entity["datePublished"]))
    return Version(
        version_id=entity["id"],
        number=number,
        created=created,
        modified=max(later, default=created),
        author=_name(entity.get("createdBy")) or _name(entity.get("createdByClient")),
        document=dict(entity),
    )


def _iso(value: str) -> datetime:
    """An ISO-8601 string with a zone (``Z`` included) as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def _epoch_ms(value: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime, exact to the millisecond."""
    return _EPOCH + timedelta(milliseconds=value)


def _name(who: Any) -> str | None:
    name = who.get("name") if isinstance(who, Mapping) else None
    return name if isinstance(name, str) and name else None
