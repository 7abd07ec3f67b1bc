"""The simulator POSTs a notification for each new version, directly or as EventBridge would."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, request

from service.backoff import Backoff
from service.inbound.events import parse_body
from service.simulator import (
    DEMO_FLOW_ID,
    DEMO_STRATEGY_ID,
    SimulatorServer,
)
from service.simulator.data import FLOW, USERS, build_item
from service.simulator.notify import flow_version_audit
from service.simulator.render import iso
from service.simulator.serving import BackgroundServer
from tests.inbound.conftest import load_sample
from tests.simulator.conftest import Api

TOKEN = "inbound-token-for-tests"
FAST = Backoff((0.01, 0.01))

# Key sets of the reference samples (notification-*.json, eventbridge-flow.json).
NOTIFICATION_KEYS = {"topicName", "version", "eventBody", "metadata"}
FLOW_BODY_KEYS = {
    "id",
    "name",
    "description",
    "deleted",
    "checkedInVersion",
    "savedVersion",
    "publishedVersion",
    "currentOperation",
}
OPERATION_KEYS = {"id", "complete", "user", "client", "actionName", "actionStatus"}
EVENTBRIDGE_KEYS = {
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
ORG_ID = "04c3b4b7-ee7d-4f16-b685-a467bfe60ea8"


@dataclass
class Received:
    headers: dict[str, str]
    body: Any


class Receiver(BackgroundServer):
    """A webhook receiver that keeps what it gets and answers the queued statuses, then 202."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def create_app(self) -> Flask:
        app = Flask(__name__)

        @app.post("/hook")
        def hook() -> tuple[dict[str, Any], int]:
            self.gate.wait(10)
            self.received.append(Received(dict(request.headers), request.get_json()))
            return {}, self.statuses.pop(0) if self.statuses else 202

        return app

    @property
    def hook(self) -> str:
        return f"{self.url}/hook"

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def notify(sim: SimulatorServer, receiver: Receiver, form: str = "direct") -> None:
    sim.state.notify_url = receiver.hook
    sim.state.notify_form = form
    sim.state.notify_token = TOKEN
    sim.state.notify_retry = FAST


def delivered(sim: SimulatorServer) -> None:
    assert sim.state.wait_notifications(10), "notifications still pending after 10 s"


def test_off_by_default(simulator: SimulatorServer, receiver: Receiver) -> None:
    assert simulator.state.notify_url is None
    assert simulator.state.notify_form == "direct"
    simulator.state.add_versions(DEMO_FLOW_ID)
    simulator.state.add_versions(DEMO_STRATEGY_ID)
    delivered(simulator)
    time.sleep(0.1)
    assert simulator.state.notifications == []
    assert receiver.received == []


def test_direct_flow_notification(simulator: SimulatorServer, receiver: Receiver) -> None:
    notify(simulator, receiver)
    assert simulator.state.add_versions(DEMO_FLOW_ID) == ["4.0"]
    delivered(simulator)

    (got,) = receiver.received
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "X-Archiver-Token" not in got.headers
    assert got.headers["Content-Type"] == "application/json"
    body = got.body
    assert set(body) == NOTIFICATION_KEYS
    assert (body["topicName"], body["version"]) == (f"v2.flows.{DEMO_FLOW_ID}", "2")
    event = body["eventBody"]
    assert set(event) == FLOW_BODY_KEYS
    assert (event["id"], event["name"], event["deleted"]) == (DEMO_FLOW_ID, "Main inbound", False)
    versions = [event[k] for k in ("checkedInVersion", "savedVersion", "publishedVersion")]
    assert versions == [{"id": "4.0"}] * 3
    operation = event["currentOperation"]
    assert set(operation) == OPERATION_KEYS
    assert (operation["actionName"], operation["actionStatus"], operation["complete"]) == (
        "PUBLISH",
        "SUCCESS",
        True,
    )
    assert operation["user"]["homeOrg"]["id"] == ORG_ID
    uuid.UUID(operation["id"])
    uuid.UUID(body["metadata"]["CorrelationId"])

    (record,) = simulator.state.notifications
    assert (record.url, record.form, record.topic) == (receiver.hook, "direct", body["topicName"])
    assert (record.status, record.error, record.attempts) == (202, None, 1)


def test_direct_routing_strategy_notifications_each_with_a_fresh_correlation_id(
    simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver)
    simulator.state.add_versions(DEMO_STRATEGY_ID, 2)
    delivered(simulator)

    first, second = receiver.bodies
    topic = f"v2.routing.strategies.{DEMO_STRATEGY_ID}"
    for body, number in ((first, 4), (second, 5)):
        assert set(body) == NOTIFICATION_KEYS
        assert (body["topicName"], body["version"]) == (topic, "2")
        assert body["eventBody"] == {
            "id": DEMO_STRATEGY_ID,
            "name": "Priority routing",
            "version": number,
        }
    assert first["metadata"]["CorrelationId"] != second["metadata"]["CorrelationId"]
    assert [r.status for r in simulator.state.notifications] == [202, 202]


