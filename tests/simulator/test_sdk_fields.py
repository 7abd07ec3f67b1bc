"""The simulator's bodies use the wire names and JSON types of the official SDK's models.

Flows and errors are checked against PureCloudPlatformClientV2 (``attribute_map`` gives the
wire names, ``swagger_types`` the types) and then deserialized by the SDK's own ApiClient.
Routing strategies have no SDK model: they are checked against the contract's field lists.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from tests.simulator.conftest import Api
from tests.simulator.sdk import deserialize, model

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def wire_types(model_name: str) -> dict[str, str]:
    """Wire name → swagger type of an SDK model."""
    instance = model(model_name)
    return {instance.attribute_map[a]: t for a, t in instance.swagger_types.items()}


def assert_fits(body: Any, type_name: str, where: str = "$") -> int:
    """Check ``body`` against SDK type ``type_name`` recursively; the number of fields checked."""
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
    if type_name in simple:
        assert isinstance(body, simple[type_name]), f"{where}: expected {type_name}"
        return 1
    assert isinstance(body, dict), f"{where}: expected a {type_name} object"
    known = wire_types(type_name)
    unknown = sorted(set(body) - set(known))
    assert not unknown, f"{where}: {unknown} are not fields of the SDK's {type_name}"
    return 1 + sum(assert_fits(v, known[k], f"{where}.{k}") for k, v in body.items())


def test_the_checker_refuses_a_wrong_name_and_a_wrong_type() -> None:
    with pytest.raises(AssertionError, match="not fields"):
        assert_fits({"id": "1.0", "createdDate": 1}, "FlowVersion")
    with pytest.raises(AssertionError, match="expected int"):
        assert_fits({"id": "1.0", "dateCreated": "2026-01-01T00:00:00.000Z"}, "FlowVersion")
    with pytest.raises(AssertionError, match="ISO"):
        assert_fits({"datePublished": 1_700_000_000_000}, "FlowVersion")


def test_flow_listing_matches_the_sdk(api: Api) -> None:
    body = api.ok("/api/v2/flows", pageSize=1, pageNumber=2)
    assert_fits(body, "FlowEntityListing")
    assert {"previousUri", "nextUri"} <= set(body)
    flows = body["entities"]
    assert {"division", "checkedInVersion", "publishedVersion", "publishedBy"} <= set(flows[0])

    listing = deserialize(body, "FlowEntityListing")
    assert listing.page_number == 2 and listing.total == body["total"]
    assert [f.id for f in listing.entities] == [f["id"] for f in flows]
    first = listing.entities[0]
    assert first.division.name == "Home"
    assert first.checked_in_version.id == flows[0]["checkedInVersion"]["id"]
    assert first.type == flows[0]["type"]


def test_flow_matches_the_sdk(api: Api) -> None:
    body = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}")
    assert assert_fits(body, "Flow") > 30

    flow = deserialize(body, "Flow")
    assert (flow.id, flow.name, flow.type) == (DEMO_FLOW_ID, "Main inbound", "INBOUNDCALL")
    assert flow.published_version.configuration_uri.endswith("/configuration")
    assert flow.published_by.name == body["publishedBy"]["name"]


def test_flow_versions_match_the_sdk(api: Api) -> None:
    body = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions")
    assert_fits(body, "FlowVersionEntityListing")
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
    assert_fits(body, "FlowVersion")
    version = deserialize(body, "FlowVersion")
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
    assert_fits(body, "ErrorBody")
    error = deserialize(body, "ErrorBody")
    assert error.status == status
    assert error.context_id == response.headers["ININ-Correlation-Id"]
    assert error.code in ("not.found", "invalid.query.param.value")


def test_unauthenticated_and_injected_errors_match_the_sdk(
    api: Api, simulator: SimulatorServer
) -> None:
    response = api.session.get(f"{simulator.url}/api/v2/flows", timeout=5)
    assert response.status_code == 401
    assert_fits(response.json(), "ErrorBody")
    assert deserialize(response.json(), "ErrorBody").code == "authentication.required"

    simulator.state.inject_fault(429, path="/api/v2/flows", retry_after=3)
    response = api.get("/api/v2/flows")
    assert response.status_code == 429
    assert_fits(response.json(), "ErrorBody")
    assert deserialize(response.json(), "ErrorBody").code == "too.many.requests"


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
