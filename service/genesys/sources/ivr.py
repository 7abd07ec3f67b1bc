"""IVRs, call routes (``/api/v2/architect/ivrs``): numbers, the flows of open, closed and
holiday hours, the schedule group. An Architect object: its integer ``version`` numbers
the archived versions, and a deleted one may answer 200 with ``state: "deleted"``."""

from __future__ import annotations

from typing import ClassVar

from .snapshot import PAGE_NUMBERS, SnapshotSource


class IvrSource(SnapshotSource):
    """IVRs, listed by page numbers."""

    source_type: str = "ivr"
    label: str = "IVR"
    plural: str = "IVRs"
    collection: ClassVar[str] = "/api/v2/architect/ivrs"
    paging: ClassVar[str] = PAGE_NUMBERS
    audit_entity_types: tuple[str, ...] = ("IVR",)
