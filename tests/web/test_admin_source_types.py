"""Admin archive requests are per (strategy id, source type): a routing-strategy request
never joins a flow job that happens to share the id."""

from __future__ import annotations

from flask.testing import FlaskClient

from service.simulator import DEMO_FLOW_ID
from tests.helpers import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_two_source_types_for_one_id_get_two_jobs(client: FlaskClient) -> None:
    flow = client.post(
        "/archives", json={"strategyId": DEMO_FLOW_ID, "sourceType": "flow"}, headers=AUTH
    )
    routing = client.post(
        "/archives",
        json={"strategyId": DEMO_FLOW_ID, "sourceType": "routing-strategy"},
        headers=AUTH,
    )
    assert flow.status_code == routing.status_code == 202
    assert flow.get_json()["jobId"] != routing.get_json()["jobId"]
    jobs = {
        kind: client.get(f"/jobs/{answer.get_json()['jobId']}", headers=AUTH).get_json()
        for kind, answer in (("flow", flow), ("routing-strategy", routing))
    }
    assert {kind: job["sourceType"] for kind, job in jobs.items()} == {
        "flow": "flow",
        "routing-strategy": "routing-strategy",
    }
    again = client.post(
        "/archives",
        json={"strategyId": DEMO_FLOW_ID, "sourceType": "routing-strategy"},
        headers=AUTH,
    )
    assert again.get_json()["jobId"] == routing.get_json()["jobId"]  # joins its own kind
