"""The simulator's bodies use the wire names, JSON types and enum values of the official SDK.

Flows, errors and notification bodies are checked against PureCloudPlatformClientV2
(``attribute_map`` gives the wire names, ``swagger_types`` the types, each setter's
``allowed_values`` the enum values) and then deserialized by the SDK's own ApiClient, whose
setters turn an enum value they do not know into ``outdated_sdk_version``: none may appear.

The SDK marks no field as required, so ``ALWAYS`` says which fields real answers always
carry, decided from the reference (sections 3, 4, 5 and 8) and its samples: the listing
fields of section 3 ("exactly these"), what the Flow and FlowVersion samples carry whatever
the flow's state, the notification fields the archiver reads. Fields that depend on a state
(``publishedVersion``, ``datePublished``, a user behind an operation) are not in it.
The EventBridge envelope (no SDK model) and the configuration body (a free object in the
SDK) are checked against the reference's field lists. Routing strategies have no SDK
model: they are checked against the contract's field lists.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.data import USERS
from service.simulator.notify import (
    audit_event,
    eventbridge,
    flow_delete_event,
    flow_events,
    flow_version_audit,
)
from service.simulator.state import SimulatorState
from tests.simulator.conftest import Api
from tests.simulator.sdk import deserialize, model
from tests.simulator.sdk_routing import ROUTING_ALWAYS

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOCAL_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")  # no zone
SAMPLES = Path(__file__).resolve().parent / "samples"  # copies of the reference's samples
OUTDATED = "outdated_sdk_version"

# Fields real answers always carry, by SDK model (see the module's docstring).
_LISTING = {"entities", "pageSize", "pageNumber", "total", "pageCount", "firstUri", "selfUri"}
ALWAYS: dict[str, set[str]] = {
    "FlowEntityListing": _LISTING | {"lastUri"},
    "FlowVersionEntityListing": _LISTING | {"lastUri"},
    "Flow": {"id", "name", "division", "type", "active", "system", "deleted", "selfUri"},
    # Also the partial versions a Flow embeds (publishedVersion...): FULL_VERSION adds more.
    "FlowVersion": {"id", "name", "commitVersion", "configurationVersion", "selfUri"},
    "WritableDivision": {"id", "name"},
    "ErrorBody": {"message", "code", "status", "contextId"},
    "ArchitectFlowNotificationFlowNotification": {"id", "name", "deleted", "currentOperation"},
    "ArchitectFlowNotificationArchitectOperation": {"id", "complete", "actionName", "actionStatus"},
    "ArchitectFlowNotificationFlowVersion": {"id"},
    "AuditTopicAuditLogMessage": {
        "id",
        "serviceName",
        "eventTime",
        "action",
        "entityType",
        "entity",
    },
    "AuditTopicDomainEntityRef": {"id"},
    "AuditTopicPropertyChange": {"property", "oldValues", "newValues"},
    **ROUTING_ALWAYS,
}
# A version as listed or read on its own (not the partial one a Flow embeds).
FULL_VERSION = {"type", "secure", "debug", "configurationUri", "dateCreated", "generationId"}

# Notification envelopes (reference section 5): direct, and inside EventBridge's ``detail``.
NOTIFICATION = {"topicName", "version", "eventBody", "metadata"}
EVENTBRIDGE = {
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
}
# The configuration's top level as code in the wild reads it (reference section 4).
CONFIGURATION = {
    "name",
    "type",
    "defaultLanguage",
    "supportedLanguages",
    "initialSequence",
    "variables",
    "flowSequenceItemList",
    "manifest",
    "flowMetaData",
}
FLOW_META = {"flowDocumentVersion", "minimumServerVersion", "ttsDataVersion"}
NOTE_FLOW = "ArchitectFlowNotificationFlowNotification"
NOTE_AUDIT = "AuditTopicAuditLogMessage"


def wire_types(model_name: str) -> dict[str, str]:
    """Wire name → swagger type of an SDK model."""
    instance = model(model_name)
    return {instance.attribute_map[a]: t for a, t in instance.swagger_types.items()}


@cache
def enum_values(model_name: str) -> dict[str, list[str]]:
    """Wire name → the values its SDK setter allows, for the model's enum fields."""
    instance = model(model_name)
    found = {}
    for attribute in instance.swagger_types:
        setter = getattr(type(instance), attribute).fset
        match = re.search(r"allowed_values = (\[.*?\])", inspect.getsource(setter))
        if match:
            found[instance.attribute_map[attribute]] = ast.literal_eval(match.group(1))
    return found


