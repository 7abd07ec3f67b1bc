"""Architect flows (contract section 3, reference sections 4 and 5): page-numbered
versions in no documented order, each version's configuration fetched apart."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ...ids import require_uuid
from ..client import GenesysClient
from .base import LISTING, Known, Listing, ProgressFn, Strategy, Version, described
from .entries import EntryReader, epoch_ms, iso_date, name_of, version_number


class FlowSource:
    """Architect flows: page-numbered versions in no documented order, configuration apart."""

    source_type = "flow"
    label = "flow"
    plural = "flows"
    topic: re.Pattern[str] | None = re.compile(r"^v2\.flows\.([^.]+)\Z")
    audit_entity_types: tuple[str, ...] = ("Flow",)
    audit_ignored_services: tuple[str, ...] = ()
    alternative: str | None = "routing-strategy"
    missing_note: str | None = None

    def discover(self, client: GenesysClient) -> Iterator[dict[str, Any]]:
        """Every flow of the org, of every type (``GET /api/v2/flows``, paged)."""
        return discover_flows(client)

    def list_versions(
        self,
        client: GenesysClient,
        strategy_id: str,
        *,
        known: Known | None = None,
        progress: ProgressFn | None = None,
    ) -> Listing:
        """Versions not archived yet, newest first; every page is read (order undocumented)."""
        strategy_id = require_uuid(strategy_id)
        archived = known.archived if known else frozenset()
        reader = EntryReader(archived, "flow version", flow_version)
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
        names = (name_of(version.document.get("configuration")) for version in versions)
        return described(self, client, require_uuid(strategy_id), names)

    def read(self, client: GenesysClient, strategy_id: str) -> dict[str, Any]:
        """The flow itself (``GET /api/v2/flows/{id}``): 410 once it is deleted."""
        strategy_id = require_uuid(strategy_id)
        return client.get(f"/api/v2/flows/{strategy_id}", schema="flow")


def discover_flows(client: GenesysClient) -> Iterator[dict[str, Any]]:
    """Every flow of the org, of every type (``GET /api/v2/flows``, paged)."""
    for page in client.pages("/api/v2/flows", schema="flows page"):
        yield from page["entities"]


def flow_version(entity: Mapping[str, Any]) -> Version:
    """A ``Version`` from a validated FlowVersion (epoch-ms dates, ISO ``datePublished``)."""
    number = version_number(entity["id"])
    if number is None:
        raise ValueError(f"flow version id {entity['id']!r} has no leading integer")
    created = epoch_ms(entity["dateCreated"])
    later = [epoch_ms(entity[k]) for k in ("dateCheckedIn", "dateSaved") if entity.get(k)]
    if entity.get("datePublished"):
        later.append(iso_date(entity["datePublished"]))
    return Version(
        version_id=entity["id"],
        number=number,
        created=created,
        modified=max(later, default=created),
        author=name_of(entity.get("createdBy")) or name_of(entity.get("createdByClient")),
        document=dict(entity),
    )
