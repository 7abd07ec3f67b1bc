"""Audit events of every routing-configuration entity type (contract sections 4 and 12):
a change starts a job for that object, ``Delete`` deletes it, in both forms; a
WorkforceManagement schedule and a disabled source's events start nothing."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.ledger import Ledger, deletions
from service.ledger import events as ledger_events
from service.ledger import jobs as ledger_jobs
from tests.helpers import web_config
from tests.inbound.conftest import TOKEN, load_sample

URL = "/webhooks/genesys"
BEARER = {"Authorization": f"Bearer {TOKEN}"}

# entityType, serviceName, the source type its events are about.
ENTITY_TYPES = [
    ("Queue", "Routing", "queue"),
    ("IVR", "Architect", "ivr"),
    ("Schedule", "Architect", "schedule"),
    ("ScheduleGroup", "Architect", "schedule-group"),
    ("EmergencyGroup", "Architect", "emergency-group"),
    ("SkillGroup", "Routing", "skill-group"),
    ("DecisionTable", "BusinessRules", "decision-table"),
    ("DecisionTableVersion", "BusinessRules", "decision-table"),
]


def audit(entity_type: str, service: str, entity_id: str, action: str) -> dict[str, Any]:
    """The recorded queue audit notification, made about another entity."""
    doc: dict[str, Any] = load_sample("notification-audit-queue.json")
    doc["topicName"] = f"v2.audits.entitytype.{entity_type}.entityid.{entity_id}"
    body = doc["eventBody"]
    body.update(entityType=entity_type, serviceName=service, action=action)
    body["id"] = str(uuid.uuid4())
    body["entity"] = {"id": entity_id, "name": f"The {entity_type}"}
    doc["metadata"]["CorrelationId"] = str(uuid.uuid4())
    return doc


def bridged(notification: dict[str, Any]) -> dict[str, Any]:
    """The same notification as EventBridge delivers it (``detail``)."""
    doc: dict[str, Any] = load_sample("eventbridge-audit-flow.json")
    doc["id"] = str(uuid.uuid4())
    doc["detail"] = copy.deepcopy(notification) | {"timestamp": doc["detail"]["timestamp"]}
    return doc


def post(client: FlaskClient, body: Any) -> dict[str, Any]:
    response = client.post(URL, json=body, headers=BEARER)
    assert response.status_code == 202, response.json
    answer: dict[str, Any] = response.json or {}
    return answer


@pytest.mark.parametrize(("entity_type", "service", "source_type"), ENTITY_TYPES)
@pytest.mark.parametrize("form", ["direct", "eventbridge"])
def test_a_change_starts_a_job_and_a_delete_deletes(
    client: FlaskClient,
    ledger: Ledger,
    entity_type: str,
    service: str,
    source_type: str,
    form: str,
) -> None:
    wrap = bridged if form == "eventbridge" else (lambda doc: doc)
    changed, gone = str(uuid.uuid4()), str(uuid.uuid4())

    answer = post(client, [wrap(audit(entity_type, service, changed, "Update"))])
    (job_id,) = answer["jobs"]
    assert (answer["accepted"], answer["ignored"]) == (1, 0)
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=changed)
    assert (job.id, job.source_type, job.state) == (job_id, source_type, "waiting")

    post(client, [wrap(audit(entity_type, service, gone, "Publish"))])
    answer = post(client, [wrap(audit(entity_type, service, gone, "Delete"))])
    assert (answer["accepted"], answer["ignored"], answer["jobs"]) == (1, 0, [])
    deletion = deletions.deletion(ledger, gone, source_type)
    assert deletion is not None
    assert (deletion.deleted_by, deletion.reason) == ("Grace Hopper", "audit action Delete")
    assert deletions.deletion(ledger, changed, source_type) is None

    answer = post(client, [wrap(audit(entity_type, service, changed, "Checkout"))])
    assert (answer["accepted"], answer["ignored"]) == (0, 1)
    outcomes = [e["outcome"] for e in ledger_events.list_events(ledger, strategy_id=changed)]
    assert sorted(outcomes) == ["ignored", "queued"]


def test_a_workforce_management_schedule_starts_nothing(
    client: FlaskClient, ledger: Ledger
) -> None:
    wfm = str(uuid.uuid4())
    notifications = [audit("Schedule", "WorkforceManagement", wfm, "Update")]
    notifications.append(bridged(audit("Schedule", "WorkforceManagement", wfm, "Delete")))
    answer = post(client, notifications)
    assert answer == {"accepted": 0, "duplicates": 0, "ignored": 2, "jobs": []}
    assert ledger_jobs.list_jobs(ledger, limit=None) == []
    assert deletions.deletion(ledger, wfm, "schedule") is None


def test_a_version_event_names_the_table(client: FlaskClient, ledger: Ledger) -> None:
    table_id = str(uuid.uuid4())
    post(client, [audit("DecisionTable", "BusinessRules", table_id, "Update")])
    answer = post(client, [audit("DecisionTableVersion", "BusinessRules", table_id, "Publish")])
    assert answer["accepted"] == 1
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=table_id)
    assert (job.source_type, job.events) == ("decision-table", 2)


def test_a_disabled_sources_events_are_recorded_and_ignored(tmp_path: Path) -> None:
    app = create_app(web_config(tmp_path, SOURCES="flow,queue"))
    client = app.test_client()
    table_id, queue_id = str(uuid.uuid4()), str(uuid.uuid4())
    answer = post(
        client,
        [
            audit("DecisionTableVersion", "BusinessRules", table_id, "Publish"),
            bridged(audit("IVR", "Architect", str(uuid.uuid4()), "Delete")),
            audit("Queue", "Routing", queue_id, "Update"),
        ],
    )
    assert (answer["accepted"], answer["ignored"], len(answer["jobs"])) == (1, 2, 1)
    with Ledger(tmp_path / "ledger.db") as ledger:
        (job,) = ledger_jobs.list_jobs(ledger, limit=None)
        assert (job.strategy_id, job.source_type) == (queue_id, "queue")
        events = ledger_events.list_events(ledger, limit=None)
        ignored = [e for e in events if e["outcome"] == "ignored"]
        assert {e["source_type"] for e in ignored} == {"decision-table", "ivr"}
