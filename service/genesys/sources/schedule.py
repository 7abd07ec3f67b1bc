"""Architect schedules (``/api/v2/architect/schedules``): start, end (zone-less) and an
RRULE. Audit events of ``entityType`` ``Schedule`` from ``WorkforceManagement`` are about
WFM schedules, another object altogether, and are not this source's."""

from __future__ import annotations

from typing import ClassVar

from .snapshot import PAGE_NUMBERS, SnapshotSource


class ScheduleSource(SnapshotSource):
    """Architect schedules, listed by page numbers; numbered by their ``version``."""

    source_type: str = "schedule"
    label: str = "schedule"
    plural: str = "schedules"
    collection: ClassVar[str] = "/api/v2/architect/schedules"
    paging: ClassVar[str] = PAGE_NUMBERS
    audit_entity_types: tuple[str, ...] = ("Schedule",)
    audit_ignored_services: tuple[str, ...] = ("WorkforceManagement",)
