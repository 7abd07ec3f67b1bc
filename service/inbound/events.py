"""Webhook bodies turned into ``IncomingEvent`` values, or into the fields that are wrong.

Pure functions: no Flask, no ledger. A body is a Genesys notification, an EventBridge
event whose ``detail`` is one, or an array of up to 100 of either. One bad item refuses
the whole body, so that nothing of a request answered 422 is ever stored. Changes arrive
on a source's own topic (``v2.flows.{id}``) or on the audit topic, the one that reaches
EventBridge; both decide here whether the event starts a job, deletes, or is only recorded.
Shapes are checked by ``checks`` (one rule per field we read); the topic picks the rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from ..clock import iso, parse_iso
from ..genesys.sources import SOURCES
from ..ids import canonical_uuid
from ..ledger import IncomingEvent
from ..ledger.events import Actor
from .checks import AUDIT, BODIES, EVENTBRIDGE, NOTIFICATION, Fields, check

MAX_ITEMS = 100

# Topics of the sources we archive (contract, section 3); every other topic is ignored.
# One segment after the prefix only: ``v2.flows.outcomes.{id}`` is not a flow. ``\Z``, not
# ``$``: the segment runs to the very end (a final newline stays in it, and fails the id check).
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (source.source_type, source.topic) for source in SOURCES.values() if source.topic
)

# The audit topic (contract, section 4): the entity type and id are in the topic.
AUDIT_TOPIC = re.compile(r"^v2\.audits\.entitytype\.([^.]+)\.entityid\.([^.]+)\Z")
# Audit ``entityType`` -> the source that archives it; other entity types are ignored.
AUDIT_SOURCES: dict[str, str] = {
    entity_type: source.source_type
    for source in SOURCES.values()
    for entity_type in source.audit_entity_types
}
# Audit actions that start a job; ``Delete`` deletes; every other action is no change.
AUDIT_CHANGES = frozenset({"Create", "Update", "Checkin", "Publish", "Save", "Revert", "Rollback"})
AUDIT_DELETE = "Delete"
# Flow operations (ended in SUCCESS) that start a job; ``DELETE`` deletes (contract, section 3).
FLOW_CHANGES = frozenset({"CREATE", "CHECKIN", "PUBLISH", "SAVE", "REVERT"})
FLOW_DELETE = "DELETE"


@dataclass(frozen=True)
class Parsed:
    """The events of a body, or (``fields`` not empty) why it was refused."""

    events: list[IncomingEvent] = field(default_factory=list)
    fields: Fields = field(default_factory=dict)


def parse_body(document: Any) -> Parsed:
    """Read a whole webhook body: one event, or an array of 1 to ``MAX_ITEMS`` events."""
    if not isinstance(document, list):
        return parse_item(document)
    if not document:
        return Parsed(fields={"(document)": ["must hold at least one event"]})
    if len(document) > MAX_ITEMS:
        message = f"must hold at most {MAX_ITEMS} events, not {len(document)}"
        return Parsed(fields={"(document)": [message]})
    events: list[IncomingEvent] = []
    found: Fields = {}
    for index, item in enumerate(document):
        parsed = parse_item(item)
        events.extend(parsed.events)
        found.update(_under(str(index), parsed.fields))
    return Parsed(fields=found) if found else Parsed(events=events)


def parse_item(item: Any) -> Parsed:
    """Read one notification or EventBridge event; the form is told by ``detail``."""
    if not isinstance(item, dict):
        return Parsed(fields={"(document)": [f"must be a JSON object, not {_json_type(item)}"]})
    if "detail" in item or "detail-type" in item:
        found = check(EVENTBRIDGE, item)
        if found:
            return Parsed(fields=found)
        return _event(item, item["detail"], "detail", eventbridge_id=item["id"])
    found = check(NOTIFICATION, item)
    if found:
        return Parsed(fields=found)
    return _event(item, item, "", eventbridge_id=None)


def ignore_disabled(events: list[IncomingEvent], enabled: Collection[str]) -> list[IncomingEvent]:
    """The events, those of a source type ``SOURCES`` leaves out recorded and ignored
    (contract section 12): no job, no deletion."""
    return [
        replace(
            event,
            ignore_reason=f"source type {event.source_type} is not among SOURCES",
            deletion=None,
        )
        if event.source_type is not None and event.source_type not in enabled
        else event
        for event in events
    ]


def dedup_key(topic: str, correlation_id: str | None, event_body: Any) -> str:
    """The key of a notification that has no EventBridge id: topic, CorrelationId, body digest."""
    canonical = json.dumps(event_body, sort_keys=True, separators=(",", ":"))
    text = f"{topic}\n{correlation_id or ''}\n{canonical}"
    return "notification:" + hashlib.sha256(text.encode()).hexdigest()


def _event(
    item: dict[str, Any], notification: dict[str, Any], at: str, *, eventbridge_id: str | None
) -> Parsed:
    topic: str = notification["topicName"]
    body: dict[str, Any] = notification["eventBody"]
    correlation_id = (notification.get("metadata") or {}).get("CorrelationId")
    event = IncomingEvent(
        dedup_key=(
            f"eventbridge:{eventbridge_id}"
            if eventbridge_id
            else dedup_key(topic, correlation_id, body)
        ),
        topic=topic,
        # ASCII escapes: lone surrogates inside the event cannot break the ledger's UTF-8.
        body=json.dumps(item, separators=(",", ":")),
        correlation_id=correlation_id,
        eventbridge_id=eventbridge_id,
    )
    for source_type, pattern in TOPICS:
        match = pattern.match(topic)
        if match:
            return _archivable(event, source_type, match.group(1), body, at)
    audit = AUDIT_TOPIC.match(topic)
    if audit and audit.group(1) in AUDIT_SOURCES:
        return _audited(event, audit.group(1), audit.group(2), body, at)
    return Parsed(events=[event])  # no known source: counted as ignored, never stored


def _archivable(
    event: IncomingEvent, source_type: str, raw_id: str, body: dict[str, Any], at: str
) -> Parsed:
    strategy_id = canonical_uuid(raw_id)  # the product's one id check
    if strategy_id is None:
        shown = raw_id if len(raw_id) <= 80 else raw_id[:77] + "..."
        message = f"the {source_type} id in the topic must be a UUID, got {shown!r}"
        return Parsed(fields={_path(at, "topicName"): [message]})
    found = check(BODIES[source_type], body)
    if not found and body.get("id") is not None and body["id"].lower() != strategy_id:
        found = {"id": [f"must be the id in topicName ({strategy_id})"]}
    if found:
        return Parsed(fields=_under(_path(at, "eventBody"), found))
    if source_type != "flow":
        archivable = replace(event, source_type=source_type, strategy_id=strategy_id)
        return Parsed(events=[archivable])
    reason = _unfinished(body)
    operation = body.get("currentOperation") or {}
    archivable = replace(
        event,
        source_type=source_type,
        strategy_id=strategy_id,
        ignore_reason=reason,
        deletion=(
            f"flow operation {FLOW_DELETE}"
            if reason is None and operation.get("actionName") == FLOW_DELETE
            else None
        ),
        actor=flow_actor(body),
    )
    return Parsed(events=[archivable])


def _audited(
    event: IncomingEvent, entity_type: str, raw_id: str, body: dict[str, Any], at: str
) -> Parsed:
    """An audit event of an entity type a source archives: a job, a deletion, or no change."""
    source_type = AUDIT_SOURCES[entity_type]
    entity_id = canonical_uuid(raw_id)
    if entity_id is None:
        shown = raw_id if len(raw_id) <= 80 else raw_id[:77] + "..."
        message = f"the {entity_type} id in the topic must be a UUID, got {shown!r}"
        return Parsed(fields={_path(at, "topicName"): [message]})
    found = check(AUDIT, body)
    if not found:
        found = _audit_mismatch(body, entity_type, entity_id)
    if found:
        return Parsed(fields=_under(_path(at, "eventBody"), found))
    if body.get("serviceName") in SOURCES[source_type].audit_ignored_services:
        return Parsed(events=[event])  # another service's object of that entity type
    action: str = body["action"]
    deleted = action == AUDIT_DELETE
    reason = None if deleted or action in AUDIT_CHANGES else f"audit action {action} is no change"
    audited = replace(
        event,
        source_type=source_type,
        strategy_id=entity_id,
        ignore_reason=reason,
        deletion=f"audit action {AUDIT_DELETE}" if deleted else None,
        changed_at=event_time(body),
        actor=audit_actor(body),
    )
    return Parsed(events=[audited])


def _audit_mismatch(body: dict[str, Any], entity_type: str, entity_id: str) -> Fields:
    """The body's entity where it names another object than the topic does."""
    if body.get("entityType") is not None and body["entityType"] != entity_type:
        return {"entityType": [f"must be the entity type in topicName ({entity_type})"]}
    entity = body.get("entity") or {}
    if entity.get("id") is not None and entity["id"].lower() != entity_id:
        return {"entity.id": [f"must be the id in topicName ({entity_id})"]}
    return {}


