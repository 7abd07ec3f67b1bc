"""``POST /webhooks/genesys`` through the test client, against a real ledger file."""

from __future__ import annotations

import base64
import copy
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.app import MAX_BODY_BYTES, create_app
from service.ledger import Ledger, deletions
from service.ledger import events as ledger_events
from service.ledger import jobs as ledger_jobs
from tests.inbound.conftest import TOKEN, load_sample

URL = "/webhooks/genesys"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
FLOW_ID = "cb5a24eb-6297-4618-b2ab-a07537bb1476"
STRATEGY_ID = "38426578-d900-459f-a7e7-3260397f7ca3"


def post(
    client: FlaskClient,
    body: Any,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> TestResponse:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(
        URL, data=data, headers=BEARER if headers is None else headers, content_type=content_type
    )


def basic(user: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def assert_nothing_stored(ledger: Ledger) -> None:
    assert ledger_events.list_events(ledger, limit=None) == []
    assert ledger_jobs.list_jobs(ledger, limit=None) == []


def strategy_event(correlation: str, strategy_id: str = STRATEGY_ID) -> dict[str, Any]:
    doc: dict[str, Any] = load_sample("notification-routing-strategy.json")
    doc["topicName"] = f"v2.routing.strategies.{strategy_id}"
    doc["eventBody"]["id"] = strategy_id
    doc["metadata"]["CorrelationId"] = correlation
    return doc


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        BEARER,
        basic("eventbridge", TOKEN),
        basic("", TOKEN),
        {"X-Archiver-Token": TOKEN},
        {"Authorization": "Bearer wrong", "X-Archiver-Token": TOKEN},
    ],
    ids=["bearer", "basic", "basic-no-user", "header", "header-beside-wrong-bearer"],
)
def test_each_way_of_presenting_the_token_is_accepted(
    client: FlaskClient, ledger: Ledger, headers: dict[str, str]
) -> None:
    response = post(client, load_sample("notification-routing-strategy.json"), headers)
    assert response.status_code == 202, response.json
    assert len(ledger_events.list_events(ledger)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
        {"Authorization": f"Token {TOKEN}"},
        basic(TOKEN, "wrong"),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()},
        {"X-Archiver-Token": "wrong"},
        {"X-Archiver-Token": ""},
    ],
    ids=[
        "missing",
        "wrong-bearer",
        "longer-bearer",
        "no-scheme",
        "other-scheme",
        "token-as-user",
        "bad-base64",
        "basic-no-colon",
        "wrong-header",
        "empty-header",
    ],
)
def test_wrong_or_missing_token_is_401_and_stores_nothing(
    client: FlaskClient, ledger: Ledger, headers: dict[str, str]
) -> None:
    response = post(client, load_sample("notification-routing-strategy.json"), headers)
    assert response.status_code == 401
    assert response.json is not None and "INBOUND_TOKEN" in response.json["error"]
    assert TOKEN not in response.get_data(as_text=True)
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert_nothing_stored(ledger)


def test_auth_comes_before_the_body(client: FlaskClient) -> None:
    headers = {"X-Archiver-Token": "wrong"}
    assert post(client, b"not json", headers).status_code == 401
    assert post(client, b"{}", headers, content_type="text/plain").status_code == 401
    assert post(client, b"x" * (MAX_BODY_BYTES + 1), headers).status_code == 401


def test_a_non_ascii_token_is_compared_as_the_bytes_sent(tmp_path: Path) -> None:
    token = "s\u00e9same-ouvre-toi-\u2603"
    app = create_app(
        {
            "ARCHIVER_DB": str(tmp_path / "l.db"),
            "ARCHIVE_DIR": str(tmp_path),
            "INBOUND_TOKEN": token,
        }
    )
    # A WSGI server hands header bytes over decoded as Latin-1; this is what UTF-8 becomes.
    on_the_wire = token.encode().decode("latin-1")
    doc = load_sample("notification-flow.json")
    client = app.test_client()
    assert post(client, doc, {"Authorization": f"Bearer {on_the_wire}"}).status_code == 202
    assert post(client, doc, basic("u", token)).status_code == 202
    assert post(client, doc, {"X-Archiver-Token": "s\u00e9same-ouvre-toi-?"}).status_code == 401