def assert_fits(body: Any, type_name: str, where: str = "$") -> int:
    """Check ``body`` against SDK type ``type_name`` recursively: names, JSON types, the fields
    of ``ALWAYS`` and exact enum values. The number of fields checked."""
    if type_name.startswith("list["):
        assert isinstance(body, list), f"{where}: expected a list"
        inner = type_name[5:-1]
        return sum(assert_fits(v, inner, f"{where}[{i}]") for i, v in enumerate(body))
    if type_name.startswith("dict("):
        assert isinstance(body, dict), f"{where}: expected an object"
        inner = type_name.split(", ", 1)[1][:-1]
        return sum(assert_fits(v, inner, f"{where}.{k}") for k, v in body.items())
    simple: dict[str, type | tuple[type, ...]] = {
        "str": str,
        "bool": bool,
        "float": (int, float),
        "object": object,
    }
    if type_name == "int":
        assert isinstance(body, int) and not isinstance(body, bool), f"{where}: expected int"
        return 1
    if type_name == "datetime":
        assert isinstance(body, str) and ISO_MS.match(body), f"{where}: expected ISO date-time"
        return 1
    if type_name == "LocalDateTime":
        assert isinstance(body, str) and LOCAL_MS.match(body), f"{where}: expected LocalDateTime"
        return 1
    if type_name in simple:
        assert isinstance(body, simple[type_name]), f"{where}: expected {type_name}"
        return 1
    assert isinstance(body, dict), f"{where}: expected a {type_name} object"
    known = wire_types(type_name)
    unknown = sorted(set(body) - set(known))
    assert not unknown, f"{where}: {unknown} are not fields of the SDK's {type_name}"
    missing = sorted(ALWAYS.get(type_name, set()) - set(body))
    assert not missing, f"{where}: {missing} missing, always there in a real {type_name}"
    for name, allowed in enum_values(type_name).items():
        if name in body:
            assert body[name] in allowed, (
                f"{where}.{name}: {body[name]!r} is not a value the SDK's {type_name} knows"
            )
    return 1 + sum(assert_fits(v, known[k], f"{where}.{k}") for k, v in body.items())


def outdated(value: Any, where: str = "$") -> list[str]:
    """Where a deserialized SDK object holds ``outdated_sdk_version`` (an unknown enum)."""
    if isinstance(value, str):  # (SDK models' __eq__ fails against a string)
        return [where] if value == OUTDATED else []
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in outdated(v, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in outdated(v, f"{where}.{k}")]
    if hasattr(value, "swagger_types"):
        return [p for a in value.swagger_types for p in outdated(getattr(value, a), f"{where}.{a}")]
    return []


def assert_sdk(body: Any, type_name: str) -> Any:
    """``assert_fits``, then the SDK's own deserializer: no enum value it does not know."""
    assert_fits(body, type_name)
    parsed = deserialize(body, type_name)
    found = outdated(parsed)
    assert not found, f"{found} became {OUTDATED}: values the SDK's {type_name} does not know"
    return parsed


def assert_notification(notification: Any, body_model: str) -> Any:
    """A Genesys notification envelope around a body of SDK model ``body_model``."""
    assert isinstance(notification, dict), "a notification is a JSON object"
    missing = sorted(NOTIFICATION - set(notification))
    assert not missing, f"notification: {missing} missing"
    assert isinstance(notification["topicName"], str) and notification["version"] == "2"
    metadata = notification["metadata"]
    assert isinstance(metadata, dict) and isinstance(metadata.get("CorrelationId"), str), (
        "notification: metadata.CorrelationId missing"
    )
    return assert_sdk(notification["eventBody"], body_model)


def assert_eventbridge(event: Any, body_model: str, template: str) -> Any:
    """An EventBridge event as an API destination POSTs it (reference section 5)."""
    assert isinstance(event, dict), "an EventBridge event is a JSON object"
    missing = sorted(EVENTBRIDGE - set(event))
    assert not missing, f"EventBridge event: {missing} missing"
    assert event["version"] == "0" and event["resources"] == []
    uuid.UUID(event["id"])
    assert event["detail-type"] == template, "detail-type: the topic template"
    assert event["source"].startswith("aws.partner/genesys.com/cloud/")
    assert re.fullmatch(r"\d{12}", event["account"]), "account: 12 digits"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"]), "time: to the second"
    detail = event["detail"]
    assert isinstance(detail, dict) and ISO_MS.match(detail.get("timestamp", "")), (
        "detail.timestamp: ISO-8601 with milliseconds"
    )
    return assert_notification(detail, body_model)


