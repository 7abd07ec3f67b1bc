"""Admin routes: bearer ADMIN_TOKEN, hidden when unset, thin views over the ledger."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from service.app import create_app
from service.archive import open_archiver
from service.ledger import Ledger, audit
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import ADMIN_TOKEN, make_settings, web_config

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_routes_do_not_exist_without_an_admin_token(tmp_path: Path) -> None:
    config = web_config(tmp_path)
    del config["ADMIN_TOKEN"]
    client = create_app(config).test_client()
    assert client.get("/archives", headers=AUTH).status_code == 404
    assert client.post("/archives", json={}, headers=AUTH).status_code == 404
    assert client.get("/jobs/x", headers=AUTH).status_code == 404


def test_wrong_or_missing_token_is_401(client: FlaskClient) -> None:
    assert client.get("/archives").status_code == 401
    wrong = client.get("/archives", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"].startswith("Authorization: Bearer")


def test_post_archives_queues_one_job_and_audits_it(client: FlaskClient, tmp_path: Path) -> None:
    body = {"strategyId": DEMO_FLOW_ID, "sourceType": "flow"}
    first = client.post("/archives", json=body, headers=AUTH)
    second = client.post("/archives", json=body, headers=AUTH)
    assert first.status_code == second.status_code == 202
    job_id = first.get_json()["jobId"]
    assert second.get_json()["jobId"] == job_id  # joined the waiting job
    job = client.get(f"/jobs/{job_id}", headers=AUTH)
    assert job.status_code == 200
    assert job.get_json()["state"] == "waiting"
    assert job.get_json()["tries"] == 0
    with Ledger(tmp_path / "ledger.db") as ledger:
        actions = [e.action for e in audit.audit_entries(ledger)]
    assert actions.count("admin.archive_requested") == 2


def test_post_archives_names_bad_fields(client: FlaskClient) -> None:
    answer = client.post(
        "/archives", json={"strategyId": "42", "sourceType": "queues"}, headers=AUTH
    )
    assert answer.status_code == 422
    assert set(answer.get_json()["fields"]) == {"strategyId", "sourceType"}


def test_archives_are_listed_newest_first_and_read_with_payload(
    client: FlaskClient, simulator: SimulatorServer, tmp_path: Path
) -> None:
    with open_archiver(make_settings(simulator, tmp_path)) as archiver:
        first = archiver.run(DEMO_STRATEGY_ID, "routing-strategy").archive
        second = archiver.run(DEMO_FLOW_ID, "flow").archive
    assert first is not None and second is not None
    listed = client.get("/archives", headers=AUTH).get_json()["archives"]
    assert [a["archiveId"] for a in listed] == [second.id, first.id]
    only = client.get(f"/archives?strategyId={DEMO_FLOW_ID}&limit=5", headers=AUTH)
    assert [a["archiveId"] for a in only.get_json()["archives"]] == [second.id]
    one = client.get(f"/archives/{first.id}", headers=AUTH).get_json()
    assert one["payload"]["idempotencyKey"] == first.idempotency_key
    assert one["contentSha256"] == first.sha256
    assert client.get("/archives?limit=0", headers=AUTH).status_code == 422
    assert client.get("/archives/unknown", headers=AUTH).status_code == 404
    assert client.get("/jobs/unknown", headers=AUTH).status_code == 404


def test_tampered_document_is_reported_not_served(
    client: FlaskClient, simulator: SimulatorServer, tmp_path: Path
) -> None:
    with open_archiver(make_settings(simulator, tmp_path)) as archiver:
        archive = archiver.run(DEMO_STRATEGY_ID, "routing-strategy").archive
    assert archive is not None
    (tmp_path / "archive" / archive.location).write_text("{}")
    answer = client.get(f"/archives/{archive.id}", headers=AUTH)
    assert answer.status_code == 500
    assert "does not match its recorded SHA-256" in answer.get_json()["error"]
    assert "payload" not in answer.get_json()


def test_one_archive_is_read_by_its_id_or_its_key(
    client: FlaskClient, simulator: SimulatorServer, tmp_path: Path
) -> None:
    """Contract: one archive, one name; the API shows both identifiers, labelled, and takes
    either (the key is the name of the document in ARCHIVE_DIR)."""
    with open_archiver(make_settings(simulator, tmp_path)) as archiver:
        archive = archiver.run(DEMO_FLOW_ID, "flow").archive
    assert archive is not None and archive.id != archive.idempotency_key
    assert archive.location.endswith(f"{archive.idempotency_key}.json")
    answers = [
        client.get(f"/archives/{name}", headers=AUTH)
        for name in (archive.id, archive.idempotency_key, archive.idempotency_key.upper())
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    bodies = [a.get_json() for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert (bodies[0]["archiveId"], bodies[0]["idempotencyKey"]) == (
        archive.id,
        archive.idempotency_key,
    )
    missing = client.get(f"/archives/{DEMO_FLOW_ID}", headers=AUTH)
    assert missing.status_code == 404
    assert missing.get_json()["error"] == f"no archive with id or key {DEMO_FLOW_ID}"
