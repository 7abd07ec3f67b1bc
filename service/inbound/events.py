"""Webhook bodies turned into ``IncomingEvent`` values, or into the fields that are wrong.

Pure functions: no Flask, no ledger. A body is a Genesys notification, an EventBridge
event whose ``detail`` is one, or an array of up to 100 of either. One bad item refuses
the whole body, so that nothing of a request answered 422 is ever stored. Changes arrive
on a source's own topic (``v2.flows.{id}``) or on the audit topic, the one that reaches
EventBridge; both decide here whether the event starts a job, deletes, or is only recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from cerberus import Validator

from ..clock import iso, parse_iso
from ..ids import canonical_uuid
from ..ledger import IncomingEvent
from ..ledger.events import Actor
from ..validation import problems

MAX_ITEMS = 100

# Topics of the sources we archive (contract, section 3); every other topic is ignored.
# One segment after the prefix only: ``v2.flows.outcomes.{id}`` is not a flow. ``\Z``, not
# ``$``: the segment runs to the very end (a final newline stays in it, and fails the id check).
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("routing-strategy", re.compile(r"^v2\.routing\.strategies\.([^.]+)\Z")),
    ("flow", re.compile(r"^v2\.flows\.([^.]+)\Z")),
)

# The audit topic (contract, section 4): the entity type and id are in the topic.
AUDIT_TOPIC = re.compile(r"^v2\.audits\.entitytype\.([^.]+)\.entityid\.([^.]+)\Z")
# Audit ``entityType`` -> the source that archives it; other entity types are ignored.
AUDIT_SOURCES: dict[str, str] = {"Flow": "flow"}
# Audit actions that start a job; ``Delete`` deletes; every other action is no change.
AUDIT_CHANGES = frozenset({"Create", "Update", "Checkin", "Publish", "Save", "Revert", "Rollback"})
AUDIT_DELETE = "Delete"
# Flow operations (ended in SUCCESS) that start a job; ``DELETE`` deletes (contract, section 3).
FLOW_CHANGES = frozenset({"CREATE", "CHECKIN", "PUBLISH", "SAVE", "REVERT"})
FLOW_DELETE = "DELETE"


class InboundValidator(Validator):
    """Cerberus plus one check: text we store must be encodable (JSON allows lone surrogates)."""

    def _check_with_stored_text(self, field: str, value: Any) -> None:
        if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
            self._error(field, "must not contain unpaired UTF-16 surrogate escapes")


# Only the fields we read are checked: Genesys and AWS add fields over time, and a 422
# makes EventBridge drop the event for good.
_TEXT = {"type": "string", "empty": False, "check_with": "stored_text"}
# Text we may store (a name, an id, an action in a reason), absent or null allowed.
_STORED = {"type": "string", "nullable": True, "check_with": "stored_text"}
# ``{id, name}`` of a user or OAuth client who made a change.
_REF = {
    "type": "dict",
    "nullable": True,
    "allow_unknown": True,
    "schema": {"id": _STORED, "name": _STORED},
}

NOTIFICATION: dict[str, Any] = {
    "topicName": {**_TEXT, "required": True},
    "eventBody": {"type": "dict", "required": True},
    "metadata": {
        "type": "dict",
        "nullable": True,
        "allow_unknown": True,
        "schema": {"CorrelationId": {**_TEXT, "empty": True, "nullable": True}},
    },
}

EVENTBRIDGE: dict[str, Any] = {
    "id": {**_TEXT, "required": True},
    "detail": {"type": "dict", "required": True, "allow_unknown": True, "schema": NOTIFICATION},
}

# ``eventBody`` of the topics we archive, checked once the topic is known.
BODIES: dict[str, dict[str, Any]] = {
    "routing-strategy": {"id": {"type": "string", "nullable": True}},
    "flow": {
        "id": {"type": "string", "nullable": True},
        "currentOperation": {
            "type": "dict",
            "nullable": True,
            "allow_unknown": True,
            "schema": {
                "complete": {"type": "boolean", "nullable": True},
                "actionName": _STORED,
                "actionStatus": _STORED,
                "user": _REF,
                "client": _REF,
            },
        },
    },
}

# ``eventBody`` of the audit topic (the audit log message) for an entity type we archive.
AUDIT: dict[str, Any] = {
    "action": {**_TEXT, "required": True},
    "entityType": {"type": "string", "nullable": True},
    "entity": {
        "type": "dict",
        "nullable": True,
        "allow_unknown": True,
        "schema": {"id": {"type": "string", "nullable": True}},
    },
    "userId": _STORED,
    "userDisplay": _STORED,
    "username": _REF,  # an object despite its name: {id, name, selfUri}
    "clientId": _REF,  # an object despite its name: {id, selfUri}
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "notification": NOTIFICATION,
    "eventbridge": EVENTBRIDGE,
    **BODIES,
    "audit": AUDIT,
}

Fields = dict[str, list[str]]

_LOCAL = threading.local()


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
        if not _eventbridge_ok(item):
            found = problems(_validator("eventbridge"), item, normalize=False)
            if found:
                return Parsed(fields=found)
        return _event(item, item["detail"], "detail", eventbridge_id=item["id"])
    if not _notification_ok(item):
        found = problems(_validator("notification"), item, normalize=False)
        if found:
            return Parsed(fields=found)
    return _event(item, item, "", eventbridge_id=None)


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
    found = (
        {}
        if _BODY_OK[source_type](body)
        else problems(_validator(source_type), body, normalize=False)
    )
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
    found = {} if _audit_body_ok(body) else problems(_validator("audit"), body, normalize=False)
    if not found:
        found = _audit_mismatch(body, entity_type, entity_id)
    if found:
        return Parsed(fields=_under(_path(at, "eventBody"), found))
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


# The schemas above decide; cerberus is also the slowest thing on the webhook's path
# (hundreds of microseconds a body). These direct checks apply the same rules to the
# common case: when one passes, the schema would pass too (tests hold them to that), and
# cerberus runs only for bodies they do not accept, to name the bad fields.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_ok(value: Any, *, empty: bool = False, null: bool = False) -> bool:
    if value is None:
        return null
    return isinstance(value, str) and (empty or value != "") and not _SURROGATE.search(value)


def _notification_ok(item: dict[str, Any]) -> bool:
    metadata = item.get("metadata")
    return (
        _text_ok(item.get("topicName"))
        and isinstance(item.get("eventBody"), dict)
        and (
            metadata is None
            or (
                isinstance(metadata, dict)
                and _text_ok(metadata.get("CorrelationId"), empty=True, null=True)
            )
        )
    )


def _eventbridge_ok(item: dict[str, Any]) -> bool:
    detail = item.get("detail")
    return _text_ok(item.get("id")) and isinstance(detail, dict) and _notification_ok(detail)


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _optional_flag(value: Any) -> bool:
    return value is None or isinstance(value, bool)


def _strategy_body_ok(body: dict[str, Any]) -> bool:
    return _optional_text(body.get("id"))


def _stored_text(value: Any) -> bool:
    return _text_ok(value, empty=True, null=True)


def _ref_ok(ref: Any) -> bool:
    return ref is None or (
        isinstance(ref, dict) and _stored_text(ref.get("id")) and _stored_text(ref.get("name"))
    )


def _flow_body_ok(body: dict[str, Any]) -> bool:
    operation = body.get("currentOperation")
    return _optional_text(body.get("id")) and (
        operation is None
        or (
            isinstance(operation, dict)
            and _optional_flag(operation.get("complete"))
            and _stored_text(operation.get("actionName"))
            and _stored_text(operation.get("actionStatus"))
            and _ref_ok(operation.get("user"))
            and _ref_ok(operation.get("client"))
        )
    )


def _audit_body_ok(body: dict[str, Any]) -> bool:
    entity = body.get("entity")
    return (
        _text_ok(body.get("action"))
        and _optional_text(body.get("entityType"))
        and (entity is None or (isinstance(entity, dict) and _optional_text(entity.get("id"))))
        and _stored_text(body.get("userId"))
        and _stored_text(body.get("userDisplay"))
        and _ref_ok(body.get("username"))
        and _ref_ok(body.get("clientId"))
    )


_BODY_OK = {"routing-strategy": _strategy_body_ok, "flow": _flow_body_ok}


def _validator(name: str) -> Validator:
    """This thread's validator of a schema: a cerberus validator keeps state while it works."""
    cache: dict[str, Validator] = _LOCAL.__dict__.setdefault("validators", {})
    if name not in cache:
        cache[name] = InboundValidator(SCHEMAS[name], allow_unknown=True)
    return cache[name]


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
