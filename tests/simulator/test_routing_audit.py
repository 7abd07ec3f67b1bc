"""Every routing-configuration change made through ``/_sim/routing`` is audited on
``v2.audits.entitytype.{T}.entityid.{id}``, sent to a real receiver directly or as EventBridge."""

from __future__ import annotations

from typing import Any

import pytest

from service.simulator import SimulatorServer
from service.simulator.config_data import DEMO_QUEUE_ID, config_id
from service.simulator.config_tables import DEMO_TABLE_ID
from service.simulator.receivers import WebhookReceiver
from tests.simulator.conftest import Api

# (sourceType, seed key, a configuration change) for each type.
CHANGES = [
    ("queue", "support", {"acwSettings.timeoutMs": 120_000}),
    ("ivr", "main-number", {"dnis.1": "+18005550124"}),
    ("schedule", "weekday-hours", {"rrule": "FREQ=DAILY"}),
    ("schedule-group", "sales-hours", {"timeZone": "UTC"}),
    ("emergency-group", "storm-closure", {"enabled": True}),
    ("skill-group", "tier-2", {"description": "Level 2"}),
    ("decision-table", "queue-selection", {"description": "By segment"}),
]
# The entityType and serviceName each type's events carry (contract section 12).
ENTITIES = {
    "queue": ("Queue", "Routing"),
    "ivr": ("IVR", "Architect"),
    "schedule": ("Schedule", "Architect"),
    "schedule-group": ("ScheduleGroup", "Architect"),
    "emergency-group": ("EmergencyGroup", "Architect"),
    "skill-group": ("SkillGroup", "Routing"),
    "decision-table": ("DecisionTable", "BusinessRules"),
}


def received(receiver: WebhookReceiver, sim: SimulatorServer) -> list[Any]:
    assert sim.state.wait_notifications(10)
    return [r.json() for r in receiver.received]


def notify(api: Api, receiver: WebhookReceiver, form: str = "direct") -> None:
    body = {"notifyUrl": receiver.url, "notifyTopics": ["object", "audit"], "notifyForm": form}
    assert api.control("POST", "/config", body).status_code == 200


@pytest.mark.parametrize(("source_type", "key", "change"), CHANGES)
def test_each_change_is_audited_for_its_entity_type(
    api: Api,
    simulator: SimulatorServer,
    source_type: str,
    key: str,
    change: dict[str, Any],
) -> None:
    object_id = config_id(source_type, key)
    entity, service = ENTITIES[source_type]
    with WebhookReceiver() as receiver:
        notify(api, receiver)
        route = f"/routing/{source_type}/{object_id}"
        updated = api.control(
            "POST", f"{route}/update", {"changes": change, "user": "Grace Hopper"}
        )
        assert updated.status_code == 200, updated.text
        deleted = api.control("POST", f"{route}/delete", {"user": "Alan Turing"})
        assert deleted.status_code == 200, deleted.text
        events = received(receiver, simulator)
    assert [e["topicName"] for e in events] == [
        f"v2.audits.entitytype.{entity}.entityid.{object_id}"
    ] * 2
    update, delete = (e["eventBody"] for e in events)
    assert (update["action"], delete["action"]) == ("Update", "Delete")
    assert {update["entityType"], delete["entityType"]} == {entity}
    assert {update["serviceName"], delete["serviceName"]} == {service}
    assert update["entity"]["id"] == object_id
    assert update["entity"]["name"] == updated.json()["name"]
    assert (update["username"]["name"], delete["username"]["name"]) == (
        "Grace Hopper",
        "Alan Turing",
    )
    ((path, new),) = change.items()
    (moved,) = update["propertyChanges"]
    assert moved["property"] == path
    assert moved["newValues"] == [str(new).lower() if isinstance(new, bool) else str(new)]
    assert all(isinstance(v, str) for v in moved["oldValues"])


def test_a_volatile_change_is_audited_too(api: Api, simulator: SimulatorServer) -> None:
    with WebhookReceiver() as receiver:
        notify(api, receiver)
        change = {"memberCount": 4}
        route = f"/routing/queue/{DEMO_QUEUE_ID}/volatile"
        assert api.control("POST", route, {"changes": change}).status_code == 200
        (event,) = received(receiver, simulator)
    body = event["eventBody"]
    assert (body["entityType"], body["action"]) == ("Queue", "Update")
    assert body["propertyChanges"] == [
        {"property": "memberCount", "oldValues": ["12"], "newValues": ["4"]}
    ]


def test_publishing_and_drafting_are_audited_as_table_versions_in_eventbridge_form(
    api: Api, simulator: SimulatorServer
) -> None:
    with WebhookReceiver() as receiver:
        notify(api, receiver, "eventbridge")
        table = f"/routing/decision-table/{DEMO_TABLE_ID}"
        assert api.control("POST", f"{table}/publish", {}).status_code == 200
        assert api.control("POST", f"{table}/drafts", {}).status_code == 201
        events = received(receiver, simulator)
    assert {e["detail-type"] for e in events} == {"v2.audits.entitytype.{id}.entityid.{id}"}
    publish, create = (e["detail"]["eventBody"] for e in events)
    assert (publish["action"], create["action"]) == ("Publish", "Create")
    assert {publish["entityType"], create["entityType"]} == {"DecisionTableVersion"}
    # The entity is the table (its id), the selfUri the version's.
    assert publish["entity"]["id"] == create["entity"]["id"] == DEMO_TABLE_ID
    assert publish["entity"]["selfUri"].endswith(f"{DEMO_TABLE_ID}/versions/3")
    assert create["entity"]["selfUri"].endswith(f"{DEMO_TABLE_ID}/versions/4")
    assert publish["propertyChanges"] == [
        {"property": "status", "oldValues": ["Draft"], "newValues": ["Published"]}
    ]


def test_no_audit_is_sent_without_the_audit_topic(api: Api, simulator: SimulatorServer) -> None:
    with WebhookReceiver() as receiver:
        assert api.control("POST", "/config", {"notifyUrl": receiver.url}).status_code == 200
        route = f"/routing/queue/{DEMO_QUEUE_ID}/update"
        assert api.control("POST", route, {"changes": {"name": "Help"}}).status_code == 200
        assert received(receiver, simulator) == []


def test_an_audit_event_alone_for_a_change_made_elsewhere(
    api: Api, simulator: SimulatorServer
) -> None:
    schedule = config_id("schedule", "weekday-hours")
    shift = "0f6c2d4e-8a1b-4c3d-9e5f-7a6b5c4d3e2f"  # a WFM schedule the simulator does not hold
    with WebhookReceiver() as receiver:
        notify(api, receiver)
        for entity_id, service in ((shift, "WorkforceManagement"), (schedule, "Architect")):
            body = {
                "entityType": "Schedule",
                "entityId": entity_id,
                "action": "Update",
                "serviceName": service,
            }
            assert api.control("POST", "/routing/audit", body).status_code == 204
        refused = api.control("POST", "/routing/audit", {"entityType": "Schedule"})
        events = received(receiver, simulator)
    assert refused.status_code == 400 and "entityId" in refused.json()["error"]
    wfm, architect = (e["eventBody"] for e in events)
    assert (wfm["serviceName"], wfm["entity"]) == (
        "WorkforceManagement",
        {"id": shift, "name": shift},
    )
    assert architect["entity"]["name"] == "Weekday hours"
    assert architect["entity"]["selfUri"] == f"/api/v2/architect/schedules/{schedule}"
    assert architect["propertyChanges"] == []
