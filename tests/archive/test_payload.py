"""The archive payload: matrix, retention, key and validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from service.archive.payload import Retention, build_payload, encode, select_versions
from service.errors import ValidationFailed
from service.genesys.sources import Strategy, Version
from service.ids import idempotency_key

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
STRATEGY = Strategy("cb5a24eb-6297-4618-b2ab-a07537bb1476", "Main inbound", "flow")


def version(number: int, days_ago: float, author: str | None = "Ada Lovelace") -> Version:
    created = NOW - timedelta(days=days_ago)
    return Version(
        version_id=f"{number}.0",
        number=number,
        created=created,
        modified=created + timedelta(minutes=2),
        author=author,
        document={"id": f"{number}.0", "dateCreated": int(created.timestamp() * 1000)},
    )


def test_matrix_rows_carry_iso_dates_and_tags() -> None:
    payload = build_payload(
        STRATEGY, [version(2, 1), version(3, 0.5)], retention=Retention(), total_versions=3, now=NOW
    )
    assert payload["archiveTimestamp"] == "2026-11-28T07:00:00.000Z"
    first = payload["versionMatrix"][0]
    assert first == {
        "versionId": "3.0",
        "versionNumber": 3,
        "createdDate": "2026-11-27T19:00:00.000Z",
        "modifiedDate": "2026-11-27T19:02:00.000Z",
        "metadataTags": {
            "archivedBy": "genesys-strategy-archiver",
            "sourceSystem": "genesys-cloud",
            "originalAuthor": "Ada Lovelace",
        },
    }
    assert [d["id"] for d in payload["versions"]] == ["3.0", "2.0"]
    assert payload["retentionPolicy"] == {"maxVersions": 3, "retentionDays": 365}


def test_key_depends_only_on_source_strategy_and_versions() -> None:
    one = build_payload(
        STRATEGY, [version(1, 3), version(2, 2)], retention=Retention(), total_versions=2, now=NOW
    )
    later = build_payload(
        STRATEGY,
        [version(2, 2), version(1, 3)],
        retention=Retention(),
        total_versions=2,
        now=NOW + timedelta(hours=5),
    )
    assert one["idempotencyKey"] == later["idempotencyKey"]
    assert one["idempotencyKey"] == idempotency_key("flow", STRATEGY.id, ["2.0", "1.0"])
    other = idempotency_key("routing-strategy", STRATEGY.id, ["2.0", "1.0"])
    assert other != one["idempotencyKey"]
    assert idempotency_key("flow", STRATEGY.id, ["1.0"]) != one["idempotencyKey"]


def test_retention_drops_old_versions_and_caps_the_count() -> None:
    versions = [version(n, days_ago=400 - n * 10) for n in range(1, 11)]
    kept = select_versions(versions, Retention(days=365), NOW)
    assert [v.number for v in kept] == [10, 9, 8, 7, 6, 5, 4]
    capped = select_versions(versions, Retention(days=365, max_versions=2), NOW)
    assert [v.number for v in capped] == [10, 9]
    payload = build_payload(
        STRATEGY, capped, retention=Retention(365, 2), total_versions=10, now=NOW
    )
    assert payload["retentionPolicy"] == {"maxVersions": 2, "retentionDays": 365}


def test_encode_validates_and_is_stable() -> None:
    payload = build_payload(
        STRATEGY, [version(1, 1)], retention=Retention(), total_versions=1, now=NOW
    )
    data = encode(payload)
    assert json.loads(data) == payload
    assert encode(json.loads(data)) == data


def test_a_bad_payload_names_each_bad_field() -> None:
    payload = build_payload(
        STRATEGY, [version(1, 1, author=None)], retention=Retention(), total_versions=1, now=NOW
    )
    assert payload["versionMatrix"][0]["metadataTags"]["originalAuthor"] == "unknown"
    payload["strategyName"] = ""
    payload["versionMatrix"][0]["createdDate"] = "yesterday"
    with pytest.raises(ValidationFailed) as caught:
        encode(payload)
    assert set(caught.value.fields) == {"strategyName", "versionMatrix.0.createdDate"}
    assert "versionMatrix.0.createdDate" in str(caught.value)


def test_ids_of_any_form_are_ordered_and_capped_by_number_then_the_rest() -> None:
    def odd(version_id: str, number: int) -> Version:
        return Version(version_id, number, NOW, NOW, None, {"id": version_id})

    listed = [odd("3.0", 3), odd("10.0", 10), odd("3.0-debug", 3), odd("3.10", 3), odd("9", 9)]
    capped = select_versions(listed, Retention(max_versions=3), NOW)
    assert [v.version_id for v in capped] == ["10.0", "9", "3.10"]
    payload = build_payload(STRATEGY, listed, retention=Retention(), total_versions=10, now=NOW)
    matrix = [(r["versionId"], r["versionNumber"]) for r in payload["versionMatrix"]]
    assert matrix == [("10.0", 10), ("9", 9), ("3.10", 3), ("3.0-debug", 3), ("3.0", 3)]
    encode(payload)  # a valid payload
