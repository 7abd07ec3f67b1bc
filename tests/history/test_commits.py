"""What each history commit says: path, content, author, date, message, order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from service.history.commits import (
    COMMITTER,
    Person,
    deletion_change,
    parse_trailers,
    person,
    to_seconds,
    version_changes,
)
from service.history.layout import normalise

FLOW_ID = "cb5a24eb-6297-4618-b2ab-a07537bb1476"
STRATEGY_ID = "38426578-d900-459f-a7e7-3260397f7ca3"
KEY = "0f1e2d3c-4b5a-4968-8776-655443322110"
ADA = {"id": "5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71", "name": "Ada Lovelace"}


def flow_archive(*versions: tuple[str, int, str, dict[str, Any] | None]) -> dict[str, Any]:
    """An archive of flow versions (id, number, createdDate, createdBy), newest first."""
    rows, docs = [], []
    for version_id, number, created, by in versions:
        rows.append({"versionId": version_id, "versionNumber": number, "createdDate": created})
        doc: dict[str, Any] = {
            "id": version_id,
            "configuration": {"name": f"Main inbound {number}", "version": version_id},
        }
        if by is not None:
            doc["createdBy"] = by
        docs.append(doc)
    return {
        "strategyId": FLOW_ID,
        "strategyName": "Main inbound",
        "sourceType": "flow",
        "idempotencyKey": KEY,
        "versionMatrix": rows,
        "versions": docs,
    }


def test_a_flow_version_is_its_configuration_under_its_own_name() -> None:
    archive = flow_archive(("2.0", 2, "2026-11-28T07:44:26.999Z", ADA))
    [change] = version_changes(archive)
    assert change.content == normalise(archive["versions"][0]["configuration"])
    assert change.path == f"flow/main-inbound-2--{FLOW_ID}.json"
    assert change.author == Person("Ada Lovelace", f"{ADA['id']}@users.genesys-cloud.invalid")
    assert change.when == int(datetime(2026, 11, 28, 7, 44, 26, tzinfo=UTC).timestamp())
    assert change.version_id == "2.0"
    assert change.archive_key == KEY
    assert change.message == (
        "Main inbound 2: version 2.0\n\n"
        f"Genesys-Source: flow\nGenesys-Id: {FLOW_ID}\nGenesys-Version: 2.0\nArchive-Key: {KEY}\n"
    )


def test_versions_come_oldest_first_by_number_then_date() -> None:
    archive = flow_archive(
        ("10.0", 10, "2026-11-01T00:00:00.000Z", ADA),
        ("9.0", 9, "2026-11-02T00:00:00.000Z", ADA),
        ("3.1", 3, "2026-10-02T00:00:00.000Z", ADA),
        ("3.0", 3, "2026-10-01T00:00:00.000Z", ADA),
    )
    assert [c.version_id for c in version_changes(archive)] == ["3.0", "3.1", "9.0", "10.0"]


def test_a_routing_strategy_version_is_the_version_document_under_the_strategy_name() -> None:
    version = {
        "id": "8a7e1f31-5373-5669-b4f9-6c08338f240a",
        "version": 3,
        "createdDate": "2026-11-28T07:52:11.008Z",
        "createdBy": {"id": "6c2a4f5b-1d58-4b9f-8b2d-3a4e5f6a7b82", "name": "Grace Hopper"},
    }
    archive = {
        "strategyId": STRATEGY_ID,
        "strategyName": "Overflow / After hours",
        "sourceType": "routing-strategy",
        "idempotencyKey": KEY,
        "versionMatrix": [
            {"versionId": version["id"], "versionNumber": 3, "createdDate": version["createdDate"]}
        ],
        "versions": [version],
    }
    [change] = version_changes(archive)
    assert change.content == normalise(version)
    assert json.loads(change.content) == version
    assert change.path == f"routing-strategy/overflow-after-hours--{STRATEGY_ID}.json"
    assert change.message.startswith(f"Overflow / After hours: version {version['id']}\n\n")
    assert change.author.name == "Grace Hopper"


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ({"id": "u-1", "name": "Ada"}, Person("Ada", "u-1@users.genesys-cloud.invalid")),
        ({"id": "u-1"}, Person("u-1", "u-1@users.genesys-cloud.invalid")),
        ({"name": "Ada"}, Person("Ada", "unknown@users.genesys-cloud.invalid")),
        (None, Person("Genesys Cloud", "unknown@users.genesys-cloud.invalid")),
        ({"id": "", "name": "  "}, Person("Genesys Cloud", "unknown@users.genesys-cloud.invalid")),
    ],
)
def test_the_author_falls_back_from_name_to_id_to_genesys(
    by: dict[str, str] | None, expected: Person
) -> None:
    [change] = version_changes(flow_archive(("1.0", 1, "2026-11-01T00:00:00.000Z", by)))
    assert change.author == expected


def test_an_identity_git_cannot_hold_is_cleaned() -> None:
    who = person("Eve <evil>\nX", "a b<c>")
    assert "<" not in who.name and "\n" not in who.name
    assert who.email == "a-b-c@users.genesys-cloud.invalid"


def test_a_deletion_has_its_own_message_author_and_date() -> None:
    when = datetime(2026, 12, 1, 10, 30, 15, 987000, tzinfo=UTC)
    change = deletion_change("flow", FLOW_ID, "Main inbound", when, "Grace Hopper", "u-2")
    assert change.content is None and change.version_id is None
    assert change.message == (
        f"Main inbound: deleted\n\nGenesys-Source: flow\nGenesys-Id: {FLOW_ID}\n"
    )
    assert change.author == Person("Grace Hopper", "u-2@users.genesys-cloud.invalid")
    assert change.when == int(when.replace(microsecond=0).timestamp())
    unknown = deletion_change("flow", FLOW_ID, None, "2026-12-01T10:30:15Z", None, None)
    assert unknown.author == Person("Genesys Cloud", "unknown@users.genesys-cloud.invalid")
    assert unknown.message.startswith(f"{FLOW_ID}: deleted\n\n")


def test_dates_are_utc_seconds_truncated() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert to_seconds("1970-01-01T00:00:01.999Z") == 1
    assert to_seconds(datetime(1970, 1, 1, 2, 0, 5, 500000, tzinfo=plus_two)) == 5
    with pytest.raises(ValueError, match="no time zone"):
        to_seconds("2026-12-01T10:30:15")
    with pytest.raises(ValueError, match="not ISO-8601"):
        to_seconds("yesterday")


def test_a_malformed_archive_names_the_field() -> None:
    archive = flow_archive(("1.0", 1, "2026-11-01T00:00:00.000Z", ADA))
    with pytest.raises(ValueError, match="'sourceType'"):
        version_changes({**archive, "sourceType": None})
    with pytest.raises(ValueError, match=r"versions\[0\].*no versionMatrix row"):
        version_changes({**archive, "versionMatrix": []})


def test_trailers_are_read_back_from_the_last_paragraph() -> None:
    [change] = version_changes(flow_archive(("1.0", 1, "2026-11-01T00:00:00.000Z", ADA)))
    assert parse_trailers(change.message) == {
        "Genesys-Source": "flow",
        "Genesys-Id": FLOW_ID,
        "Genesys-Version": "1.0",
        "Archive-Key": KEY,
    }
    assert parse_trailers("just a subject\n") == {}
    assert parse_trailers("subject\n\nnot a trailer line\n") == {}


def test_a_name_on_several_lines_makes_a_one_line_subject() -> None:
    archive = flow_archive(("1.0", 1, "2026-11-01T00:00:00.000Z", ADA))
    archive["versions"][0]["configuration"]["name"] = "Main\ninbound"
    [change] = version_changes(archive)
    assert change.message.splitlines()[0] == "Main inbound: version 1.0"


def test_the_committer_is_fixed() -> None:
    assert COMMITTER.ident() == b"genesys-strategy-archiver <archiver@genesys-cloud.invalid>"


def test_a_snapshot_names_who_made_the_change_not_who_created_the_object() -> None:
    queue_id = "8a0b7d1e-51a4-4a3c-9e53-6f1c0e2d3b4a"
    archive = {
        "strategyId": queue_id,
        "strategyName": "Support",
        "sourceType": "queue",
        "idempotencyKey": KEY,
        "versionMatrix": [
            {
                "versionId": "2",
                "versionNumber": 2,
                "createdDate": "2026-11-02T10:00:00.000Z",
                "metadataTags": {"originalAuthor": "Grace Hopper"},
            }
        ],
        "versions": [
            {"id": queue_id, "name": "Support", "createdBy": "creator-1", "modifiedBy": "mod-7"}
        ],
    }
    [change] = version_changes(archive)
    assert change.author == Person("Grace Hopper", "mod-7@users.genesys-cloud.invalid")
    archive["versionMatrix"][0]["metadataTags"]["originalAuthor"] = "unknown"
    archive["versions"][0].pop("modifiedBy")
    [change] = version_changes(archive)
    assert change.author == Person("Genesys Cloud", "unknown@users.genesys-cloud.invalid")