def _unfinished(body: dict[str, Any]) -> str | None:
    """Why a flow event starts no job: its operation has not ended in SUCCESS (yet), or its
    action makes no new version (contract, section 3). None: archive (or, DELETE, delete)."""
    operation = body.get("currentOperation")
    if operation is None:
        return None  # no operation in hand: the flow itself changed, archive it
    status, action = operation.get("actionStatus"), operation.get("actionName") or "(unnamed)"
    if status == "SUCCESS" and operation.get("complete") is True:
        if action in FLOW_CHANGES or action == FLOW_DELETE:
            return None
        return f"flow operation {action} starts no job"
    if status == "SUCCESS":
        return f"flow operation {action} is SUCCESS but not complete"
    return f"flow operation {action} is {status or 'without a status'}"


def flow_actor(body: dict[str, Any]) -> Actor:
    """The user and client of a (checked) flow event's ``currentOperation``."""
    operation = body.get("currentOperation") or {}
    user, client = operation.get("user") or {}, operation.get("client") or {}
    return Actor(
        user_id=user.get("id") or None,
        user_name=user.get("name") or None,
        client_id=client.get("id") or None,
        client_name=client.get("name") or None,
    )


def event_time(body: dict[str, Any]) -> str | None:
    """The audit message's ``eventTime`` in the ledger's form; None when absent or unreadable
    (only a deletion's date uses it, and the time of receipt does then)."""
    value = body.get("eventTime")
    if not isinstance(value, str):
        return None
    try:
        return iso(parse_iso(value))
    except (ValueError, OverflowError):
        return None


def audit_actor(body: dict[str, Any]) -> Actor:
    """The user and OAuth client of a (checked) audit message."""
    user, client = body.get("username") or {}, body.get("clientId") or {}
    return Actor(
        user_id=body.get("userId") or user.get("id") or None,
        user_name=user.get("name") or body.get("userDisplay") or None,
        client_id=client.get("id") or None,
        client_name=client.get("name") or None,  # the audit topic's ref has no name today
    )


def _path(prefix: str, key: str) -> str:
    if key == "(document)":
        return prefix or key
    return f"{prefix}.{key}" if prefix else key


def _under(prefix: str, found: Fields) -> Fields:
    return {_path(prefix, key): messages for key, messages in found.items()}


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names.update({list: "an array", type(None): "null"})
    return names.get(type(value), type(value).__name__)
