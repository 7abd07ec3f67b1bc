"""Paging in both styles, query validation, unknown ids and the seeded data."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import pytest

from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer, SimulatorState
from tests.simulator.conftest import Api


def follow(api: Api, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every page from ``path``, following ``nextUri``; each page's items under ``key``."""
    pages = [api.ok(path, **params)]
    while "nextUri" in pages[-1]:
        assert pages[-1]["nextUri"].startswith(path.split("?")[0] + "?")
        pages.append(api.ok(pages[-1]["nextUri"]))
        assert len(pages) < 50, "paging does not end"
    return pages


def test_strategy_versions_cursor_paging_gives_each_version_once(
    api: Api, simulator: SimulatorServer
) -> None:
    strategy_id = simulator.state.add_strategy("routing-strategy", versions=7)
    path = f"/api/v2/routing/strategies/{strategy_id}/versions"
    pages = follow(api, path, "items", pageSize=3)
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert all("cursor=" in p["nextUri"] and "pageSize=3" in p["nextUri"] for p in pages[:-1])
    versions = [v for p in pages for v in p["items"]]
    assert [v["version"] for v in versions] == [7, 6, 5, 4, 3, 2, 1]
    assert len({v["id"] for v in versions}) == 7
    created = [v["createdDate"] for v in versions]
    assert created == sorted(created, reverse=True)
    assert len(api.ok(path)["items"]) == 7  # default page size 25: one page
    assert "nextUri" not in api.ok(path)


def test_cursor_pages_stay_put_when_versions_are_added_meanwhile(
    api: Api, simulator: SimulatorServer
) -> None:
    path = f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions"
    first = api.ok(path, pageSize=2)
    new = simulator.state.add_versions(DEMO_STRATEGY_ID, 2)
    rest = api.ok(first["nextUri"])
    assert [v["version"] for v in first["items"] + rest["items"]] == [3, 2, 1]
    newest = api.ok(path, pageSize=2)["items"]
    assert [v["id"] for v in newest] == new[::-1]
    assert [v["version"] for v in newest] == [5, 4]


def test_strategy_listing_is_cursor_paged(api: Api, simulator: SimulatorServer) -> None:
    added = simulator.state.add_strategy("routing-strategy", versions=1, name="Night routing")
    pages = follow(api, "/api/v2/routing/strategies", "items", pageSize=2)
    ids = [s["id"] for p in pages for s in p["items"]]
    assert ids == simulator.state.strategy_ids("routing-strategy")
    assert ids[0] == DEMO_STRATEGY_ID and ids[-1] == added
    assert pages[-1]["items"][-1]["name"] == "Night routing"


def test_flow_versions_page_number_paging_gives_each_version_once(
    api: Api, simulator: SimulatorServer
) -> None:
    flow_id = simulator.state.add_strategy("flow", versions=7)
    path = f"/api/v2/flows/{flow_id}/versions"
    pages = follow(api, path, "entities", pageSize=3)
    assert [p["pageNumber"] for p in pages] == [1, 2, 3]
    assert {(p["total"], p["pageCount"], p["pageSize"]) for p in pages} == {(7, 3, 3)}
    ids = [v["id"] for p in pages for v in p["entities"]]
    # Each version once, in no documented order (a shuffle that is the same on every page).
    assert sorted(ids, key=float) == ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0"]
    assert "previousUri" not in pages[0] and "nextUri" not in pages[-1]
    assert pages[1]["previousUri"] == f"{path}?pageSize=3&pageNumber=1"
    assert pages[0]["lastUri"] == f"{path}?pageSize=3&pageNumber=3"

    by_number = [
        v["id"] for n in (1, 2, 3) for v in api.ok(path, pageSize=3, pageNumber=n)["entities"]
    ]
    assert by_number == ids
    assert api.ok(path, pageSize=3, pageNumber=4)["entities"] == []


def test_flow_listing_pages_and_filters_by_type(api: Api, simulator: SimulatorServer) -> None:
    pages = follow(api, "/api/v2/flows", "entities", pageSize=1)
    ids = [f["id"] for p in pages for f in p["entities"]]
    assert sorted(ids) == sorted(simulator.state.strategy_ids("flow")) and len(ids) == 4
    assert ids == sorted(ids)  # sortBy=id, sortOrder=asc by default

    inbound = api.ok("/api/v2/flows", type="inboundcall")
    assert [f["id"] for f in inbound["entities"]] == [DEMO_FLOW_ID]
    assert "type=inboundcall" in inbound["selfUri"]
    two = api.ok("/api/v2/flows", type="inboundcall,bot")
    assert {f["type"] for f in two["entities"]} == {"INBOUNDCALL", "BOT"}
    names = [f["name"] for f in api.ok("/api/v2/flows", sortBy="name")["entities"]]
    assert names == sorted(names, key=str.lower)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/flows",
        f"/api/v2/flows/{DEMO_FLOW_ID}/versions",
        "/api/v2/routing/strategies",
        f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions",
    ],
)
@pytest.mark.parametrize("size", ["101", "0", "ten", "-5"])
def test_bad_page_size_is_refused(api: Api, path: str, size: str) -> None:
    response = api.get(path, pageSize=size)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["status"]) == ("invalid.query.param.value", 400)
    assert body["messageParams"]["field"] == "pageSize"