# --- refused bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(client: FlaskClient, ledger: Ledger, content_type: str) -> None:
    response = post(client, load_sample("notification-flow.json"), content_type=content_type)
    assert response.status_code == 415
    assert response.json is not None and "application/json" in response.json["error"]
    assert_nothing_stored(ledger)


def test_content_type_parameters_are_allowed(client: FlaskClient) -> None:
    doc = load_sample("notification-flow.json")
    response = post(client, doc, content_type="Application/JSON; charset=utf-8")
    assert response.status_code == 202


def padded(size: int) -> bytes:
    """A valid notification of exactly ``size`` bytes."""
    doc = load_sample("notification-flow.json")
    doc["eventBody"]["description"] = ""
    room = size - len(json.dumps(doc).encode())
    doc["eventBody"]["description"] = "d" * room
    data = json.dumps(doc).encode()
    assert len(data) == size
    return data


def test_a_body_just_over_1_mib_is_413(client: FlaskClient, ledger: Ledger) -> None:
    response = post(client, padded(MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json is not None and "error" in response.json
    assert_nothing_stored(ledger)


def test_a_body_of_exactly_1_mib_is_accepted(client: FlaskClient, ledger: Ledger) -> None:
    response = post(client, padded(MAX_BODY_BYTES))
    assert response.status_code == 202, response.json
    assert len(ledger_events.list_events(ledger)) == 1


def test_an_oversized_body_without_a_length_is_413(client: FlaskClient, ledger: Ledger) -> None:
    """A chunked upload has no Content-Length: the limit applies while reading."""
    response = client.post(
        URL,
        input_stream=io.BytesIO(padded(MAX_BODY_BYTES + 10)),
        headers={**BEARER, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        # What gunicorn says of a chunked body that it has de-chunked.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert_nothing_stored(ledger)


def test_a_small_chunked_body_is_read(client: FlaskClient, ledger: Ledger) -> None:
    response = client.post(
        URL,
        input_stream=io.BytesIO(padded(4096)),
        headers={**BEARER, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 202, response.json
    assert len(ledger_events.list_events(ledger)) == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b'{"topicName": "x", "eventBody": {}', "not JSON"),
        (b'{"topicName": "x", "eventBody": {"n": NaN}}', "not JSON"),
        (b'{"topicName": "caf\xe9", "eventBody": {}}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
    ],
    ids=["empty", "garbage", "truncated", "nan", "latin-1", "deep"],
)
def test_not_json_is_400(client: FlaskClient, ledger: Ledger, body: bytes, says: str) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json is not None and says in response.json["error"]
    assert set(response.json) == {"error"}
    assert_nothing_stored(ledger)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eventBody": {}}, "topicName"),
        ({"topicName": f"v2.flows.{FLOW_ID}", "eventBody": "flow"}, "eventBody"),
        ({"topicName": "v2.flows.1234", "eventBody": {}}, "topicName"),
        ({"topicName": f"v2.flows.{FLOW_ID}", "eventBody": {"id": STRATEGY_ID}}, "eventBody.id"),
        ({"version": "0", "id": "e-1", "detail-type": "v2.flows.{id}"}, "detail"),
        ([{"id": "e-1", "detail": {"eventBody": {}}}], "0.detail.topicName"),
        ([], "(document)"),
        (42, "(document)"),
    ],
)
def test_wrong_shape_is_422_naming_the_field(
    client: FlaskClient, ledger: Ledger, body: Any, field: str
) -> None:
    response = post(client, body)
    assert response.status_code == 422
    answer = response.json
    assert answer is not None
    assert answer["error"]
    assert field in answer["fields"], answer
    assert all(isinstance(m, str) for m in answer["fields"][field])
    assert_nothing_stored(ledger)


def test_one_bad_item_refuses_the_whole_array(client: FlaskClient, ledger: Ledger) -> None:
    bad = load_sample("eventbridge-flow.json")
    del bad["detail"]
    body = [load_sample("notification-routing-strategy.json"), bad]
    response = post(client, body)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["fields"] == {"1.detail": ["required field"]}
    assert_nothing_stored(ledger)


def test_an_array_over_100_is_422(client: FlaskClient, ledger: Ledger) -> None:
    response = post(client, [strategy_event(f"c-{n}") for n in range(101)])
    assert response.status_code == 422
    assert response.json is not None
    assert "at most 100" in response.json["fields"]["(document)"][0]
    assert_nothing_stored(ledger)


# --- accepted bodies ----------------------------------------------------------------------


def test_a_direct_notification_is_recorded_and_queues_a_job(
    client: FlaskClient, ledger: Ledger
) -> None:
    doc = load_sample("notification-routing-strategy.json")
    response = post(client, doc)
    assert response.status_code == 202
    answer = response.json
    assert answer is not None
    assert {k: answer[k] for k in ("accepted", "duplicates", "ignored")} == {
        "accepted": 1,
        "duplicates": 0,
        "ignored": 0,
    }
    [job] = ledger_jobs.list_jobs(ledger)
    assert answer["jobs"] == [job.id]
    assert (job.strategy_id, job.source_type, str(job.state)) == (
        STRATEGY_ID,
        "routing-strategy",
        "waiting",
    )
    [event] = ledger_events.list_events(ledger)
    assert event["outcome"] == "queued"
    assert event["job_id"] == job.id
    assert event["correlation_id"] == doc["metadata"]["CorrelationId"]
    assert json.loads(event["body"]) == doc


def test_the_eventbridge_sample_is_accepted(client: FlaskClient, ledger: Ledger) -> None:
    response = post(client, load_sample("eventbridge-flow.json"))
    assert response.status_code == 202
    [job] = ledger_jobs.list_jobs(ledger)
    assert response.json == {"accepted": 1, "duplicates": 0, "ignored": 0, "jobs": [job.id]}
    assert (job.strategy_id, job.source_type) == (FLOW_ID, "flow")
    [event] = ledger_events.list_events(ledger)
    assert event["eventbridge_id"] == "be36fed0-9a52-4e8b-9cf4-36660a26802a"
    assert event["dedup_key"] == "eventbridge:be36fed0-9a52-4e8b-9cf4-36660a26802a"


def test_an_array_may_mix_forms(client: FlaskClient, ledger: Ledger) -> None:
    body = [
        load_sample("notification-routing-strategy.json"),
        load_sample("eventbridge-flow.json"),
        {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}},
    ]
    response = post(client, body)
    assert response.status_code == 202
    answer = response.json
    assert answer is not None
    assert (answer["accepted"], answer["duplicates"], answer["ignored"]) == (2, 0, 1)
    jobs = {job.strategy_id: job.id for job in ledger_jobs.list_jobs(ledger)}
    assert answer["jobs"] == [jobs[STRATEGY_ID], jobs[FLOW_ID]]
    assert len(ledger_events.list_events(ledger)) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}},
        {
            "topicName": "v2.users.5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71.presence",
            "version": "2",
            "eventBody": {"presenceDefinition": {"systemPresence": "Available"}},
            "metadata": {"CorrelationId": "c-1"},
        },
    ],
    ids=["heartbeat", "presence"],
)
def test_other_topics_are_counted_as_ignored(
    client: FlaskClient, ledger: Ledger, body: dict[str, Any]
) -> None:
    response = post(client, body)
    assert response.status_code == 202
    assert response.json == {"accepted": 0, "duplicates": 0, "ignored": 1, "jobs": []}
    assert_nothing_stored(ledger)


