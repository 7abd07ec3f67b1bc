"""/healthz and /readyz: no auth; readiness means the ledger and archive folder take writes."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from service.app import create_app
from tests.helpers import web_config


def test_healthz_answers_without_auth(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_readyz_is_200_when_ledger_and_folder_are_writable(client: FlaskClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "ready"


def test_readyz_is_503_naming_an_unwritable_archive_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive folder should be")
    client = create_app(web_config(tmp_path, ARCHIVE_DIR=str(blocker))).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert set(answer.get_json()["problems"]) == {"archiveDir"}
