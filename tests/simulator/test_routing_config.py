"""The routing configuration over real HTTP: listings in both paging styles, GET one, decision
table versions and rows, changes through ``/_sim/routing`` and each deletion style."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from service.simulator.config_data import DEMO_QUEUE_ID
from service.simulator.config_tables import DEMO_TABLE_ID
from tests.simulator.conftest import Api

PAGE_NUMBER = {
    "queue": "/api/v2/routing/queues",
    "ivr": "/api/v2/architect/ivrs",
    "schedule": "/api/v2/architect/schedules",
    "schedule-group": "/api/v2/architect/schedulegroups",
    "emergency-group": "/api/v2/architect/emergencygroups",
}
CURSOR = {
    "skill-group": "/api/v2/routing/skillgroups",
    "decision-table": "/api/v2/businessrules/decisiontables",
}
TABLE = f"/api/v2/businessrules/decisiontables/{DEMO_TABLE_ID}"
RATE_HEADERS = ("inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset")


def page_numbers(api: Api, path: str, size: int) -> tuple[list[dict[str, Any]], int]:
    """Every entity of a page-number listing, following ``nextUri``; and the pages read."""
    entities, pages, uri = [], 0, f"{path}?pageSize={size}"
    while uri:
        body = api.ok(uri)
        pages += 1
        assert body["pageNumber"] == pages and body["pageSize"] == size
        entities += body["entities"]
        uri = body.get("nextUri", "")
    assert len(entities) == body["total"] and pages == body["pageCount"]
    return entities, pages


def cursor_pages(api: Api, path: str, size: int) -> tuple[list[dict[str, Any]], int]:
    """Every entity of an ``after``-cursor listing, following ``nextUri``; and the pages read."""
    entities, pages, uri = [], 0, f"{path}?pageSize={size}"
    while uri:
        body = api.ok(uri)
        assert set(body) <= {"entities", "nextUri", "selfUri", "previousUri"}
        assert ("previousUri" in body) == (pages > 0)
        pages += 1
        entities += body["entities"]
        uri = body.get("nextUri", "")
        if uri:
            assert "after" in parse_qs(urlsplit(uri).query)
    return entities, pages


def ids(api: Api, source_type: str) -> list[str]:
    found: list[str] = api.control("GET", "/routing").json()[source_type]
    return found


@pytest.mark.parametrize("source_type", sorted(PAGE_NUMBER))
def test_page_number_listings_page_and_each_entry_reads_back(api: Api, source_type: str) -> None:
    entities, pages = page_numbers(api, PAGE_NUMBER[source_type], 1)
    assert pages == len(entities) >= 2
    assert sorted(e["id"] for e in entities) == sorted(ids(api, source_type))
    names = [e["name"].lower() for e in entities]
    assert names == sorted(names), "sorted by name"
    answer = api.get(PAGE_NUMBER[source_type])
    assert all(header in answer.headers for header in RATE_HEADERS)
    first = answer.json()
    architect = source_type not in ("queue", "emergency-group")
    assert ("totalNumberOfEntities" in first) == architect
    for entity in entities:
        one = api.get(f"{PAGE_NUMBER[source_type]}/{entity['id']}")
        assert one.status_code == 200 and one.json() == entity
        assert all(header in one.headers for header in RATE_HEADERS)


@pytest.mark.parametrize("source_type", sorted(CURSOR))
def test_cursor_listings_page_with_after(api: Api, source_type: str) -> None:
    entities, pages = cursor_pages(api, CURSOR[source_type], 1)
    assert pages == len(entities) >= 2
    assert [e["id"] for e in entities] == ids(api, source_type)
    one = api.ok(f"{CURSOR[source_type]}/{entities[0]['id']}")
    assert one["id"] == entities[0]["id"]
    if source_type == "skill-group":  # the listing gives SkillGroupDefinition only
        assert "status" not in entities[0] and "skillConditions" not in entities[0]
        assert one["status"] == "Complete" and one["skillConditions"]
    bad = api.get(CURSOR[source_type], after="not-a-cursor")
    assert bad.status_code == 400 and "after" in bad.json()["message"]
    assert all(header in bad.headers for header in RATE_HEADERS)


def test_a_bad_page_size_is_refused(api: Api) -> None:
    answer = api.get(PAGE_NUMBER["queue"], pageSize="101")
    assert answer.status_code == 400 and "pageSize" in answer.json()["message"]


def test_table_versions_page_by_cursor_and_rows_by_page_number(api: Api) -> None:
    versions, pages = cursor_pages(api, f"{TABLE}/versions", 2)
    assert pages == 2
    assert [(v["version"], v["status"]) for v in versions] == [
        (3, "Draft"),
        (2, "Published"),
        (1, "Superseded"),
    ]
    assert all(v["id"] == DEMO_TABLE_ID for v in versions)
    published = api.ok(f"{TABLE}/versions", status="Published,Superseded")["entities"]
    assert [v["version"] for v in published] == [2, 1]
    assert api.ok(f"{TABLE}/versions/2") == versions[1]

    rows, row_pages = page_numbers(api, f"{TABLE}/versions/2/rows", 25)
    assert row_pages == 3 and len(rows) == versions[1]["rowCount"] == 64
    assert [r["rowIndex"] for r in rows] == list(range(1, 65))
    assert {r["table"]["version"] for r in rows} == {2}
    assert api.get(f"{TABLE}/versions/9").status_code == 404
    assert api.get(f"{TABLE}/versions/9/rows").status_code == 404


def test_an_update_moves_the_markers_of_its_type(api: Api) -> None:
    ivr_id = ids(api, "ivr")[0]
    path = f"{PAGE_NUMBER['ivr']}/{ivr_id}"
    before = api.ok(path)
    answer = api.control(
        "POST",
        f"/routing/ivr/{ivr_id}/update",
        {"changes": {"dnis.0": "+13175550111"}, "user": "Grace Hopper"},
    )
    assert answer.status_code == 200, answer.text
    after = api.ok(path)
    assert after == answer.json()
    assert after["dnis"][0] == "+13175550111" and after["version"] == before["version"] + 1
    assert after["dateModified"] > before["dateModified"]
    assert after["modifiedBy"] == "6c2a4f5b-1d58-4b9f-8b2d-3a4e5f6a7b82"

    queue = f"{PAGE_NUMBER['queue']}/{DEMO_QUEUE_ID}"
    old = api.ok(queue)
    change = {"bullseye.rings.0.expansionCriteria.0.threshold": 20.0}
    assert api.control("POST", f"/routing/queue/{DEMO_QUEUE_ID}/update", {"changes": change})
    new = api.ok(queue)
    assert "version" not in new and new["dateModified"] > old["dateModified"]
    assert new["bullseye"]["rings"][0]["expansionCriteria"][0]["threshold"] == 20.0


def test_a_volatile_change_moves_no_marker(api: Api) -> None:
    queue = f"{PAGE_NUMBER['queue']}/{DEMO_QUEUE_ID}"
    old = api.ok(queue)
    change = {"memberCount": 13, "bullseye.rings.1.memberGroups.0.memberCount": 7}
    answer = api.control("POST", f"/routing/queue/{DEMO_QUEUE_ID}/volatile", {"changes": change})
    assert answer.status_code == 200, answer.text
    new = api.ok(queue)
    assert (new["memberCount"], new["bullseye"]["rings"][1]["memberGroups"][0]["memberCount"]) == (
        13,
        7,
    )
    assert new["dateModified"] == old["dateModified"] and new["modifiedBy"] == old["modifiedBy"]


@pytest.mark.parametrize(
    ("route", "body", "says"),
    [
        ("queue/{queue}/volatile", {"changes": {"description": "x"}}, "not a volatile field"),
        ("queue/{queue}/update", {"changes": {"memberCount": 1}}, "volatile"),
        ("queue/{queue}/update", {"changes": {"dateModified": "x"}}, "set by the server"),
        ("queue/{queue}/update", {"changes": {"nope.deeper": 1}}, "nope.deeper"),
        ("queue/{queue}/update", {}, "changes"),
        ("queue/{queue}/update", {"changes": {"name": "x"}, "user": "Nobody"}, "user"),
        ("queue/{queue}/delete", {"answer": "state"}, "no state"),
        ("flow/{queue}/delete", {}, "sourceType"),
        ("decision-table/{table}/drafts", {}, "draft already"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(
    api: Api, route: str, body: dict[str, Any], says: str
) -> None:
    path = route.format(queue=DEMO_QUEUE_ID, table=DEMO_TABLE_ID)
    answer = api.control("POST", f"/routing/{path}", body)
    assert answer.status_code == 400 and says in answer.json()["error"], answer.text
    unknown = f"/routing/queue/{DEMO_TABLE_ID}/update"  # a table's id is no queue's
    answer = api.control("POST", unknown, {"changes": {"name": "x"}})
    assert answer.status_code == 404 and DEMO_TABLE_ID in answer.json()["error"]


def test_publishing_the_draft_supersedes_the_published_version(api: Api) -> None:
    answer = api.control("POST", f"/routing/decision-table/{DEMO_TABLE_ID}/publish", {})
    assert answer.json() == {"version": 3}
    statuses = {v["version"]: v["status"] for v in api.ok(f"{TABLE}/versions")["entities"]}
    assert statuses == {1: "Superseded", 2: "Superseded", 3: "Published"}
    table = api.ok(TABLE)
    assert (table["published"]["version"], table["latestVersionStatus"]) == (3, "Published")
    assert api.ok(f"{TABLE}/versions/3")["datePublished"] == table["datePublished"]
    again = api.control("POST", f"/routing/decision-table/{DEMO_TABLE_ID}/publish", {})
    assert again.status_code == 400 and "no draft" in again.json()["error"]

    made = api.control("POST", f"/routing/decision-table/{DEMO_TABLE_ID}/drafts", {"rows": 30})
    assert made.status_code == 201 and made.json() == {"version": 4}
    draft = api.ok(f"{TABLE}/versions/4")
    assert (draft["status"], draft["rowCount"], "datePublished" in draft) == ("Draft", 30, False)
    assert api.ok(TABLE)["latest"]["version"] == 4


@pytest.mark.parametrize(
    ("source_type", "answer", "status"),
    [
        ("queue", None, 404),
        ("skill-group", None, 404),
        ("decision-table", None, 404),
        ("queue", "410", 410),
        ("ivr", None, 200),
        ("schedule", None, 200),
        ("schedule-group", None, 200),
        ("emergency-group", None, 200),
        ("schedule", "404", 404),
    ],
)
def test_each_deletion_style(api: Api, source_type: str, answer: str | None, status: int) -> None:
    listing = {**PAGE_NUMBER, **CURSOR}[source_type]
    object_id = ids(api, source_type)[-1]
    body = {"answer": answer} if answer else {}
    done = api.control("POST", f"/routing/{source_type}/{object_id}/delete", body)
    assert done.status_code == 200, done.text
    got = api.get(f"{listing}/{object_id}")
    assert got.status_code == status
    listed = [e["id"] for e in api.ok(listing)["entities"]]
    if status == 200:
        assert got.json()["state"] == "deleted"
        # Emergency-group listings keep deleted entries (reference section 8); others drop them.
        assert (object_id in listed) == (source_type == "emergency-group")
    else:
        assert got.json()["code"] == ("not.found" if status == 404 else "resource.deleted")
        assert object_id not in listed
    twice = api.control("POST", f"/routing/{source_type}/{object_id}/delete", {})
    assert twice.status_code == 400 and "deleted" in twice.json()["error"]
    if source_type == "decision-table":
        assert api.get(f"{listing}/{object_id}/versions").status_code == 404