def test_an_unfinished_flow_operation_is_recorded_and_ignored(
    client: FlaskClient, ledger: Ledger
) -> None:
    doc = load_sample("eventbridge-flow.json")
    doc["detail"]["eventBody"]["currentOperation"].update(actionStatus="STARTED", complete=False)
    response = post(client, doc)
    assert response.status_code == 202
    assert response.json == {"accepted": 0, "duplicates": 0, "ignored": 1, "jobs": []}
    [event] = ledger_events.list_events(ledger)
    assert event["outcome"] == "ignored"
    assert event["reason"] == "flow operation PUBLISH is STARTED"
    assert event["strategy_id"] == FLOW_ID
    assert event["job_id"] is None
    assert ledger_jobs.list_jobs(ledger) == []


@pytest.mark.parametrize(
    "doc", ["notification-routing-strategy.json", "eventbridge-flow.json"], ids=["digest", "id"]
)
def test_the_same_event_again_is_a_duplicate(client: FlaskClient, ledger: Ledger, doc: str) -> None:
    first = post(client, load_sample(doc))
    again = post(client, load_sample(doc))
    assert first.status_code == again.status_code == 202
    assert first.json is not None and first.json["accepted"] == 1
    assert again.json == {"accepted": 0, "duplicates": 1, "ignored": 0, "jobs": []}
    assert len(ledger_events.list_events(ledger)) == 1
    [job] = ledger_jobs.list_jobs(ledger)
    assert job.events == 1