def assert_configuration(body: Any) -> None:
    """A flow configuration in the shape of reference section 4."""
    assert isinstance(body, dict), "a configuration is a JSON object"
    missing = sorted(CONFIGURATION - set(body))
    assert not missing, f"configuration: {missing} missing"
    flow_types = {t.lower() for t in enum_values("Flow")["type"]}
    assert body["type"] in flow_types, f"type: {body['type']!r} is not a lower-case flow type"
    assert body["defaultLanguage"] in body["supportedLanguages"]
    items = body["flowSequenceItemList"]
    assert isinstance(items, list) and items, "flowSequenceItemList: a non-empty list"
    for item in items:
        assert {"__type", "id", "name", "trackingId"} <= set(item), f"sequence item {item}"
        for action in item.get("actionList", []):
            assert {"__type", "id", "name", "trackingId"} <= set(action), f"action {action}"
    assert body["initialSequence"] in {item["id"] for item in items}, "initialSequence: an item id"
    for variable in body["variables"]:
        assert {"__type", "name"} <= set(variable), f"variable {variable}"
    manifest = body["manifest"]
    assert isinstance(manifest, dict), "manifest: an object"
    for kind, refs in manifest.items():
        assert all(isinstance(r, dict) and "id" in r for r in refs), f"manifest.{kind}"
    meta = body["flowMetaData"]
    assert isinstance(meta, dict) and set(meta) >= FLOW_META, "flowMetaData: its three versions"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


# The checks can fail ---------------------------------------------------------------------


def test_the_checker_refuses_a_wrong_name_and_a_wrong_type() -> None:
    version = sample("flow-version.json")
    assert_sdk(version, "FlowVersion")
    with pytest.raises(AssertionError, match="not fields"):
        assert_fits(version | {"createdDate": 1}, "FlowVersion")
    with pytest.raises(AssertionError, match="expected int"):
        assert_fits(version | {"dateCreated": "2026-01-01T00:00:00.000Z"}, "FlowVersion")
    with pytest.raises(AssertionError, match="ISO"):
        assert_fits(version | {"datePublished": 1_700_000_000_000}, "FlowVersion")


def test_the_checker_refuses_a_missing_field_and_an_unknown_enum_value() -> None:
    flow = sample("flow.json")
    assert_sdk(flow, "Flow")
    with pytest.raises(AssertionError, match=r"\['division'\] missing"):
        assert_sdk({k: v for k, v in flow.items() if k != "division"}, "Flow")
    with pytest.raises(AssertionError, match="'INBOUNDCALLBACK' is not a value"):
        assert_fits(flow | {"type": "INBOUNDCALLBACK"}, "Flow")
    with pytest.raises(AssertionError, match="'inboundcall' is not a value"):
        assert_fits(flow | {"type": "inboundcall"}, "Flow")  # the SDK would take it
    # What the SDK itself makes of a value it does not know:
    assert outdated(deserialize(flow | {"type": "INBOUNDCALLBACK"}, "Flow")) == ["$.type"]
    body = sample("notification-flow.json")["eventBody"]
    operation = body["currentOperation"] | {"actionName": "ARCHIVE"}
    with pytest.raises(AssertionError, match="ARCHIVE"):
        assert_sdk(body | {"currentOperation": operation}, NOTE_FLOW)


def test_the_envelope_and_configuration_checks_refuse_what_is_missing() -> None:
    event = sample("eventbridge-flow.json")
    assert_eventbridge(event, NOTE_FLOW, "v2.flows.{id}")
    for key in ("detail-type", "account", "detail"):
        with pytest.raises(AssertionError, match=f"'{key}'"):
            assert_eventbridge({k: v for k, v in event.items() if k != key}, NOTE_FLOW, "x")
    without_id = {k: v for k, v in event["detail"]["metadata"].items() if k != "CorrelationId"}
    with pytest.raises(AssertionError, match="CorrelationId"):
        assert_notification(event["detail"] | {"metadata": without_id}, NOTE_FLOW)
    # The repository's simplified illustration is not the real configuration's shape.
    with pytest.raises(AssertionError, match="flowSequenceItemList"):
        assert_configuration(sample("flow-version-configuration.json"))


