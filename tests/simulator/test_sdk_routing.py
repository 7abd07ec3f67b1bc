"""The simulator's routing-configuration bodies use the SDK's wire names, JSON types and enum
values and carry the fields real answers always carry (``sdk_routing.ROUTING_ALWAYS``): every
listing page, every object read on its own, a decision table's versions and rows, and the
audit notifications of each kind of change (the approach of ``test_sdk_fields``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.simulator.config_audit import ENTITY_TYPES, object_audit
from service.simulator.config_data import DEMO_QUEUE_ID
from service.simulator.config_tables import DEMO_TABLE_ID
from service.simulator.data import USERS
from service.simulator.notify import eventbridge
from tests.simulator.conftest import Api
from tests.simulator.test_sdk_fields import (
    NOTE_AUDIT,
    assert_eventbridge,
    assert_notification,
    assert_sdk,
    sample,
)

# sourceType → (listing path, listing model, entry model, model read on its own).
MODELS = {
    "queue": ("/api/v2/routing/queues", "QueueEntityListing", "Queue", "Queue"),
    "ivr": ("/api/v2/architect/ivrs", "IVREntityListing", "IVR", "IVR"),
    "schedule": ("/api/v2/architect/schedules", "ScheduleEntityListing", "Schedule", "Schedule"),
    "schedule-group": (
        "/api/v2/architect/schedulegroups",
        "ScheduleGroupEntityListing",
        "ScheduleGroup",
        "ScheduleGroup",
    ),
    "emergency-group": (
        "/api/v2/architect/emergencygroups",
        "EmergencyGroupListing",
        "EmergencyGroup",
        "EmergencyGroup",
    ),
    "skill-group": (
        "/api/v2/routing/skillgroups",
        "SkillGroupEntityListing",
        "SkillGroupDefinition",
        "SkillGroup",
    ),
    "decision-table": (
        "/api/v2/businessrules/decisiontables",
        "DecisionTableListing",
        "DecisionTable",
        "DecisionTable",
    ),
}
SAMPLES = {
    "queue.json": "Queue",
    "ivr.json": "IVR",
    "schedule.json": "Schedule",
    "schedule-group.json": "ScheduleGroup",
    "emergency-group.json": "EmergencyGroup",
    "decision-table.json": "DecisionTable",
    "decision-table-version.json": "DecisionTableVersion",
}
TABLE = f"/api/v2/businessrules/decisiontables/{DEMO_TABLE_ID}"


@pytest.mark.parametrize(("name", "model_name"), sorted(SAMPLES.items()))
def test_the_reference_samples_pass_the_checks(name: str, model_name: str) -> None:
    assert_sdk(sample(name), model_name)


@pytest.mark.parametrize(
    ("name", "model_name", "damage", "says"),
    [
        ("queue.json", "Queue", ("memberCount", None), "memberCount"),
        ("queue.json", "Queue", ("skillEvaluationMethod", "Best"), "skillEvaluationMethod"),
        ("ivr.json", "IVR", ("state", None), "state"),
        ("schedule.json", "Schedule", ("start", "2026-01-05T08:00:00.000Z"), "LocalDateTime"),
        ("decision-table-version.json", "DecisionTableVersion", ("status", "Live"), "status"),
    ],
)
def test_the_checks_refuse_a_damaged_sample(
    name: str, model_name: str, damage: tuple[str, Any], says: str
) -> None:
    body = copy.deepcopy(sample(name))
    field, value = damage
    if value is None:
        del body[field]
    else:
        body[field] = value
    with pytest.raises(AssertionError, match=says):
        assert_sdk(body, model_name)


@pytest.mark.parametrize("source_type", sorted(MODELS))
def test_listings_and_objects_match_the_sdk(api: Api, source_type: str) -> None:
    path, listing, entry, single = MODELS[source_type]
    body = api.ok(path, pageSize="2")
    assert_sdk(body, listing)
    assert body["entities"], "a seeded listing is not empty"
    for entity in api.ok(path)["entities"]:
        assert_sdk(entity, entry)
        assert_sdk(api.ok(f"{path}/{entity['id']}"), single)


def test_deleted_architect_objects_still_match_the_sdk(api: Api) -> None:
    group = api.ok(MODELS["emergency-group"][0])["entities"][0]["id"]
    assert api.control("POST", f"/routing/emergency-group/{group}/delete").status_code == 200
    listing = api.ok(MODELS["emergency-group"][0])
    assert_sdk(listing, "EmergencyGroupListing")
    assert "deleted" in {e["state"] for e in listing["entities"]}


def test_table_versions_and_rows_match_the_sdk(api: Api) -> None:
    versions = api.ok(f"{TABLE}/versions", pageSize="2")
    assert_sdk(versions, "DecisionTableVersionListing")
    for version in api.ok(f"{TABLE}/versions")["entities"]:
        assert_sdk(version, "DecisionTableVersion")
        rows = api.ok(f"{TABLE}/versions/{version['version']}/rows", pageSize="100")
        assert_sdk(rows, "DecisionTableRowListing")
        assert len(rows["entities"]) == version["rowCount"]
    published = api.control("POST", f"/routing/decision-table/{DEMO_TABLE_ID}/publish")
    assert published.status_code == 200
    assert_sdk(api.ok(f"{TABLE}/versions/3"), "DecisionTableVersion")
    assert_sdk(api.ok(TABLE), "DecisionTable")


@pytest.mark.parametrize("source_type", sorted(MODELS))
def test_audit_notifications_match_the_sdk(api: Api, source_type: str) -> None:
    path = MODELS[source_type][0]
    doc = api.ok(f"{path}/{api.ok(path)['entities'][0]['id']}")
    change = [("description", doc.get("description"), "New"), ("dnis", ["+1"], ["+1", "+2"])]
    for action in ("Update", "Delete"):
        notification = object_audit(source_type, doc, action, USERS[2], 1_764_316_683_114, change)
        body = assert_notification(notification, NOTE_AUDIT)
        assert (body.entity_type, body.action) == (ENTITY_TYPES[source_type][0], action)
        assert_eventbridge(
            eventbridge(notification), NOTE_AUDIT, "v2.audits.entitytype.{id}.entityid.{id}"
        )


def test_the_queue_audit_has_the_sample_shape(api: Api) -> None:
    doc = api.ok(f"/api/v2/routing/queues/{DEMO_QUEUE_ID}")
    made = object_audit("queue", doc, "Update", USERS[1], 1_764_316_683_114, [])
    expected = sample("notification-audit-queue.json")
    assert set(made) == set(expected)
    assert set(made["eventBody"]) - set(expected["eventBody"]) == {"clientId"}