def test_eventbridge_redelivery_is_a_duplicate_even_with_another_detail(
    client: FlaskClient, ledger: Ledger
) -> None:
    doc = load_sample("eventbridge-flow.json")
    post(client, doc)
    doc["detail"]["metadata"]["CorrelationId"] = "another"
    response = post(client, doc)
    assert response.json is not None and response.json["duplicates"] == 1


def test_a_duplicate_within_one_array_counts_once(client: FlaskClient, ledger: Ledger) -> None:
    doc = load_sample("notification-flow.json")
    response = post(client, [doc, copy.deepcopy(doc)])
    assert response.json is not None
    assert (response.json["accepted"], response.json["duplicates"]) == (1, 1)


def test_300_events_for_one_strategy_share_one_waiting_job(app: Flask, ledger: Ledger) -> None:
    """Concurrent deliveries, each on its own connection, all join the one waiting job."""

    def deliver(n: int) -> TestResponse:
        return post(app.test_client(), strategy_event(f"c-{n}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(deliver, range(300)))
    assert {r.status_code for r in responses} == {202}
    job_ids = {tuple(r.json["jobs"]) for r in responses if r.json is not None}
    [job] = ledger_jobs.list_jobs(ledger, limit=None)
    assert job_ids == {(job.id,)}
    assert (str(job.state), job.events) == ("waiting", 300)
    assert len(ledger_events.list_events(ledger, limit=None)) == 300


def test_two_strategies_get_two_jobs(client: FlaskClient, ledger: Ledger) -> None:
    other = "0f8fad5b-d9cb-469f-a165-70867728950e"
    first = post(client, strategy_event("c-1"))
    second = post(client, strategy_event("c-2", other))
    third = post(client, strategy_event("c-3", other))
    assert first.json is not None and second.json is not None and third.json is not None
    assert first.json["jobs"] != second.json["jobs"]
    assert second.json["jobs"] == third.json["jobs"]
    jobs = {job.strategy_id: job.id for job in ledger_jobs.list_jobs(ledger)}
    assert jobs == {STRATEGY_ID: first.json["jobs"][0], other: second.json["jobs"][0]}


def test_an_array_of_100_events_for_one_strategy_names_one_job(
    client: FlaskClient, ledger: Ledger
) -> None:
    response = post(client, [strategy_event(f"c-{n}") for n in range(100)])
    assert response.status_code == 202
    assert response.json is not None
    assert (response.json["accepted"], len(response.json["jobs"])) == (100, 1)
    [job] = ledger_jobs.list_jobs(ledger)
    assert job.events == 100


# --- the audit topic and flow operations ----------------------------------------------


def test_audit_events_queue_delete_and_ignore_with_who_recorded(
    client: FlaskClient, ledger: Ledger
) -> None:
    publish = load_sample("notification-audit-flow.json")
    bridged = load_sample("eventbridge-audit-flow.json")
    delete = copy.deepcopy(publish)
    delete["eventBody"]["action"] = "Delete"
    delete["metadata"]["CorrelationId"] = "delete-1"
    checkout = copy.deepcopy(publish)
    checkout["eventBody"]["action"] = "Checkout"
    checkout["metadata"]["CorrelationId"] = "checkout-1"
    queue = load_sample("notification-audit-queue.json")

    response = post(client, [publish, bridged, delete, checkout, queue])
    assert response.status_code == 202, response.json
    body = response.json
    assert body is not None
    assert (body["accepted"], body["duplicates"], body["ignored"]) == (4, 0, 1)
    job_id, queue_job_id = body["jobs"]  # the queue's audit event starts a queue job
    (queue_job,) = ledger_jobs.list_jobs(ledger, strategy_id=queue["eventBody"]["entity"]["id"])
    assert (queue_job.id, queue_job.source_type) == (queue_job_id, "queue")
    (job,) = ledger_jobs.list_jobs(ledger, strategy_id=FLOW_ID)
    # The Delete after the Publish in the same body ends the job it was waiting in.
    assert (job.id, job.events, job.state) == (job_id, 2, "deleted")
    deletion = deletions.deletion(ledger, FLOW_ID, "flow")
    assert deletion is not None
    assert (deletion.deleted_at, deletion.deleted_by, deletion.reason) == (
        "2026-11-28T07:44:26.907Z",
        "Edsger Dijkstra",
        "audit action Delete",
    )

    events = sorted(
        ledger_events.list_events(ledger, strategy_id=FLOW_ID), key=lambda e: e["outcome"]
    )
    assert [(e["outcome"], e["reason"], e["job_id"]) for e in events] == [
        ("deleted", "audit action Delete", None),
        ("ignored", "audit action Checkout is no change", None),
        ("queued", None, job_id),
        ("queued", None, job_id),
    ]
    assert {(e["user_id"], e["user_name"], e["client_id"]) for e in events} == {
        (
            "7d3b5a6c-2e69-4ca0-9c3e-4b5f6a7b8c93",
            "Edsger Dijkstra",
            "8e4c6b7d-3f7a-4db1-8d4f-5c6a7b8c9da4",
        )
    }
    assert len(ledger_events.list_events(ledger, limit=None)) == 5  # the queue's is stored too

    again = post(client, [publish, bridged])
    assert again.json == {"accepted": 0, "duplicates": 2, "ignored": 0, "jobs": []}


def test_a_flow_validate_is_recorded_with_its_reason_and_starts_nothing(
    client: FlaskClient, ledger: Ledger
) -> None:
    doc = load_sample("notification-flow.json")
    doc["eventBody"]["currentOperation"]["actionName"] = "VALIDATE"
    response = post(client, doc)
    assert response.json == {"accepted": 0, "duplicates": 0, "ignored": 1, "jobs": []}
    (event,) = ledger_events.list_events(ledger)
    assert (event["outcome"], event["reason"]) == (
        "ignored",
        "flow operation VALIDATE starts no job",
    )
    assert (event["user_name"], event["client_name"]) == ("Ada Lovelace", "Architect CI")
    assert ledger_jobs.list_jobs(ledger, limit=None) == []


def test_a_bad_audit_body_is_refused_naming_the_field(client: FlaskClient, ledger: Ledger) -> None:
    doc = load_sample("eventbridge-audit-flow.json")
    doc["detail"]["eventBody"]["username"] = "Edsger"
    response = post(client, doc)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["fields"] == {"detail.eventBody.username": ["must be of dict type"]}
    assert_nothing_stored(ledger)
