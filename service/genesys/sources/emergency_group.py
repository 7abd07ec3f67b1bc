"""Emergency groups (``/api/v2/architect/emergencygroups``): the emergency flows and their
IVRs. ``enabled`` (emergency on or off) is stored in the object, so switching it is a new
version. Listings keep deleted groups (``state: "deleted"``), which discovery passes over."""

from __future__ import annotations

from typing import ClassVar

from .snapshot import PAGE_NUMBERS, SnapshotSource


class EmergencyGroupSource(SnapshotSource):
    """Emergency groups, listed by page numbers; numbered by their ``version``."""

    source_type: str = "emergency-group"
    label: str = "emergency group"
    plural: str = "emergency groups"
    collection: ClassVar[str] = "/api/v2/architect/emergencygroups"
    paging: ClassVar[str] = PAGE_NUMBERS
    audit_entity_types: tuple[str, ...] = ("EmergencyGroup",)
