"""Schedule groups (``/api/v2/architect/schedulegroups``): a time zone and the open,
closed and holiday schedules an IVR follows."""

from __future__ import annotations

from typing import ClassVar

from .snapshot import PAGE_NUMBERS, SnapshotSource


class ScheduleGroupSource(SnapshotSource):
    """Schedule groups, listed by page numbers; numbered by their ``version``."""

    source_type: str = "schedule-group"
    label: str = "schedule group"
    plural: str = "schedule groups"
    collection: ClassVar[str] = "/api/v2/architect/schedulegroups"
    paging: ClassVar[str] = PAGE_NUMBERS
    audit_entity_types: tuple[str, ...] = ("ScheduleGroup",)
