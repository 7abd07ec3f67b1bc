"""The two kinds of versioned things we archive, read through one ``GenesysClient``.

A ``Source`` lists the versions of one strategy that are not archived yet, completes
each with whatever the version listing leaves out, and names the strategy. Results
are plain values; saving them is the archive pipeline's business.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from ..errors import UsageError
from ..ids import require_uuid
from .client import GenesysClient

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
    ) -> list[Version]: ...

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
    ) -> list[Version]:
        """Versions not in ``known``, newest first; stops after the page reaching a known one."""
        strategy_id = require_uuid(strategy_id)
        path = f"/api/v2/routing/strategies/{strategy_id}/versions"
        known = set(known)
        found: dict[str, Version] = {}
        for page in client.pages(path, schema="routing strategy versions page"):
            reached_known = False
            for item in page["items"]:
                if item["id"] in known:
                    reached_known = True
                elif item["id"] not in found:
                    found[item["id"]] = routing_version(item)
            if progress:
                progress(LISTING, len(found), None)
            # The listing is newest first, so everything beyond a known version is known too.
            if reached_known:
                break
        return _newest_first(found.values())

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
    ) -> list[Version]:
        """Versions not in ``known``, newest first; every page is read (order undocumented)."""
        strategy_id = require_uuid(strategy_id)
        known = set(known)
        found: dict[str, Version] = {}
        seen = 0
        path = f"/api/v2/flows/{strategy_id}/versions"
        for page in client.pages(path, schema="flow versions page"):
            for entity in page["entities"]:
                seen += 1
                if entity["id"] not in known and entity["id"] not in found:
                    found[entity["id"]] = flow_version(entity)
            if progress:
                progress(LISTING, seen, page.get("total"))
        return _newest_first(found.values())

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
    created = _epoch_ms(entity["dateCreated"])
    later = [_epoch_ms(entity[k]) for k in ("dateCheckedIn", "dateSaved") if entity.get(k)]
    if entity.get("datePublished"):
        later.append(_iso(entity["datePublished"]))
    return Version(
        version_id=entity["id"],
        number=int(entity["id"].split(".", 1)[0]),
        created=created,
        modified=max(later, default=created),
        author=_name(entity.get("createdBy")) or _name(entity.get("createdByClient")),
        document=dict(entity),
    )


def _newest_first(versions: Iterable[Version]) -> list[Version]:
    def key(version: Version) -> tuple[int, tuple[int, ...], str]:
        parts = version.version_id.split(".")
        numeric = tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()
        return version.number, numeric, version.version_id

    return sorted(versions, key=key, reverse=True)


def _iso(value: str) -> datetime:
    """An ISO-8601 string with a zone (``Z`` included) as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def _epoch_ms(value: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime, exact to the millisecond."""
    return _EPOCH + timedelta(milliseconds=value)


def _name(who: Any) -> str | None:
    name = who.get("name") if isinstance(who, Mapping) else None
    return name if isinstance(name, str) and name else None
