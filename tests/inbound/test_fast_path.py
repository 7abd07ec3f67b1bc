"""The direct checks of ``events`` never accept what their cerberus schema refuses.

``_notification_ok``, ``_eventbridge_ok``, ``_strategy_body_ok``, ``_flow_body_ok`` and
``_audit_body_ok`` let
``parse_body`` skip cerberus on the webhook's hot path. They may be stricter than the
schemas (cerberus then runs and decides), never looser: a looser check would let a bad
body through without its 422. A small deterministic generator (no hypothesis) mutates
every field the schemas mention in the recorded samples, and holds the checks, and
``parse_body`` as a whole, to a reference that always runs cerberus.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from service.errors import UsageError
from service.ids import require_uuid
from service.inbound import events
from service.inbound.events import (
    AUDIT_CHANGES,
    AUDIT_DELETE,
    AUDIT_SOURCES,
    AUDIT_TOPIC,
    FLOW_DELETE,
    MAX_ITEMS,
    TOPICS,
    Parsed,
    _audit_body_ok,
    _eventbridge_ok,
    _flow_body_ok,
    _notification_ok,
    _strategy_body_ok,
    _unfinished,
    _validator,
    audit_actor,
    dedup_key,
    event_time,
    flow_actor,
    parse_body,
)
from service.ledger import IncomingEvent
from service.validation import problems
from tests.inbound.conftest import load_sample

FLOW_ID = "cb5a24eb-6297-4618-b2ab-a07537bb1476"
STRATEGY_ID = "38426578-d900-459f-a7e7-3260397f7ca3"
SAMPLES = (
    "notification-flow.json",
    "notification-routing-strategy.json",
    "eventbridge-flow.json",
    "notification-audit-flow.json",
    "eventbridge-audit-flow.json",
)
AUDIT_TOPIC_OF_FLOW = f"v2.audits.entitytype.Flow.entityid.{FLOW_ID}"

Doc = dict[str, Any]
Path = tuple[str, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # the field is removed

# Every field is set to each of these in turn.
VALUES: tuple[Any, ...] = (
    MISSING,
    None,
    "",
    "text",
    "\ud800",
    0,
    1,
    1.5,
    True,
    False,
    [],
    {},
    {"a": {"b": [1, {"c": None}], "d": ""}},
)

# More strings where the text decides where the event goes, or whether it is refused.
EXTRA: dict[str, tuple[Any, ...]] = {
    "topicName": (
        f"v2.flows.{FLOW_ID}",
        f"v2.flows.{FLOW_ID.upper()}",
        f"v2.routing.strategies.{STRATEGY_ID}",
        f"v2.routing.strategies.{FLOW_ID}",
        "v2.flows.not-a-uuid",
        f"v2.flows.{FLOW_ID}.outcomes",
        "v2.users.5b1f3e4a.presence",
        "channel.metadata",
        AUDIT_TOPIC_OF_FLOW,
        f"v2.audits.entitytype.Flow.entityid.{STRATEGY_ID}",
        f"v2.audits.entitytype.Flow.entityid.{FLOW_ID.upper()}",
        f"v2.audits.entitytype.Queue.entityid.{FLOW_ID}",
        f"v2.audits.entitytype.flow.entityid.{FLOW_ID}",
        "v2.audits.entitytype.Flow.entityid.not-a-uuid",
        "v2.audits.entitytype.{id}.entityid.{id}",
        f"v2.flows.{FLOW_ID}\udfff",
        " ",
    ),
    "CorrelationId": (" ", "c-1", "x\udc00y", "\U0001f600"),
    "id": (FLOW_ID, FLOW_ID.upper(), STRATEGY_ID, "x\udfff", "\U0001f600"),
    "actionStatus": ("SUCCESS", "FAILURE", "\ud800"),
    "actionName": ("PUBLISH", "CHECKIN", "DELETE", "VALIDATE", "\udc00"),
    "action": ("Publish", "Delete", "View", "Checkout", "x\ud800"),
    "entityType": ("Flow", "Queue", "flow"),
    "name": ("Ada Lovelace", "x\udfff"),
    "userId": ("u-1", "\ud800"),
    "userDisplay": ("Ada", "\udfff"),
    "eventTime": ("2026-11-28T09:44:26+02:00", "yesterday", "9999-12-31T23:59:59-23:00"),
}

NOTIFICATION_PATHS: tuple[Path, ...] = (
    ("topicName",),
    ("eventBody",),
    ("metadata",),
    ("metadata", "CorrelationId"),
    ("eventBody", "id"),
    ("eventBody", "currentOperation"),
    ("eventBody", "currentOperation", "complete"),
    ("eventBody", "currentOperation", "actionName"),
    ("eventBody", "currentOperation", "actionStatus"),
    ("eventBody", "currentOperation", "user"),
    ("eventBody", "currentOperation", "user", "id"),
    ("eventBody", "currentOperation", "user", "name"),
    ("eventBody", "currentOperation", "client"),
    ("eventBody", "currentOperation", "client", "name"),
)
AUDIT_PATHS: tuple[Path, ...] = (
    ("topicName",),
    ("eventBody",),
    ("metadata", "CorrelationId"),
    ("eventBody", "action"),
    ("eventBody", "entityType"),
    ("eventBody", "entity"),
    ("eventBody", "entity", "id"),
    ("eventBody", "userId"),
    ("eventBody", "userDisplay"),
    ("eventBody", "eventTime"),
    ("eventBody", "username"),
    ("eventBody", "username", "id"),
    ("eventBody", "username", "name"),
    ("eventBody", "clientId"),
    ("eventBody", "clientId", "id"),
    ("eventBody", "clientId", "name"),
)


def _bridged(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    return (("id",), ("detail",), ("detail-type",), *(("detail", *path) for path in paths))


RANDOM_VARIANTS = 600  # documents with 2 to 4 fields changed at once


def values_for(path: Path) -> tuple[Any, ...]:
    return VALUES + EXTRA.get(path[-1], ())


def paths_for(document: Doc) -> tuple[Path, ...]:
    notification = document.get("detail", document)
    audit = notification["topicName"].startswith("v2.audits.")
    paths = AUDIT_PATHS if audit else NOTIFICATION_PATHS
    return _bridged(paths) if "detail" in document else paths


def mutated(document: Doc, changes: list[tuple[Path, Any]]) -> Doc | None:
    """A copy with each change made; parents that are missing become ``{}``.

    None when a change reaches under a value that is not an object (an earlier change
    replaced it): that document is made by another change list anyway.
    """
    result = copy.deepcopy(document)
    for path, value in changes:
        parent = result
        for key in path[:-1]:
            child = parent.setdefault(key, {})
            if not isinstance(child, dict):
                return None
            parent = child
        if value is MISSING:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = copy.deepcopy(value)
    return result


@cache
def corpus() -> tuple[tuple[str, Doc], ...]:
    """The samples, each with every field set to every value, then random combinations."""
    found: list[tuple[str, Doc]] = []
    for name in SAMPLES:
        sample = load_sample(name)
        found.append((name, sample))
        for path in paths_for(sample):
            for value in values_for(path):
                variant = mutated(sample, [(path, value)])
                if variant is not None:
                    found.append((f"{name} {'.'.join(path)}={value!r}", variant))
    rng = random.Random(20261128)
    wanted = len(found) + RANDOM_VARIANTS
    while len(found) < wanted:
        name = rng.choice(SAMPLES)
        sample = load_sample(name)
        paths = rng.sample(paths_for(sample), rng.randint(2, 4))
        changes = [(path, rng.choice(values_for(path))) for path in paths]
        variant = mutated(sample, changes)
        if variant is not None:
            shown = ", ".join(f"{'.'.join(path)}={value!r}" for path, value in changes)
            found.append((f"{name} {shown}", variant))
    return tuple(found)


def dicts_at(document: Doc, *paths: Path) -> Iterator[Doc]:
    for path in paths:
        value: Any = document
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict):
            yield value


# (direct check, schema name, where in a corpus document the checked object is)
CHECKS: tuple[tuple[Callable[[Doc], bool], str, tuple[Path, ...]], ...] = (
    (_notification_ok, "notification", ((), ("detail",))),
    (_eventbridge_ok, "eventbridge", ((),)),
    (_strategy_body_ok, "routing-strategy", (("eventBody",), ("detail", "eventBody"))),
    (_flow_body_ok, "flow", (("eventBody",), ("detail", "eventBody"))),
    (_audit_body_ok, "audit", (("eventBody",), ("detail", "eventBody"))),
)


def test_the_corpus_covers_every_field_and_value() -> None:
    documents = corpus()
    assert len(documents) >= 5 * len(AUDIT_PATHS) * len(VALUES) + RANDOM_VARIANTS
    assert len({json.dumps(doc, sort_keys=True) for _, doc in documents}) > 500


def test_the_direct_checks_accept_the_recorded_samples() -> None:
    flow = load_sample("notification-flow.json")
    strategy = load_sample("notification-routing-strategy.json")
    bridge = load_sample("eventbridge-flow.json")
    audit = load_sample("notification-audit-flow.json")
    audit_bridge = load_sample("eventbridge-audit-flow.json")
    assert _notification_ok(audit)
    assert _eventbridge_ok(audit_bridge)
    assert _audit_body_ok(audit["eventBody"])
    assert _audit_body_ok(audit_bridge["detail"]["eventBody"])
    assert _notification_ok(flow)
    assert _notification_ok(strategy)
    assert _eventbridge_ok(bridge)
    assert _notification_ok(bridge["detail"])
    assert _flow_body_ok(flow["eventBody"])
    assert _flow_body_ok(bridge["detail"]["eventBody"])
    assert _strategy_body_ok(strategy["eventBody"])
    for name in SAMPLES:
        assert parse_body(load_sample(name)).events


def test_a_direct_check_that_passes_means_the_schema_passes() -> None:
    looser: list[str] = []
    passed = {name: 0 for _, name, _ in CHECKS}
    for label, document in corpus():
        for check, name, paths in CHECKS:
            for checked in dicts_at(document, *paths):
                if not check(checked):
                    continue
                passed[name] += 1
                found = problems(_validator(name), checked, normalize=False)
                if found:
                    looser.append(f"{check.__name__} accepts, {name} refuses {found}: {label}")
    assert looser == []
    # The fast path is taken, for each check, by many documents, not only the samples.
    assert all(count >= 50 for count in passed.values()), passed


def test_parse_body_agrees_with_cerberus_alone() -> None:
    disagree: list[str] = []
    bodies = 0
    for label, body in bodies_to_parse():
        bodies += 1
        want = reference(body)
        try:
            got = parse_body(body)
        except Exception as error:  # a bad body let through can break what comes after
            disagree.append(f"{label}: parse_body raised {error!r} / cerberus only {want}")
            continue
        if not agree(got, want):
            disagree.append(f"{label}: parse_body {got} / cerberus only {want}")
    assert disagree == []
    assert bodies > 1000


def test_the_corpus_is_both_accepted_and_refused() -> None:
    refused = [bool(reference(document).fields) for _, document in corpus()]
    assert refused.count(True) > 100
    assert refused.count(False) > 100


def bodies_to_parse() -> Iterator[tuple[str, Any]]:
    documents = corpus()
    flow = load_sample("notification-flow.json")
    for label, document in documents:
        yield label, document
    # In arrays: a bad item refuses every item; good ones are read in order.
    for index, (label, document) in enumerate(documents[::7]):
        yield f"[{label}]", [document]
        yield f"[sample, {label}]", [flow, document]
        yield f"[{label}, sample, sample]", [document, flow, flow]
        if index % 10 == 0:
            items = [document for _, document in documents[index : index + MAX_ITEMS]]
            yield f"[{len(items)} from {label}]", items


def agree(got: Parsed, want: Parsed) -> bool:
    """The same decision: the same events, or refused by both naming the same fields."""
    if want.fields or got.fields:
        return (
            bool(got.fields)
            and bool(want.fields)
            and not got.events
            and set(got.fields) == set(want.fields)
        )
    return got.events == want.events


# A parser that always asks cerberus: what ``parse_body`` must answer, fast path or not.


def reference(document: Any) -> Parsed:
    if not isinstance(document, list):
        return reference_item(document)
    if not 1 <= len(document) <= MAX_ITEMS:
        return Parsed(fields={"(document)": ["size"]})
    found: dict[str, list[str]] = {}
    read: list[IncomingEvent] = []
    for index, item in enumerate(document):
        parsed = reference_item(item)
        read.extend(parsed.events)
        for key, messages in parsed.fields.items():
            found[str(index) if key == "(document)" else f"{index}.{key}"] = messages
    return Parsed(fields=found) if found else Parsed(events=read)


def reference_item(item: Any) -> Parsed:
    if not isinstance(item, dict):
        return Parsed(fields={"(document)": ["not an object"]})
    bridge = "detail" in item or "detail-type" in item
    found = problems(_validator("eventbridge" if bridge else "notification"), item, normalize=False)
    if found:
        return Parsed(fields=found)
    notification = item["detail"] if bridge else item
    at = "detail." if bridge else ""
    topic, body = notification["topicName"], notification["eventBody"]
    correlation_id = (notification.get("metadata") or {}).get("CorrelationId")
    bridge_id = item["id"] if bridge else None
    event = IncomingEvent(
        dedup_key=f"eventbridge:{bridge_id}"
        if bridge_id
        else dedup_key(topic, correlation_id, body),
        topic=topic,
        body=json.dumps(item, separators=(",", ":")),
        correlation_id=correlation_id,
        eventbridge_id=bridge_id,
    )
    audit = AUDIT_TOPIC.match(topic)
    if audit and audit.group(1) in AUDIT_SOURCES:
        return reference_audit(event, audit.group(1), audit.group(2), body, at)
    sources = [(name, match) for name, pattern in TOPICS if (match := pattern.match(topic))]
    if not sources:
        return Parsed(events=[event])
    source_type, match = sources[0]
    try:
        source_id = require_uuid(match.group(1))
    except UsageError:
        return Parsed(fields={f"{at}topicName": ["not a UUID"]})
    found = problems(_validator(source_type), body, normalize=False)
    if not found and body.get("id") is not None and body["id"].lower() != source_id:
        found = {"id": ["not the topic's id"]}
    if found:
        return Parsed(fields={f"{at}eventBody.{key}": value for key, value in found.items()})
    flow = source_type == "flow"
    reason = _unfinished(body) if flow else None
    operation = (body.get("currentOperation") or {}) if flow else {}
    return Parsed(
        events=[
            IncomingEvent(
                dedup_key=event.dedup_key,
                topic=event.topic,
                body=event.body,
                source_type=source_type,
                strategy_id=source_id,
                correlation_id=event.correlation_id,
                eventbridge_id=event.eventbridge_id,
                ignore_reason=reason,
                deletion=(
                    "flow operation DELETE"
                    if reason is None and operation.get("actionName") == FLOW_DELETE
                    else None
                ),
                **({"actor": flow_actor(body)} if flow else {}),
            )
        ]
    )


def reference_audit(
    event: IncomingEvent, entity_type: str, raw_id: str, body: Doc, at: str
) -> Parsed:
    try:
        entity_id = require_uuid(raw_id)
    except UsageError:
        return Parsed(fields={f"{at}topicName": ["not a UUID"]})
    found = problems(_validator("audit"), body, normalize=False)
    entity = body.get("entity") or {}
    if found:
        pass
    elif body.get("entityType") not in (None, entity_type):
        found = {"entityType": ["not the topic's entity type"]}
    elif entity.get("id") is not None and entity["id"].lower() != entity_id:
        found = {"entity.id": ["not the topic's id"]}
    if found:
        return Parsed(fields={f"{at}eventBody.{key}": value for key, value in found.items()})
    action = body["action"]
    changes = action in AUDIT_CHANGES or action == AUDIT_DELETE
    return Parsed(
        events=[
            IncomingEvent(
                dedup_key=event.dedup_key,
                topic=event.topic,
                body=event.body,
                source_type=AUDIT_SOURCES[entity_type],
                strategy_id=entity_id,
                correlation_id=event.correlation_id,
                eventbridge_id=event.eventbridge_id,
                ignore_reason=None if changes else f"audit action {action} is no change",
                deletion="audit action Delete" if action == AUDIT_DELETE else None,
                changed_at=event_time(body),
                actor=audit_actor(body),
            )
        ]
    )


def test_the_reference_reads_the_samples_as_parse_body_does() -> None:
    for name in SAMPLES:
        document = load_sample(name)
        assert reference(document) == parse_body(document)
    assert events.SCHEMAS.keys() == {
        "notification",
        "eventbridge",
        "routing-strategy",
        "flow",
        "audit",
    }
