"""Skill groups (``/api/v2/routing/skillgroups``): the skill conditions that fill a group.
The listing (``after`` cursors) gives definitions only; the ``GET`` of each has the
conditions. ``memberCount`` and ``status`` (the group filling) are volatile; there is no
``version``, so versions are numbered on from the last archived one."""

from __future__ import annotations

from typing import ClassVar

from .snapshot import CURSOR, SnapshotSource


class SkillGroupSource(SnapshotSource):
    """Skill groups, listed by ``after`` cursors, deleted by a 404."""

    source_type: str = "skill-group"
    label: str = "skill group"
    plural: str = "skill groups"
    collection: ClassVar[str] = "/api/v2/routing/skillgroups"
    volatile: ClassVar[frozenset[str]] = frozenset({"memberCount", "status"})
    paging: ClassVar[str] = CURSOR
    audit_entity_types: tuple[str, ...] = ("SkillGroup",)
