"""Queues (``/api/v2/routing/queues``): routing rules, bullseye rings, conditional group
routing. No ``version``: versions are numbered on from the last archived one. Member
counts are volatile wherever they appear (``memberGroups``, bullseye rings, rules)."""

from __future__ import annotations

from typing import ClassVar

from .snapshot import PAGE_NUMBERS, SnapshotSource


class QueueSource(SnapshotSource):
    """Queues, listed by page numbers, deleted by a 404."""

    source_type: str = "queue"
    label: str = "queue"
    plural: str = "queues"
    collection: ClassVar[str] = "/api/v2/routing/queues"
    volatile: ClassVar[frozenset[str]] = frozenset(
        {"memberCount", "userMemberCount", "joinedMemberCount"}
    )
    paging: ClassVar[str] = PAGE_NUMBERS
    audit_entity_types: tuple[str, ...] = ("Queue",)
