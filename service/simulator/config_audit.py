"""Audit notifications of routing-configuration changes (reference section 8).

None of these objects has a change topic of its own: Genesys announces their changes on
``v2.audits.entitytype.{entityType}.entityid.{entityId}``, the same topic and body as a
flow's audit event (``notify.audit_event``), with the object's entity type and service.
"""

from __future__ import annotations

import json
from typing import Any

from .config_data import (
    DECISION_TABLE,
    EMERGENCY_GROUP,
    IVR,
    QUEUE,
    SCHEDULE,
    SCHEDULE_GROUP,
    SKILL_GROUP,
)
from .data import Person
from .notify import audit_notification

# sourceType → (entityType, serviceName). The services of IVRs, schedules and groups are
# unverified in the reference; these are values of the SDK's enum that fit their API paths.
ENTITY_TYPES = {
    QUEUE: ("Queue", "Routing"),
    IVR: ("IVR", "Architect"),
    SCHEDULE: ("Schedule", "Architect"),
    SCHEDULE_GROUP: ("ScheduleGroup", "Architect"),
    EMERGENCY_GROUP: ("EmergencyGroup", "Architect"),
    SKILL_GROUP: ("SkillGroup", "Routing"),
    DECISION_TABLE: ("DecisionTable", "BusinessRules"),
}
TABLE_VERSION_ENTITY = "DecisionTableVersion"


def as_values(value: Any) -> list[str]:
    """A changed value as the audit event writes it: strings, even for numbers; none for null."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int | float):
        return [str(value)]
    return [json.dumps(value, separators=(",", ":"))]


def property_changes(changes: list[tuple[str, Any, Any]]) -> list[dict[str, Any]]:
    """``(property, old, new)`` triples as ``propertyChanges``."""
    return [
        {"property": name, "oldValues": as_values(old), "newValues": as_values(new)}
        for name, old, new in changes
    ]


def config_audit(
    entity_type: str,
    service: str,
    entity: dict[str, Any],
    action: str,
    user: Person,
    at_ms: int,
    changes: list[tuple[str, Any, Any]] | None = None,
) -> dict[str, Any]:
    """The audit notification of ``action`` by ``user`` on ``entity`` (``{id, name, selfUri}``,
    ``selfUri`` when known)."""
    shown: dict[str, Any] = {k: entity[k] for k in ("id", "name", "selfUri") if k in entity}
    return audit_notification(
        entity_type, service, shown, action, user, at_ms, property_changes(changes or [])
    )


def object_audit(
    source_type: str,
    doc: dict[str, Any],
    action: str,
    user: Person,
    at_ms: int,
    changes: list[tuple[str, Any, Any]] | None = None,
) -> dict[str, Any]:
    """The audit notification of a change to the ``source_type`` object ``doc``."""
    entity_type, service = ENTITY_TYPES[source_type]
    return config_audit(entity_type, service, doc, action, user, at_ms, changes)
