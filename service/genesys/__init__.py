"""Everything that talks to Genesys Cloud: the client, its token, schemas and the sources
(``service.genesys.sources``: one module per source type and their registry)."""

from .auth import TokenProvider
from .client import GenesysClient, from_response
from .sources import (
    SOURCE_TYPES,
    SOURCES,
    Known,
    ProgressFn,
    Source,
    Strategy,
    Version,
    discover_flows,
    list_routing_strategies,
    source_for,
)

__all__ = [
    "SOURCES",
    "SOURCE_TYPES",
    "GenesysClient",
    "Known",
    "ProgressFn",
    "Source",
    "Strategy",
    "TokenProvider",
    "Version",
    "discover_flows",
    "from_response",
    "list_routing_strategies",
    "source_for",
]
