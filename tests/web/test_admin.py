"""Admin routes: bearer ADMIN_TOKEN, hidden when unset, thin views over the ledger."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from service.app import create_app
from service.archive import open_archiver
from service.ledger import Ledger
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
        actions = [e.action for e in ledger.audit_entries()]
    assert actions.count("admin.archive_requested") == 2


def test_post_archives_names_bad_fields(client: FlaskClient) -> None:
    answer = client.post(
        "/archives", json={"strategyId": "42", "sourceType": "queue"}, headers=AUTH
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
