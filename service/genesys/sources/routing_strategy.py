"""Routing strategies as the contract describes them (section 3): cursor-paged versions,
newest first, whole in the listing. Genesys Cloud's public API has no such resource; these
are the shapes of the mission's own description, for orgs or gateways that expose it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ...ids import require_uuid
from ..client import GenesysClient
from .base import LISTING, Known, Listing, ProgressFn, Strategy, Version, described
from .entries import EntryReader, iso_date, name_of


class RoutingStrategySource:
    """Routing strategies: cursor-paged, newest first."""

    source_type = "routing-strategy"
    label = "routing strategy"
    plural = "routing strategies"
    topic: re.Pattern[str] | None = re.compile(r"^v2\.routing\.strategies\.([^.]+)\Z")
    audit_entity_types: tuple[str, ...] = ()
    audit_ignored_services: tuple[str, ...] = ()
    alternative: str | None = "flow"
    missing_note: str | None = "a plain Genesys Cloud org has no routing strategies"

    def discover(self, client: GenesysClient) -> Iterator[dict[str, Any]]:
        """Every routing strategy of the org (``GET /api/v2/routing/strategies``, paged)."""
        return list_routing_strategies(client)

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Known | None = None,
        progress: ProgressFn | None = None,
    ) -> Listing:
        """Versions not archived yet, newest first; stops after the page reaching a known one."""
        strategy_id = require_uuid(strategy_id)
        path = f"/api/v2/routing/strategies/{strategy_id}/versions"
        archived = known.archived if known else frozenset()
        reader = EntryReader(archived, "routing strategy version", routing_version)
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
        return described(self, client, require_uuid(strategy_id), ())

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The strategy itself (its own ``GET``), which says whether it still exists."""
        strategy_id = require_uuid(strategy_id)
        return client.get(f"/api/v2/routing/strategies/{strategy_id}", schema="routing strategy")


def list_routing_strategies(client: GenesysClient) -> Iterator[dict[str, Any]]:
    """Every routing strategy of the org (``GET /api/v2/routing/strategies``, paged)."""
    for page in client.pages("/api/v2/routing/strategies", schema="routing strategies page"):
        yield from page["items"]


def routing_version(item: Mapping[str, Any]) -> Version:
    """A ``Version`` from a validated routing strategy version (ISO dates)."""
    return Version(
        version_id=item["id"],
        number=item["version"],
        created=iso_date(item["createdDate"]),
        modified=iso_date(item["modifiedDate"]),
        author=name_of(item.get("createdBy")),
        document=dict(item),
    )
