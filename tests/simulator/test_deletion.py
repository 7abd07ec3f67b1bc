"""Deletable flows: ``DELETE /api/v2/flows/{id}``, then 410 for the flow, 404 under it, hidden
from listings unless ``deleted=true``, and a ``DELETE`` notification when notifying."""

from __future__ import annotations

import json

from service.simulator import DEMO_FLOW_ID, SimulatorServer
from service.simulator.receivers import WebhookReceiver
from tests.simulator.conftest import Api


def delete(api: Api, flow_id: str) -> int:
    token = api.access_token or api.login()
    response = api.session.delete(
        f"{api.sim.url}/api/v2/flows/{flow_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    return response.status_code


def listed_ids(api: Api, **params: str) -> list[str]:
    return [f["id"] for f in api.ok("/api/v2/flows", pageSize="100", **params)["entities"]]


def test_a_deleted_flow_answers_410_its_versions_404_and_listings_hide_it(api: Api) -> None:
    version = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions")["entities"][0]["id"]
    assert delete(api, DEMO_FLOW_ID) == 204

    gone = api.get(f"/api/v2/flows/{DEMO_FLOW_ID}")
    assert (gone.status_code, gone.json()["code"]) == (410, "architect.flow.deleted")
    for path in ("/versions", f"/versions/{version}", f"/versions/{version}/configuration"):
        answer = api.get(f"/api/v2/flows/{DEMO_FLOW_ID}{path}")
        assert (answer.status_code, answer.json()["code"]) == (404, "not.found"), path
    assert DEMO_FLOW_ID not in listed_ids(api)

    # deleted=true reads it, flagged, and lists it.
    assert api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}", deleted="true")["deleted"] is True
    assert api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions", deleted="true")["total"] >= 1
    assert DEMO_FLOW_ID in listed_ids(api, deleted="true")
    flagged = {f["id"]: f["deleted"] for f in api.ok("/api/v2/flows", deleted="true")["entities"]}
    assert flagged[DEMO_FLOW_ID] is True and list(flagged.values()).count(True) == 1

    assert delete(api, DEMO_FLOW_ID) == 410
    assert delete(api, "00000000-0000-4000-8000-000000000000") == 404


def test_a_deletion_is_notified_as_a_successful_delete(simulator: SimulatorServer) -> None:
    with WebhookReceiver() as receiver:
        simulator.state.notify_url = receiver.url
        deletion = simulator.state.delete_flow(DEMO_FLOW_ID)
        assert simulator.state.wait_notifications(10)
    bodies = [json.loads(r.body) for r in receiver.received]
    deletes = [b for b in bodies if b.get("topicName") == f"v2.flows.{DEMO_FLOW_ID}"]
    (event,) = deletes
    body = event["eventBody"]
    assert body["deleted"] is True
    operation = body["currentOperation"]
    assert (operation["actionName"], operation["actionStatus"], operation["complete"]) == (
        "DELETE",
        "SUCCESS",
        True,
    )
    assert operation["user"]["name"] == deletion.by.name
