"""Every source the archiver knows, in one ordered registry (contract sections 3 and 12).

``SOURCE_TYPES`` is the one list of source type names: the command line's choices, the
payload schema, the metrics, the topics, the sweep's listings and the ``SOURCES`` setting
all come from it. ``source_for`` gives the source of a name. ``base`` says what a source is.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import ConfigError, UsageError
from .base import (
    LISTING,
    NO_ID,
    DeletedInGenesys,
    Known,
    Listing,
    ProgressFn,
    SkippedVersion,
    Source,
    Strategy,
    Version,
)
from .decision_table import DecisionTableSource
from .emergency_group import EmergencyGroupSource
from .entries import bad_entry, version_number, version_order
from .flow import FlowSource, discover_flows, flow_version
from .ivr import IvrSource
from .queue import QueueSource
from .routing_strategy import RoutingStrategySource, list_routing_strategies, routing_version
from .schedule import ScheduleSource
from .schedule_group import ScheduleGroupSource
from .skill_group import SkillGroupSource

# In this order everywhere they are listed: flows first, the one source every org has.
_ALL: tuple[Source, ...] = (
    FlowSource(),
    RoutingStrategySource(),
    QueueSource(),
    IvrSource(),
    ScheduleSource(),
    ScheduleGroupSource(),
    EmergencyGroupSource(),
    SkillGroupSource(),
    DecisionTableSource(),
)

SOURCES: dict[str, Source] = {source.source_type: source for source in _ALL}
SOURCE_TYPES: tuple[str, ...] = tuple(SOURCES)


def source_for(source_type: str) -> Source:
    """The source of that name; ``UsageError`` listing the valid names otherwise."""
    try:
        return SOURCES[source_type]
    except KeyError:
        valid = ", ".join(SOURCE_TYPES)
        raise UsageError(f"unknown source type {source_type!r}; use one of: {valid}") from None


def enabled_types(names: Iterable[str] | None) -> tuple[str, ...]:
    """The source types ``SOURCES`` names, in registry order (None: all of them).

    ``ConfigError`` naming the variable for an unknown name or a list naming none.
    """
    if names is None:
        return SOURCE_TYPES
    wanted = [name for name in names if name]
    unknown = [name for name in wanted if name not in SOURCES]
    if unknown:
        raise ConfigError(
            f"SOURCES is invalid: unknown source type {unknown[0]!r}; "
            f"use a comma-separated list of: {', '.join(SOURCE_TYPES)}"
        )
    if not wanted:
        raise ConfigError(
            f"SOURCES is invalid: it names no source type; use some of: {', '.join(SOURCE_TYPES)}"
        )
    return tuple(name for name in SOURCE_TYPES if name in wanted)


__all__ = [
    "LISTING",
    "NO_ID",
    "SOURCES",
    "SOURCE_TYPES",
    "DeletedInGenesys",
    "FlowSource",
    "Known",
    "Listing",
    "ProgressFn",
    "RoutingStrategySource",
    "SkippedVersion",
    "Source",
    "Strategy",
    "Version",
    "bad_entry",
    "discover_flows",
    "enabled_types",
    "flow_version",
    "list_routing_strategies",
    "routing_version",
    "source_for",
    "version_number",
    "version_order",
]