# Simulator answers -----------------------------------------------------------------------


def test_flow_listing_matches_the_sdk(api: Api) -> None:
    body = api.ok("/api/v2/flows", pageSize=1, pageNumber=2)
    listing = assert_sdk(body, "FlowEntityListing")
    assert {"previousUri", "nextUri"} <= set(body)
    flows = body["entities"]
    assert {"division", "checkedInVersion", "publishedVersion", "publishedBy"} <= set(flows[0])

    assert listing.page_number == 2 and listing.total == body["total"]
    assert [f.id for f in listing.entities] == [f["id"] for f in flows]
    first = listing.entities[0]
    assert first.division.name == "Home"
    assert first.checked_in_version.id == flows[0]["checkedInVersion"]["id"]
    assert first.type == flows[0]["type"]


def test_flow_matches_the_sdk(api: Api) -> None:
    body = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}")
    assert assert_fits(body, "Flow") > 30

    flow = assert_sdk(body, "Flow")
    assert (flow.id, flow.name, flow.type) == (DEMO_FLOW_ID, "Main inbound", "INBOUNDCALL")
    assert flow.published_version.configuration_uri.endswith("/configuration")
    assert flow.published_by.name == body["publishedBy"]["name"]


def test_flow_versions_match_the_sdk(api: Api) -> None:
    body = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions")
    assert_sdk(body, "FlowVersionEntityListing")
    assert all(set(v) >= FULL_VERSION for v in body["entities"])
    published = [v for v in body["entities"] if v["type"] == "PUBLISH"]
    assert published and all(isinstance(v["datePublished"], str) for v in published)
    assert all(isinstance(v["dateCreated"], int) for v in body["entities"])

    listing = deserialize(body, "FlowVersionEntityListing")
    version = next(v for v in listing.entities if v.type == "PUBLISH")
    raw = next(v for v in body["entities"] if v["id"] == version.id)
    assert version.date_created == raw["dateCreated"]
    assert version.date_published == datetime.fromisoformat(raw["datePublished"])
    assert version.date_published.tzinfo is not None
    assert version.created_by.name == raw["createdBy"]["name"]
    assert version.created_by_client.name == "Architect CI"


