"""Admin API input: one id check (a whole-value match), any case of ``Bearer``."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.ledger import Ledger, jobs
from service.simulator import DEMO_FLOW_ID
from tests.helpers import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

# ``$`` in a regex also matches before a final newline: each of these once got a job.
NOT_IDS = [
    f"{DEMO_FLOW_ID}\n",
    f"{DEMO_FLOW_ID}\r\n",
    f" {DEMO_FLOW_ID}",
    f"{{{DEMO_FLOW_ID}}}",
    f"urn:uuid:{DEMO_FLOW_ID}",
    DEMO_FLOW_ID.replace("-", ""),
    DEMO_FLOW_ID[:-1] + "\u0661",  # ARABIC-INDIC DIGIT ONE: a digit, not a hex digit
]


@pytest.mark.parametrize("strategy_id", NOT_IDS, ids=repr)
def test_an_id_with_anything_around_it_is_422_and_queues_nothing(
    client: FlaskClient, tmp_path: Path, strategy_id: str
) -> None:
    body = {"strategyId": strategy_id, "sourceType": "flow"}
    answer = client.post("/archives", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.get_json()
    assert list(answer.get_json()["fields"]) == ["strategyId"]
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert jobs.list_jobs(ledger, limit=None) == []
        assert jobs.known_strategies(ledger) == []


def test_an_upper_case_id_is_queued_in_lower_case(client: FlaskClient, tmp_path: Path) -> None:
    body = {"strategyId": DEMO_FLOW_ID.upper(), "sourceType": "flow"}
    answer = client.post("/archives", json=body, headers=AUTH)
    assert answer.status_code == 202
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert jobs.known_strategies(ledger) == [(DEMO_FLOW_ID, "flow")]


@pytest.mark.parametrize("strategy_id", NOT_IDS[:3], ids=repr)
def test_the_listing_filter_uses_the_same_check(client: FlaskClient, strategy_id: str) -> None:
    answer = client.get("/archives", query_string={"strategyId": strategy_id}, headers=AUTH)
    assert answer.status_code == 422
    assert list(answer.get_json()["fields"]) == ["strategyId"]
    fine = client.get("/archives", query_string={"strategyId": DEMO_FLOW_ID}, headers=AUTH)
    assert fine.status_code == 200


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(client: FlaskClient, scheme: str) -> None:
    answer = client.get("/archives", headers={"Authorization": f"{scheme} {ADMIN_TOKEN}"})
    assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize(
    "header",
    [f"Basic {ADMIN_TOKEN}", f"Bearer{ADMIN_TOKEN}", "Bearer", f"Token {ADMIN_TOKEN}", ""],
)
def test_other_schemes_are_still_401(client: FlaskClient, header: str) -> None:
    answer = client.get("/archives", headers={"Authorization": header})
    assert answer.status_code == 401


@pytest.mark.parametrize("body", [b"", b"{not json", b'{"strategyId": NaN}', b"caf\xe9"])
def test_a_body_that_is_not_json_is_400(client: FlaskClient, tmp_path: Path, body: bytes) -> None:
    answer = client.post("/archives", data=body, headers=AUTH, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"].startswith("the body is not")
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert jobs.list_jobs(ledger, limit=None) == []
