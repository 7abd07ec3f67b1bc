"""Everything that talks to Genesys Cloud: the client, its token, schemas and the sources."""

from .auth import TokenProvider
from .client import GenesysClient, from_response
from .sources import (
    SOURCES,
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
    "GenesysClient",
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