def test_one_flow_version_matches_the_sdk(api: Api) -> None:
    body = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions/2.0")
    version = assert_sdk(body, "FlowVersion")
    assert set(body) >= FULL_VERSION
    assert (version.id, version.commit_version, version.type) == ("2.0", "2.0", "PUBLISH")
    published_ms = version.date_published.timestamp() * 1000
    assert version.date_created < version.date_saved < version.date_checked_in < published_ms


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v2/flows/00000000-0000-4000-8000-000000000000", 404),
        ("/api/v2/flows?pageSize=101", 400),
    ],
)
def test_error_bodies_match_the_sdk(api: Api, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    body = response.json()
    error = assert_sdk(body, "ErrorBody")
    assert error.status == status
    assert error.context_id == response.headers["ININ-Correlation-Id"]
    assert error.code in ("not.found", "invalid.query.param.value")


def test_unauthenticated_and_injected_errors_match_the_sdk(
    api: Api, simulator: SimulatorServer
) -> None:
    response = api.session.get(f"{simulator.url}/api/v2/flows", timeout=5)
    assert response.status_code == 401
    assert_sdk(response.json(), "ErrorBody")
    assert deserialize(response.json(), "ErrorBody").code == "authentication.required"

    simulator.state.inject_fault(429, path="/api/v2/flows", retry_after=3)
    response = api.get("/api/v2/flows")
    assert response.status_code == 429
    assert_sdk(response.json(), "ErrorBody")
    assert deserialize(response.json(), "ErrorBody").code == "too.many.requests"


def test_configuration_has_the_real_shape(api: Api) -> None:
    body = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions/2.0/configuration")
    assert_configuration(body)
    assert (body["name"], body["type"]) == ("Main inbound", "inboundcall")
    queues = {q["id"] for q in body["manifest"]["queue"]}
    transfers = [
        action
        for item in body["flowSequenceItemList"]
        for action in item["actionList"]
        if action["__type"] == "TransferPureMatchAction"
    ]
    assert {a["queues"][0]["config"]["lit"]["val"] for a in transfers} == queues


# Notifications: what the simulator sends, and the reference's samples -------------------


@pytest.fixture
def demo_flow() -> Iterator[tuple[Any, Any]]:
    """The seeded demo flow and its newest version, from a fresh simulator state."""
    state = SimulatorState()
    try:
        item = state.item("flow", DEMO_FLOW_ID)
        assert item is not None
        yield item, item.versions[-1]
    finally:
        state.close()


def test_flow_notifications_match_the_sdk(demo_flow: tuple[Any, Any]) -> None:
    item, version = demo_flow
    sent = [*flow_events(item, version, progress=True), flow_delete_event(item, USERS[1])]
    for notification in sent:
        body = assert_notification(notification, NOTE_FLOW)
        assert body.id == DEMO_FLOW_ID
        assert notification["topicName"] == f"v2.flows.{DEMO_FLOW_ID}"
    statuses = [n["eventBody"]["currentOperation"]["actionStatus"] for n in sent]
    assert statuses == ["STARTED", "PENDING_GENERATION", "SUCCESS", "SUCCESS"]
    assert assert_notification(sample("notification-flow.json"), NOTE_FLOW).current_operation


def test_audit_notifications_match_the_sdk(demo_flow: tuple[Any, Any]) -> None:
    item, version = demo_flow
    sent = [
        flow_version_audit(item, version),
        audit_event(item, "Delete", USERS[0], version.created_ms),
    ]
    for notification in sent:
        body = assert_notification(notification, NOTE_AUDIT)
        assert (body.entity_type, body.entity.id) == ("Flow", DEMO_FLOW_ID)
        assert notification["topicName"] == f"v2.audits.entitytype.Flow.entityid.{DEMO_FLOW_ID}"
    assert [n["eventBody"]["action"] for n in sent] == ["Checkin", "Delete"]
    for name in ("notification-audit-flow.json", "notification-audit-queue.json"):
        assert assert_notification(sample(name), NOTE_AUDIT).user_id


def test_eventbridge_envelopes_carry_every_required_key(demo_flow: tuple[Any, Any]) -> None:
    item, version = demo_flow
    now = datetime(2026, 11, 28, 7, 44, 26, 907000, tzinfo=UTC)
    flow = eventbridge(flow_events(item, version)[-1], now)
    assert_eventbridge(flow, NOTE_FLOW, "v2.flows.{id}")
    audit = eventbridge(flow_version_audit(item, version), now)
    assert_eventbridge(audit, NOTE_AUDIT, "v2.audits.entitytype.{id}.entityid.{id}")
    assert audit["time"] == "2026-11-28T07:44:26Z"
    assert_eventbridge(sample("eventbridge-flow.json"), NOTE_FLOW, "v2.flows.{id}")


# Routing strategies: the contract's section 3 field lists.
STRATEGY_FIELDS = {"id", "name", "type", "version", "createdDate", "modifiedDate"}
VERSION_FIELDS = {"id", "version", "createdDate", "modifiedDate", "createdBy"}


def assert_strategy(doc: dict[str, Any]) -> None:
    assert set(doc) == STRATEGY_FIELDS
    uuid.UUID(doc["id"])
    assert isinstance(doc["name"], str) and isinstance(doc["type"], str)
    assert isinstance(doc["version"], int) and not isinstance(doc["version"], bool)
    assert ISO_MS.match(doc["createdDate"]) and ISO_MS.match(doc["modifiedDate"])


def test_routing_strategies_have_the_contract_fields(api: Api) -> None:
    listing = api.ok("/api/v2/routing/strategies", pageSize=1)
    assert set(listing) == {"items", "nextUri"}
    assert_strategy(listing["items"][0])
    strategy = api.ok(f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}")
    assert_strategy(strategy)
    assert strategy["name"] == "Priority routing"

    page = api.ok(f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions", pageSize=2)
    assert set(page) == {"items", "nextUri"}
    for version in page["items"]:
        assert set(version) == VERSION_FIELDS
        uuid.UUID(version["id"])
        assert isinstance(version["version"], int)
        assert ISO_MS.match(version["createdDate"]) and ISO_MS.match(version["modifiedDate"])
        assert set(version["createdBy"]) == {"id", "name"}
    assert page["items"][0]["version"] == strategy["version"]
    assert page["items"][0]["modifiedDate"] == strategy["modifiedDate"]
    created = datetime.fromisoformat(page["items"][0]["createdDate"])
    assert created.tzinfo == UTC


def test_token_response_has_the_oauth_fields(api: Api) -> None:
    body = api.token().json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert isinstance(body["access_token"], str) and isinstance(body["expires_in"], int)
