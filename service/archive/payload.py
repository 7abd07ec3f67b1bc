"""The archive payload of contract section 5: matrix, retention, key, documents.

Building is pure: versions in, a dict out. ``encode`` fixes the bytes once; from
then on the stored bytes, not a rebuilt payload, are what is sent.

``versionNumber`` is always an integer (the contract's matrix has one for every row): a
flow version whose id has no leading integer is left out of the archive by its source as
a bad entry, rather than archived with a null number. Rows are newest first by
``version_order`` (number, then the rest of the id), whatever order Genesys listed them in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cerberus import Validator

from ..clock import iso
from ..genesys.sources import SOURCE_TYPES, Strategy, Version, version_order
from ..ids import check_lower_uuid, idempotency_key
from ..validation import require_valid

ARCHIVED_BY = "genesys-strategy-archiver"
SOURCE_SYSTEM = "genesys-cloud"


@dataclass(frozen=True)
class Retention:
    """``RETENTION_DAYS`` and ``RETENTION_MAX_VERSIONS``."""

    days: int = 365
    max_versions: int | None = None


def select_versions(
    versions: Sequence[Version], retention: Retention, now: datetime
) -> list[Version]:
    """The versions an archive may hold: recent enough (or the object as it is now, a
    snapshot, however old its last change), newest first, at most the cap."""
    oldest = now - timedelta(days=retention.days)
    recent = (v for v in versions if v.created >= oldest or v.current)
    kept = sorted(recent, key=version_order, reverse=True)
    return kept[: retention.max_versions] if retention.max_versions else kept


def build_payload(
    strategy: Strategy,
    versions: Sequence[Version],
    *,
    retention: Retention,
    total_versions: int,
    now: datetime,
) -> dict[str, Any]:
    """The payload for ``versions`` (already selected, each complete) of ``strategy``."""
    ordered = sorted(versions, key=version_order, reverse=True)
    return {
        "strategyId": strategy.id,
        "strategyName": strategy.name,
        "sourceType": strategy.source_type,
        "archiveTimestamp": iso(now),
        "versionMatrix": [_matrix_row(v) for v in ordered],
        "retentionPolicy": {
            "maxVersions": retention.max_versions or max(total_versions, 1),
            "retentionDays": retention.days,
        },
        "idempotencyKey": idempotency_key(
            strategy.source_type, strategy.id, [v.version_id for v in ordered]
        ),
        "versions": [v.document for v in ordered],
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The payload's bytes, validated first: what is stored, hashed and sent."""
    validate_payload(payload)
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def validate_payload(payload: Any) -> None:
    """Raise ``ValidationFailed`` naming every field of ``payload`` that is wrong."""
    require_valid(_VALIDATOR, payload, "archive payload")


def _matrix_row(version: Version) -> dict[str, Any]:
    return {
        "versionId": version.version_id,
        "versionNumber": version.number,
        "createdDate": iso(version.created),
        "modifiedDate": iso(version.modified),
        "metadataTags": {
            "archivedBy": ARCHIVED_BY,
            "sourceSystem": SOURCE_SYSTEM,
            "originalAuthor": version.author or "unknown",
        },
    }


_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
_TEXT = {"type": "string", "required": True, "empty": False}

PAYLOAD_SCHEMA: dict[str, Any] = {
    "strategyId": {"type": "string", "required": True, "check_with": check_lower_uuid},
    "strategyName": _TEXT,
    "sourceType": {"type": "string", "required": True, "allowed": list(SOURCE_TYPES)},
    "archiveTimestamp": {"type": "string", "required": True, "regex": _ISO},
    "versionMatrix": {
        "type": "list",
        "required": True,
        "minlength": 1,
        "schema": {
            "type": "dict",
            "schema": {
                "versionId": _TEXT,
                "versionNumber": {"type": "integer", "required": True, "min": 0},
                "createdDate": {"type": "string", "required": True, "regex": _ISO},
                "modifiedDate": {"type": "string", "required": True, "regex": _ISO},
                "metadataTags": {
                    "type": "dict",
                    "required": True,
                    "schema": {
                        "archivedBy": {**_TEXT, "allowed": [ARCHIVED_BY]},
                        "sourceSystem": {**_TEXT, "allowed": [SOURCE_SYSTEM]},
                        "originalAuthor": _TEXT,
                    },
                },
            },
        },
    },
    "retentionPolicy": {
        "type": "dict",
        "required": True,
        "schema": {
            "maxVersions": {"type": "integer", "required": True, "min": 1},
            "retentionDays": {"type": "integer", "required": True, "min": 1},
        },
    },
    "idempotencyKey": {"type": "string", "required": True, "check_with": check_lower_uuid},
    "versions": {
        "type": "list",
        "required": True,
        "minlength": 1,
        "schema": {"type": "dict", "schema": {"id": _TEXT}, "allow_unknown": True},
    },
}

_VALIDATOR = Validator(PAYLOAD_SCHEMA, allow_unknown=False)