def test_largest_page_size_and_other_bad_params(api: Api) -> None:
    assert api.get("/api/v2/flows", pageSize="100").status_code == 200
    for params in ({"pageNumber": "0"}, {"type": "INBOUNDCALL"}, {"sortOrder": "sideways"}):
        assert api.get("/api/v2/flows", **params).status_code == 400, params
    versions = f"/api/v2/routing/strategies/{DEMO_STRATEGY_ID}/versions"
    assert api.get(versions, cursor="garbage!").status_code == 400
    other = api.ok("/api/v2/routing/strategies", pageSize=1)["nextUri"].split("cursor=")[1]
    assert api.get(versions, cursor=other).status_code == 400  # a cursor of another listing


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/flows/{missing}",
        "/api/v2/flows/{missing}/versions",
        "/api/v2/flows/{flow}/versions/99.0",
        "/api/v2/flows/{flow}/versions/99.0/configuration",
        "/api/v2/flows/{strategy}",
        "/api/v2/routing/strategies/{missing}",
        "/api/v2/routing/strategies/{flow}/versions",
        "/api/v2/no/such/route",
    ],
)
def test_unknown_ids_answer_404(api: Api, path: str) -> None:
    filled = path.format(missing=uuid.uuid4(), flow=DEMO_FLOW_ID, strategy=DEMO_STRATEGY_ID)
    response = api.get(filled)
    assert response.status_code == 404
    assert response.json()["code"] == "not.found"


def test_seeded_state_is_deterministic_and_recent() -> None:
    one, two = SimulatorState(), SimulatorState()
    for kind in ("flow", "routing-strategy"):
        assert one.strategy_ids(kind) == two.strategy_ids(kind)
        assert 2 <= len(one.strategy_ids(kind)) <= 5
    assert DEMO_FLOW_ID in one.strategy_ids("flow")
    assert DEMO_STRATEGY_ID in one.strategy_ids("routing-strategy")
    flow = one.item("flow", DEMO_FLOW_ID)
    assert flow is not None and flow.name == "Main inbound" and flow.type == "INBOUNDCALL"
    types = {item.type for item in one.items("flow")}
    assert {"INBOUNDCALL", "INQUEUECALL", "BOT"} <= types
    now = time.time() * 1000
    for kind in ("flow", "routing-strategy"):
        for item in one.items(kind):
            assert 2 <= len(item.versions) <= 5
            for version in item.versions:
                assert now - 30 * 86_400_000 < version.created_ms <= now


def test_added_versions_come_first_and_dates_are_well_formed(
    api: Api, simulator: SimulatorServer
) -> None:
    new = simulator.state.add_versions(DEMO_FLOW_ID, 2)
    assert new == ["4.0", "5.0"]
    listed = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}/versions")["entities"]
    versions = sorted(listed, key=lambda v: float(v["id"]), reverse=True)
    assert [v["id"] for v in versions] == ["5.0", "4.0", "3.0", "2.0", "1.0"]
    created = [v["dateCreated"] for v in versions]
    assert created == sorted(created, reverse=True) and len(set(created)) == 5
    newest = versions[0]
    assert newest["type"] == "PUBLISH"
    published = datetime.fromisoformat(newest["datePublished"])
    assert published.timestamp() * 1000 > newest["dateCreated"]
    flow = api.ok(f"/api/v2/flows/{DEMO_FLOW_ID}")
    assert flow["publishedVersion"]["id"] == "5.0"
    assert flow["checkedInVersion"]["id"] == "5.0"


def test_configuration_differs_per_version(api: Api) -> None:
    base = f"/api/v2/flows/{DEMO_FLOW_ID}/versions"
    one = api.ok(f"{base}/1.0/configuration")
    two = api.ok(f"{base}/2.0/configuration")
    assert one["name"] == two["name"] == "Main inbound"
    assert one["type"] == two["type"] == "inboundcall"
    assert one["flowSequenceItemList"] != two["flowSequenceItemList"]
    assert one["manifest"]["queue"] != two["manifest"]["queue"]
    assert api.ok(f"{base}/2.0/configuration") == two  # stable between reads