@pytest.mark.parametrize(
    ("strategy_id", "template"),
    [(DEMO_FLOW_ID, "v2.flows.{id}"), (DEMO_STRATEGY_ID, "v2.routing.strategies.{id}")],
)
def test_eventbridge_form(
    simulator: SimulatorServer, receiver: Receiver, strategy_id: str, template: str
) -> None:
    notify(simulator, receiver, "eventbridge")
    simulator.state.add_versions(strategy_id, 2)
    delivered(simulator)

    first, second = receiver.received
    for got in (first, second):
        assert got.headers["X-Archiver-Token"] == TOKEN
        assert "Authorization" not in got.headers
        body = got.body
        assert set(body) == EVENTBRIDGE_KEYS
        assert (body["version"], body["detail-type"]) == ("0", template)
        assert body["source"] == f"aws.partner/genesys.com/cloud/{ORG_ID}/archiver"
        assert re.fullmatch(r"\d{12}", body["account"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["time"])
        assert (body["region"], body["resources"]) == ("us-east-1", [])
        detail = body["detail"]
        assert set(detail) == NOTIFICATION_KEYS | {"timestamp"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", detail["timestamp"])
        assert detail["topicName"] == template.replace("{id}", strategy_id)
        assert detail["eventBody"]["id"] == strategy_id
    assert first.body["id"] != second.body["id"]
    assert uuid.UUID(first.body["id"]).version == 4
    assert [r.form for r in simulator.state.notifications] == ["eventbridge"] * 2


def test_progress_sends_the_unfinished_states_of_a_flow_operation_first(
    simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver)
    simulator.state.notify_progress = True
    simulator.state.add_versions(DEMO_FLOW_ID)
    simulator.state.add_versions(DEMO_STRATEGY_ID)
    delivered(simulator)

    *flow, strategy = receiver.bodies
    operations = [body["eventBody"]["currentOperation"] for body in flow]
    assert [(o["actionStatus"], o["complete"]) for o in operations] == [
        ("STARTED", False),
        ("PENDING_GENERATION", False),
        ("SUCCESS", True),
    ]
    assert len({o["id"] for o in operations}) == 1
    assert len({body["metadata"]["CorrelationId"] for body in flow}) == 3
    # Until the operation succeeds the flow still shows the version before it.
    assert [body["eventBody"]["savedVersion"]["id"] for body in flow] == ["3.0", "3.0", "4.0"]
    assert strategy["topicName"] == f"v2.routing.strategies.{DEMO_STRATEGY_ID}"


def test_configured_and_triggered_over_http(
    api: Api, simulator: SimulatorServer, receiver: Receiver
) -> None:
    settings = {"notifyUrl": receiver.hook, "notifyForm": "eventbridge", "notifyToken": TOKEN}
    response = api.control("POST", "/config", settings)
    assert response.status_code == 200
    assert response.json() == {
        "latency": 0.0,
        "tokenLifetime": 86_400,
        "rateLimitPerMinute": None,
        "notifyUrl": receiver.hook,
        "notifyForm": "eventbridge",
        "notifyToken": True,
        "notifyProgress": False,
    }
    simulator.state.notify_retry = FAST
    flow_id = api.control("POST", "/strategies", {"sourceType": "flow", "versions": 1}).json()["id"]
    assert receiver.received == []  # a new flow is not a new version

    made = api.control("POST", f"/strategies/{flow_id}/versions", {"count": 2})
    assert made.json() == {"versionIds": ["2.0", "3.0"]}
    delivered(simulator)
    saved = [body["detail"]["eventBody"]["savedVersion"]["id"] for body in receiver.bodies]
    assert saved == ["2.0", "3.0"]
    assert {r.headers["X-Archiver-Token"] for r in receiver.received} == {TOKEN}
    listed = api.control("GET", "/notifications").json()
    assert [(n["form"], n["status"], n["attempts"]) for n in listed] == [
        ("eventbridge", 202, 1)
    ] * 2

    for bad in ({"notifyForm": "sns"}, {"notifyUrl": "ftp://x"}, {"notifyProgress": "yes"}):
        assert api.control("POST", "/config", bad).status_code == 400
    assert simulator.state.notify_form == "eventbridge"

    off = api.control("POST", "/config", {"notifyUrl": None}).json()
    assert off["notifyUrl"] is None
    api.control("POST", f"/strategies/{flow_id}/versions", {"count": 1})
    delivered(simulator)
    assert len(receiver.received) == 2


def test_bad_form_is_refused_from_python(simulator: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="direct, eventbridge"):
        simulator.state.notify_form = "webhook"


def test_the_request_that_makes_a_version_does_not_wait_for_the_receiver(
    api: Api, simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver)
    receiver.gate.clear()  # the receiver holds every request until released
    try:
        made = api.control("POST", f"/strategies/{DEMO_STRATEGY_ID}/versions", {"count": 1})
        assert made.status_code == 201
        assert simulator.state.notifications == []
    finally:
        receiver.gate.set()
    delivered(simulator)
    assert [r.status for r in simulator.state.notifications] == [202]


def test_5xx_is_retried_and_4xx_is_not(simulator: SimulatorServer, receiver: Receiver) -> None:
    notify(simulator, receiver)
    receiver.statuses = [503, 500]
    simulator.state.add_versions(DEMO_STRATEGY_ID)
    delivered(simulator)
    first, second, third = receiver.bodies
    assert first == second == third
    (record,) = simulator.state.notifications
    assert (record.status, record.attempts) == (202, 3)

    receiver.statuses = [401]
    simulator.state.add_versions(DEMO_STRATEGY_ID)
    delivered(simulator)
    assert len(receiver.received) == 4
    assert [(r.status, r.attempts) for r in simulator.state.notifications][1] == (401, 1)


def test_an_unreachable_receiver_is_recorded_after_the_retries(
    simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver)
    receiver.stop()  # nothing listens on its port any more
    simulator.state.add_versions(DEMO_FLOW_ID)
    delivered(simulator)
    (record,) = simulator.state.notifications
    assert record.status is None
    assert record.error is not None and "ConnectionError" in record.error
    assert record.attempts == FAST.max_tries == 3


# --- the audit topic ----------------------------------------------------------------------

AUDIT_SAMPLE = load_sample("notification-audit-flow.json")
AUDIT_TEMPLATE = "v2.audits.entitytype.{id}.entityid.{id}"


def audit_topic(flow_id: str) -> str:
    return f"v2.audits.entitytype.Flow.entityid.{flow_id}"


def test_audit_notification_of_a_new_version_has_the_reference_shape(
    simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver)
    simulator.state.notify_topics = ["audit"]
    simulator.state.add_versions(DEMO_FLOW_ID)
    delivered(simulator)

    (got,) = receiver.received
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    body = got.body
    assert set(body) == set(AUDIT_SAMPLE) == NOTIFICATION_KEYS
    assert (body["topicName"], body["version"]) == (audit_topic(DEMO_FLOW_ID), "2")
    event = body["eventBody"]
    assert set(event) == set(AUDIT_SAMPLE["eventBody"])
    for key in ("username", "clientId", "entity"):
        assert set(event[key]) == set(AUDIT_SAMPLE["eventBody"][key]), key
    assert (event["action"], event["entityType"], event["serviceName"]) == (
        "Publish",
        "Flow",
        "Architect",
    )
    assert event["entity"] == {
        "id": DEMO_FLOW_ID,
        "name": "Main inbound",
        "selfUri": f"/api/v2/flows/{DEMO_FLOW_ID}",
    }
    assert event["userId"] == event["username"]["id"]
    assert event["userDisplay"] == event["username"]["name"]
    assert event["userHomeOrgId"] == ORG_ID
    assert event["clientId"]["selfUri"] == f"/api/v2/oauth/clients/{event['clientId']['id']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["eventTime"])
    assert event["propertyChanges"] == [
        {"property": "publishedVersion", "oldValues": ["2.0"], "newValues": ["4.0"]},
        {"property": "checkedInVersion", "oldValues": ["3.0"], "newValues": ["4.0"]},
        {"property": "savedVersion", "oldValues": ["3.0"], "newValues": ["4.0"]},
    ]
    assert event["context"] == {}
    uuid.UUID(event["id"])
    # What the archiver reads of it: a flow change by a named user and client.
    (parsed,) = parse_body(body).events
    assert (parsed.source_type, parsed.strategy_id, parsed.ignore_reason) == (
        "flow",
        DEMO_FLOW_ID,
        None,
    )
    assert parsed.actor.user_name == event["username"]["name"]


def test_each_kind_of_flow_version_is_audited_with_its_action() -> None:
    item = build_item(FLOW, DEMO_FLOW_ID, "Five", "INBOUNDCALL", 5, 1_764_316_800_000)
    kinds = [v.kind for v in item.versions]
    assert kinds == ["PUBLISH", "PUBLISH", "SAVE", "PUBLISH", "CHECKIN"]
    events = [flow_version_audit(item, v)["eventBody"] for v in item.versions]
    assert [e["action"] for e in events] == ["Publish", "Publish", "Save", "Publish", "Checkin"]
    assert [e["propertyChanges"][0]["property"] for e in events] == [
        "publishedVersion",
        "publishedVersion",
        "savedVersion",
        "publishedVersion",
        "checkedInVersion",
    ]
    assert events[0]["propertyChanges"][0] == {
        "property": "publishedVersion",
        "oldValues": [],
        "newValues": ["1.0"],
    }
    assert [e["username"]["name"] for e in events] == [v.author.name for v in item.versions]


def test_both_topics_in_the_eventbridge_form(
    simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver, "eventbridge")
    simulator.state.notify_topics = ["object", "audit"]
    simulator.state.add_versions(DEMO_FLOW_ID)
    simulator.state.add_versions(DEMO_STRATEGY_ID)  # no entity type: its own topic only
    delivered(simulator)

    flow, audit, strategy = receiver.bodies
    assert [b["detail-type"] for b in (flow, audit, strategy)] == [
        "v2.flows.{id}",
        AUDIT_TEMPLATE,
        "v2.routing.strategies.{id}",
    ]
    assert set(audit) == EVENTBRIDGE_KEYS
    assert set(audit["detail"]) == NOTIFICATION_KEYS | {"timestamp"}
    assert audit["detail"]["topicName"] == audit_topic(DEMO_FLOW_ID)
    assert audit["detail"]["eventBody"]["action"] == "Publish"
    assert audit["id"] != flow["id"]
    assert {r.headers["X-Archiver-Token"] for r in receiver.received} == {TOKEN}
    events = parse_body(receiver.bodies).events
    assert [(e.source_type, e.ignore_reason) for e in events] == [
        ("flow", None),
        ("flow", None),
        ("routing-strategy", None),
    ]


def test_a_new_flow_is_audited_as_created_and_a_deleted_one_as_deleted(
    simulator: SimulatorServer, receiver: Receiver
) -> None:
    notify(simulator, receiver)
    simulator.state.notify_topics = ["audit"]
    flow_id = simulator.state.add_strategy(FLOW, versions=2, name="Audited")
    simulator.state.add_strategy("routing-strategy", versions=1)
    deletion = simulator.state.delete_flow(flow_id, by=USERS[2])
    delivered(simulator)

    created, deleted = receiver.bodies
    assert created["topicName"] == deleted["topicName"] == audit_topic(flow_id)
    assert created["eventBody"]["action"] == "Create"
    assert created["eventBody"]["entity"]["name"] == "Audited"
    event = deleted["eventBody"]
    assert (event["action"], event["userId"], event["username"]["name"]) == (
        "Delete",
        USERS[2].id,
        USERS[2].name,
    )
    assert event["eventTime"] == iso(deletion.at_ms)
    parsed = parse_body(receiver.bodies).events
    assert [(e.ignore_reason, e.deletion) for e in parsed] == [
        (None, None),
        (None, "audit action Delete"),
    ]


def test_a_deletion_on_both_topics(simulator: SimulatorServer, receiver: Receiver) -> None:
    notify(simulator, receiver)
    simulator.state.notify_topics = ["audit", "object"]
    simulator.state.delete_flow(DEMO_FLOW_ID)
    delivered(simulator)
    flow, audit = receiver.bodies
    assert flow["eventBody"]["currentOperation"]["actionName"] == "DELETE"
    assert audit["eventBody"]["action"] == "Delete"


def test_notify_topics_over_http(api: Api, simulator: SimulatorServer, receiver: Receiver) -> None:
    settings = {"notifyUrl": receiver.hook, "notifyTopics": ["audit"]}
    shown = api.control("POST", "/config", settings).json()
    assert (shown["notifyTopics"], shown["notifyForm"]) == (["audit"], "direct")
    simulator.state.notify_retry = FAST
    api.control("POST", f"/strategies/{DEMO_FLOW_ID}/versions", {"count": 1})
    delivered(simulator)
    assert [b["topicName"] for b in receiver.bodies] == [audit_topic(DEMO_FLOW_ID)]

    for bad in ({"notifyTopics": []}, {"notifyTopics": "audit"}, {"notifyTopics": ["sns"]}):
        response = api.control("POST", "/config", bad)
        assert response.status_code == 400, bad
        assert "object, audit" in response.text
    assert simulator.state.notify_topics == ("audit",)


def test_bad_topics_are_refused_from_python(simulator: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="non-empty list of object, audit"):
        simulator.state.notify_topics = ["flows"]
    assert simulator.state.notify_topics == ("object",)
