"""Bodies to events: the three forms, topics, flow operations, dedup keys, and refusals."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from service.inbound.events import MAX_ITEMS, parse_body
from service.ledger import IncomingEvent
from service.ledger.events import Actor
from tests.inbound.conftest import load_sample

FLOW_ID = "cb5a24eb-6297-4618-b2ab-a07537bb1476"
STRATEGY_ID = "38426578-d900-459f-a7e7-3260397f7ca3"


def one(document: Any) -> IncomingEvent:
    parsed = parse_body(document)
    assert parsed.fields == {}
    assert len(parsed.events) == 1
    return parsed.events[0]


def refused(document: Any) -> dict[str, list[str]]:
    parsed = parse_body(document)
    assert parsed.events == []
    assert parsed.fields
    return parsed.fields


def notification(topic: str, body: dict[str, Any], correlation: str = "c-1") -> dict[str, Any]:
    return {
        "topicName": topic,
        "version": "2",
        "eventBody": body,
        "metadata": {"CorrelationId": correlation},
    }


def test_routing_strategy_notification() -> None:
    doc = load_sample("notification-routing-strategy.json")
    event = one(doc)
    canonical = json.dumps(doc["eventBody"], sort_keys=True, separators=(",", ":"))
    text = f"{doc['topicName']}\n{doc['metadata']['CorrelationId']}\n{canonical}"
    assert event.dedup_key == "notification:" + hashlib.sha256(text.encode()).hexdigest()
    assert event.source_type == "routing-strategy"
    assert event.strategy_id == STRATEGY_ID
    assert event.topic == doc["topicName"]
    assert event.correlation_id == "0eda49b0-5d3a-42c8-9775-2e4b8396b663"
    assert event.eventbridge_id is None
    assert event.ignore_reason is None
    assert event.body == json.dumps(doc, separators=(",", ":"))


def test_flow_notification_with_a_finished_operation_is_archivable() -> None:
    event = one(load_sample("notification-flow.json"))
    assert (event.source_type, event.strategy_id, event.ignore_reason) == ("flow", FLOW_ID, None)


def test_eventbridge_event_is_keyed_by_its_id() -> None:
    doc = load_sample("eventbridge-flow.json")
    event = one(doc)
    assert event.dedup_key == "eventbridge:be36fed0-9a52-4e8b-9cf4-36660a26802a"
    assert event.eventbridge_id == "be36fed0-9a52-4e8b-9cf4-36660a26802a"
    assert event.topic == f"v2.flows.{FLOW_ID}"
    assert event.correlation_id == "7376b7df-8e2c-4c3b-95d1-e321e9f8179f"
    assert (event.source_type, event.strategy_id, event.ignore_reason) == ("flow", FLOW_ID, None)
    assert json.loads(event.body) == doc


def test_the_form_is_told_by_detail_type_too() -> None:
    fields = refused({"detail-type": "v2.flows.{id}", "topicName": "v2.flows.x"})
    assert fields == {"detail": ["required field"], "id": ["required field"]}


@pytest.mark.parametrize(
    ("operation", "reason"),
    [
        ({"actionName": "PUBLISH", "actionStatus": "STARTED", "complete": False}, "is STARTED"),
        ({"actionName": "CHECKIN", "actionStatus": "FAILURE", "complete": True}, "is FAILURE"),
        ({"actionName": "SAVE", "actionStatus": "SUCCESS", "complete": False}, "not complete"),
        ({"actionName": "SAVE", "actionStatus": "SUCCESS"}, "not complete"),
        ({"actionName": "PUBLISH"}, "without a status"),
    ],
)
def test_unfinished_flow_operations_are_recorded_and_ignored(
    operation: dict[str, Any], reason: str
) -> None:
    doc = load_sample("notification-flow.json")
    doc["eventBody"]["currentOperation"] = operation
    event = one(doc)
    assert event.source_type == "flow"
    assert event.strategy_id == FLOW_ID
    assert event.ignore_reason is not None
    assert event.ignore_reason.startswith(f"flow operation {operation['actionName']} ")
    assert event.ignore_reason.endswith(reason)


def test_the_exact_reason_of_a_started_publish() -> None:
    doc = load_sample("notification-flow.json")
    doc["eventBody"]["currentOperation"].update(actionStatus="STARTED", complete=False)
    assert one(doc).ignore_reason == "flow operation PUBLISH is STARTED"


@pytest.mark.parametrize("operation", ["absent", None])
def test_flow_event_without_an_operation_is_archivable(operation: Any) -> None:
    body: dict[str, Any] = {"id": FLOW_ID, "name": "Main inbound"}
    if operation != "absent":
        body["currentOperation"] = operation
    event = one(notification(f"v2.flows.{FLOW_ID}", body))
    assert (event.source_type, event.ignore_reason) == ("flow", None)


@pytest.mark.parametrize(
    "topic",
    [
        "channel.metadata",
        "v2.users.5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71.presence",
        f"v2.flows.outcomes.{FLOW_ID}",
        f"v2.routing.strategies.{STRATEGY_ID}.extra",
    ],
)
def test_other_topics_have_no_source(topic: str) -> None:
    event = one({"topicName": topic, "eventBody": {"message": "WebSocket Heartbeat"}})
    assert event.source_type is None
    assert event.strategy_id is None


def test_topic_ids_are_made_canonical() -> None:
    event = one(notification(f"v2.flows.{FLOW_ID.upper()}", {"id": FLOW_ID.upper()}))
    assert event.strategy_id == FLOW_ID


def test_dedup_key_ignores_key_order_but_not_correlation_or_content() -> None:
    topic = f"v2.flows.{FLOW_ID}"
    first = one(notification(topic, {"id": FLOW_ID, "name": "a"}))
    reordered = one(notification(topic, {"name": "a", "id": FLOW_ID}))
    other_correlation = one(notification(topic, {"id": FLOW_ID, "name": "a"}, "c-2"))
    other_content = one(notification(topic, {"id": FLOW_ID, "name": "b"}))
    assert first.dedup_key == reordered.dedup_key
    assert first.dedup_key.startswith("notification:")
    assert len({first.dedup_key, other_correlation.dedup_key, other_content.dedup_key}) == 3


def test_missing_metadata_still_gives_a_key() -> None:
    event = one({"topicName": f"v2.flows.{FLOW_ID}", "eventBody": {"id": FLOW_ID}})
    assert event.correlation_id is None
    assert event.dedup_key.startswith("notification:")


def test_an_array_mixes_forms_in_order() -> None:
    docs = [
        load_sample("notification-routing-strategy.json"),
        load_sample("eventbridge-flow.json"),
        {"topicName": "channel.metadata", "eventBody": {}},
    ]
    parsed = parse_body(docs)
    assert parsed.fields == {}
    assert [e.source_type for e in parsed.events] == ["routing-strategy", "flow", None]


def test_an_array_of_the_maximum_size_is_read() -> None:
    doc = load_sample("notification-flow.json")
    items = []
    for n in range(MAX_ITEMS):
        item = copy.deepcopy(doc)
        item["metadata"]["CorrelationId"] = f"c-{n}"
        items.append(item)
    assert len(parse_body(items).events) == MAX_ITEMS


@pytest.mark.parametrize(
    ("document", "field", "says"),
    [
        ({"eventBody": {}}, "topicName", "required field"),
        ({"topicName": "", "eventBody": {}}, "topicName", "empty"),
        ({"topicName": 7, "eventBody": {}}, "topicName", "string"),
        ({"topicName": "channel.metadata"}, "eventBody", "required field"),
        ({"topicName": "channel.metadata", "eventBody": []}, "eventBody", "dict"),
        (
            {"topicName": "x", "eventBody": {}, "metadata": {"CorrelationId": 5}},
            "metadata.CorrelationId",
            "string",
        ),
        ({"topicName": "x", "eventBody": {}, "metadata": "c"}, "metadata", "dict"),
        ({"topicName": "v2.flows.not-a-uuid", "eventBody": {}}, "topicName", "must be a UUID"),
        ({"topicName": "v2.flows.{id}", "eventBody": {}}, "topicName", "must be a UUID"),
        ({"topicName": f"v2.flows.{FLOW_ID}\n", "eventBody": {}}, "topicName", "must be a UUID"),
        (
            {"topicName": f"v2.routing.strategies.{STRATEGY_ID}\n", "eventBody": {}},
            "topicName",
            "must be a UUID",
        ),
        (
            {"topicName": f"v2.routing.strategies.{STRATEGY_ID}", "eventBody": {"id": FLOW_ID}},
            "eventBody.id",
            f"must be the id in topicName ({STRATEGY_ID})",
        ),
        (
            {"topicName": f"v2.flows.{FLOW_ID}", "eventBody": {"id": 12}},
            "eventBody.id",
            "string",
        ),
        (
            {"topicName": f"v2.flows.{FLOW_ID}", "eventBody": {"currentOperation": "PUBLISH"}},
            "eventBody.currentOperation",
            "dict",
        ),
        (
            {
                "topicName": f"v2.flows.{FLOW_ID}",
                "eventBody": {"currentOperation": {"complete": "yes"}},
            },
            "eventBody.currentOperation.complete",
            "boolean",
        ),
        (
            {"topicName": "x", "eventBody": {}, "metadata": {"CorrelationId": "a\ud800"}},
            "metadata.CorrelationId",
            "surrogate",
        ),
        ({"version": "0", "id": "e-1", "detail-type": "v2.flows.{id}"}, "detail", "required"),
        ({"detail": {"topicName": "x", "eventBody": {}}}, "id", "required field"),
        ({"id": "e-1", "detail": "x"}, "detail", "dict"),
        ({"id": "e-1", "detail": {"eventBody": {}}}, "detail.topicName", "required field"),
        (
            {"id": "e-1", "detail": {"topicName": "v2.flows.1234", "eventBody": {}}},
            "detail.topicName",
            "must be a UUID",
        ),
        (
            {
                "id": "e-1",
                "detail": {"topicName": f"v2.flows.{FLOW_ID}", "eventBody": {"id": STRATEGY_ID}},
            },
            "detail.eventBody.id",
            "must be the id in topicName",
        ),
        ("a string", "(document)", "must be a JSON object, not a string"),
        (None, "(document)", "not null"),
        ([], "(document)", "at least one event"),
    ],
)
def test_wrong_shapes_name_the_field(document: Any, field: str, says: str) -> None:
    fields = refused(document)
    assert field in fields, fields
    assert any(says in message for message in fields[field]), fields[field]


def test_array_paths_carry_the_index_and_refuse_everything() -> None:
    good = load_sample("notification-routing-strategy.json")
    bad_bridge = load_sample("eventbridge-flow.json")
    del bad_bridge["detail"]["topicName"]
    fields = refused([good, bad_bridge, 3, {"topicName": "x", "eventBody": None}])
    assert fields == {
        "1.detail.topicName": ["required field"],
        "2": ["must be a JSON object, not a number"],
        "3.eventBody": ["null value not allowed"],
    }


def test_an_array_over_the_maximum_is_refused() -> None:
    doc = load_sample("notification-flow.json")
    fields = refused([doc] * (MAX_ITEMS + 1))
    assert fields == {"(document)": [f"must hold at most {MAX_ITEMS} events, not {MAX_ITEMS + 1}"]}


# The audit topic (contract, section 4) and what a flow operation starts (section 3).

AUDIT_TOPIC = f"v2.audits.entitytype.Flow.entityid.{FLOW_ID}"
DIJKSTRA = "7d3b5a6c-2e69-4ca0-9c3e-4b5f6a7b8c93"
CLIENT = "8e4c6b7d-3f7a-4db1-8d4f-5c6a7b8c9da4"


def audit(action: str = "Publish", **body: Any) -> dict[str, Any]:
    doc = load_sample("notification-audit-flow.json")
    doc["eventBody"]["action"] = action
    doc["eventBody"].update(body)
    return dict(doc)


def test_a_flow_publish_on_the_audit_topic_starts_a_job_and_names_who() -> None:
    doc = load_sample("notification-audit-flow.json")
    event = one(doc)
    assert (event.source_type, event.strategy_id) == ("flow", FLOW_ID)
    assert (event.ignore_reason, event.deletion) == (None, None)
    assert event.topic == AUDIT_TOPIC
    assert event.correlation_id == "619d2743-122c-4e35-a9a6-dfdeb7baad0e"
    assert event.dedup_key.startswith("notification:")
    assert event.actor == Actor(DIJKSTRA, "Edsger Dijkstra", CLIENT, None)
    assert json.loads(event.body) == doc


def test_an_audit_event_through_eventbridge() -> None:
    doc = load_sample("eventbridge-audit-flow.json")
    event = one(doc)
    assert event.dedup_key == "eventbridge:6a7c2b1e-8d94-4f0b-b3a5-91c2e4d7f6a8"
    assert (event.topic, event.source_type, event.strategy_id) == (AUDIT_TOPIC, "flow", FLOW_ID)
    assert (event.ignore_reason, event.deletion) == (None, None)
    assert event.actor.user_name == "Edsger Dijkstra"
    assert event.actor.client_id == CLIENT


@pytest.mark.parametrize(
    "action", ["Create", "Update", "Checkin", "Publish", "Save", "Revert", "Rollback"]
)
def test_each_audit_change_action_starts_a_job(action: str) -> None:
    event = one(audit(action))
    assert (event.source_type, event.strategy_id, event.ignore_reason) == ("flow", FLOW_ID, None)
    assert event.deletion is None


def test_an_audit_delete_deletes() -> None:
    event = one(audit("Delete"))
    assert (event.source_type, event.strategy_id) == ("flow", FLOW_ID)
    assert (event.ignore_reason, event.deletion) == (None, "audit action Delete")
    assert event.changed_at == "2026-11-28T07:44:26.907Z"
    assert event.actor.user_id == DIJKSTRA


@pytest.mark.parametrize(
    "action", ["Checkout", "View", "Deactivate", "Unpublish", "SoftDelete", "publish", "Debug"]
)
def test_other_audit_actions_are_recorded_and_ignored(action: str) -> None:
    event = one(audit(action))
    assert (event.source_type, event.strategy_id) == ("flow", FLOW_ID)
    assert event.ignore_reason == f"audit action {action} is no change"
    assert event.deletion is None


@pytest.mark.parametrize(
    "topic",
    [
        "v2.audits.entitytype.RoutingSkill.entityid.9ae9fd08-34ea-4c25-bda3-96059df275d6",
        f"v2.audits.entitytype.flow.entityid.{FLOW_ID}",
        f"v2.audits.entitytype.DecisionTableRow.entityid.{FLOW_ID}",
        "v2.audits.entitytype.ComposerScript.entityid.not-even-a-uuid",
        f"v2.audits.entitytype.Flow.entityid.{FLOW_ID}.extra",
    ],
)
def test_audit_events_of_other_entity_types_have_no_source(topic: str) -> None:
    # Not read at all: even a body that would be refused for a flow is only counted.
    event = one({"topicName": topic, "eventBody": {"action": 5, "entity": "x"}})
    assert (event.source_type, event.strategy_id) == (None, None)


def test_the_queue_sample_is_a_queue_change() -> None:
    doc = load_sample("notification-audit-queue.json")
    event = one(doc)
    assert (event.source_type, event.strategy_id) == ("queue", doc["eventBody"]["entity"]["id"])
    assert (event.ignore_reason, event.deletion) == (None, None)


def test_the_actor_falls_back_to_user_display_and_may_be_absent() -> None:
    doc = audit(userDisplay="Ed D.")
    doc["eventBody"]["username"] = None
    doc["eventBody"]["userId"] = ""
    del doc["eventBody"]["clientId"]
    assert one(doc).actor == Actor(None, "Ed D.", None, None)
    bare = {"topicName": AUDIT_TOPIC, "eventBody": {"action": "Save"}}
    assert one(bare).actor == Actor()


def test_audit_entity_ids_are_made_canonical() -> None:
    doc = audit(entity={"id": FLOW_ID.upper()})
    doc["topicName"] = f"v2.audits.entitytype.Flow.entityid.{FLOW_ID.upper()}"
    assert one(doc).strategy_id == FLOW_ID


def test_an_array_mixes_audit_forms_and_topics() -> None:
    docs = [
        load_sample("notification-audit-flow.json"),
        load_sample("eventbridge-audit-flow.json"),
        load_sample("notification-audit-queue.json"),
        audit("Delete", id="another-audit-message"),
        load_sample("eventbridge-flow.json"),
    ]
    parsed = parse_body(docs)
    assert parsed.fields == {}
    assert [(e.source_type, e.deletion) for e in parsed.events] == [
        ("flow", None),
        ("flow", None),
        ("queue", None),
        ("flow", "audit action Delete"),
        ("flow", None),
    ]


@pytest.mark.parametrize(
    ("document", "field", "says"),
    [
        (audit(action=None), "eventBody.action", "null value not allowed"),
        ({"topicName": AUDIT_TOPIC, "eventBody": {}}, "eventBody.action", "required field"),
        (audit(action=""), "eventBody.action", "empty"),
        (audit(action=7), "eventBody.action", "string"),
        (audit(action="Pub\udc00lish"), "eventBody.action", "surrogate"),
        (
            audit(entityType="Queue"),
            "eventBody.entityType",
            "must be the entity type in topicName (Flow)",
        ),
        (
            audit(entity={"id": STRATEGY_ID}),
            "eventBody.entity.id",
            f"must be the id in topicName ({FLOW_ID})",
        ),
        (audit(entity="flow"), "eventBody.entity", "dict"),
        (audit(entity={"id": 3}), "eventBody.entity.id", "string"),
        (audit(username="Ada"), "eventBody.username", "dict"),
        (audit(username={"name": ["Ada"]}), "eventBody.username.name", "string"),
        (audit(username={"name": "A\ud800"}), "eventBody.username.name", "surrogate"),
        (audit(clientId="8e4c6b7d"), "eventBody.clientId", "dict"),
        (audit(clientId={"id": 8}), "eventBody.clientId.id", "string"),
        (audit(userId=42), "eventBody.userId", "string"),
        (
            {"topicName": "v2.audits.entitytype.Flow.entityid.not-a-uuid", "eventBody": {}},
            "topicName",
            "the Flow id in the topic must be a UUID, got 'not-a-uuid'",
        ),
        (
            {"topicName": "v2.audits.entitytype.Flow.entityid.{id}", "eventBody": {}},
            "topicName",
            "must be a UUID",
        ),
        (
            {
                "id": "e-1",
                "detail": {"topicName": AUDIT_TOPIC, "eventBody": {"action": ["Publish"]}},
            },
            "detail.eventBody.action",
            "string",
        ),
        (
            {
                "topicName": f"v2.flows.{FLOW_ID}",
                "eventBody": {"currentOperation": {"user": {"name": 5}}},
            },
            "eventBody.currentOperation.user.name",
            "string",
        ),
        (
            {
                "topicName": f"v2.flows.{FLOW_ID}",
                "eventBody": {"currentOperation": {"client": "CI"}},
            },
            "eventBody.currentOperation.client",
            "dict",
        ),
        (
            {
                "topicName": f"v2.flows.{FLOW_ID}",
                "eventBody": {"currentOperation": {"actionName": "SAVE\ud800"}},
            },
            "eventBody.currentOperation.actionName",
            "surrogate",
        ),
    ],
)
def test_wrong_audit_and_actor_shapes_name_the_field(document: Any, field: str, says: str) -> None:
    fields = refused(document)
    assert field in fields, fields
    assert any(says in message for message in fields[field]), fields[field]


def test_a_bad_audit_item_refuses_the_whole_array() -> None:
    fields = refused([load_sample("eventbridge-audit-flow.json"), audit(action=None)])
    assert fields == {"1.eventBody.action": ["null value not allowed"]}


def flow_operation(action: str, status: str = "SUCCESS", complete: bool = True) -> dict[str, Any]:
    doc = load_sample("notification-flow.json")
    doc["eventBody"]["currentOperation"].update(
        actionName=action, actionStatus=status, complete=complete
    )
    return dict(doc)


@pytest.mark.parametrize("action", ["CREATE", "CHECKIN", "PUBLISH", "SAVE", "REVERT"])
def test_flow_operations_that_make_versions_start_a_job(action: str) -> None:
    event = one(flow_operation(action))
    assert (event.source_type, event.ignore_reason, event.deletion) == ("flow", None, None)


@pytest.mark.parametrize(
    "action",
    ["VALIDATE", "HISTORY", "DEBUG", "CHECKOUT", "STATE_CHANGE", "UPDATE", "DEACTIVATE", "NEW"],
)
def test_other_flow_operations_are_recorded_and_ignored(action: str) -> None:
    event = one(flow_operation(action))
    assert (event.source_type, event.strategy_id) == ("flow", FLOW_ID)
    assert event.ignore_reason == f"flow operation {action} starts no job"
    assert event.deletion is None


def test_a_finished_flow_operation_without_a_name_starts_nothing() -> None:
    doc = load_sample("notification-flow.json")
    del doc["eventBody"]["currentOperation"]["actionName"]
    assert one(doc).ignore_reason == "flow operation (unnamed) starts no job"


def test_a_successful_flow_delete_deletes_and_an_unfinished_one_does_not() -> None:
    done = one(flow_operation("DELETE"))
    assert (done.source_type, done.ignore_reason) == ("flow", None)
    assert (done.deletion, done.changed_at) == ("flow operation DELETE", None)
    started = one(flow_operation("DELETE", "STARTED", False))
    assert (started.ignore_reason, started.deletion) == ("flow operation DELETE is STARTED", None)


def test_a_flow_operation_names_its_user_and_client() -> None:
    event = one(load_sample("notification-flow.json"))
    assert event.actor == Actor(
        "5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71", "Ada Lovelace", CLIENT, "Architect CI"
    )
    assert one(notification(f"v2.flows.{FLOW_ID}", {"id": FLOW_ID})).actor == Actor()


@pytest.mark.parametrize(
    ("value", "recorded"),
    [
        ("2026-11-28T09:44:26.5+02:00", "2026-11-28T07:44:26.500Z"),
        ("2026-11-28T07:44:26Z", "2026-11-28T07:44:26.000Z"),
        ("yesterday", None),
        (1764315866907, None),
        (None, None),
    ],
)
def test_the_time_of_an_audit_change_is_read_when_it_can_be(
    value: Any, recorded: str | None
) -> None:
    # Only a deletion's date uses it: an unreadable time never refuses the event.
    event = one(audit("Delete", eventTime=value))
    assert (event.deletion, event.changed_at) == ("audit action Delete", recorded)
