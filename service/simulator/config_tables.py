"""Seeded decision tables: the table, its versions (Superseded, Published, Draft) and rows.

Shaped as ``samples/decision-table.json`` and ``decision-table-version.json``: a version's
``id`` is the table's (the version number is in ``version``), its rows are listed by page
number. The first table holds enough rows (60, 64, 65) that its row listing pages at the
default page size of 25.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .config_data import DECISION_TABLE, config_id, obj_ref, self_uri
from .data import DAY_MS, DIVISION, HOUR_MS, USERS, Person, seeded_id
from .render import iso, ref

SEGMENTS = ("retail", "business", "public")
QUEUE_KEYS = ("support", "sales", "billing")
PUBLISHED, SUPERSEDED, DRAFT = "Published", "Superseded", "Draft"
ARCHIVABLE = (PUBLISHED, SUPERSEDED)

_SCHEMA = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}
CONTRACT = {
    "parentSchema": {
        "id": "834aa05c-cc9c-4291-9a9d-8d1792878d44",
        "name": "Routing inputs",
        "selfUri": "/api/v2/businessrules/schemas/834aa05c-cc9c-4291-9a9d-8d1792878d44",
        "version": 1,
    },
    "executionInputSchema": _SCHEMA
    | {
        "title": "Execution input",
        "required": ["customer_segment", "vip"],
        "properties": {
            "customer_segment": {"type": "string", "enum": list(SEGMENTS)},
            "vip": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "executionOutputSchema": _SCHEMA
    | {
        "title": "Execution output",
        "properties": {"transfer_queue": {"type": "object"}},
        "additionalProperties": False,
    },
}


@dataclass
class TableVersion:
    """One version of a decision table: its body (without rows) and its rows in order."""

    doc: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def number(self) -> int:
        """The version's integer ``version``."""
        number: int = self.doc["version"]
        return number


def columns(table_id: str) -> dict[str, Any]:
    """Two inputs (segment, VIP flag) and one output (the transfer queue's id)."""

    def column(name: str) -> str:
        return seeded_id(table_id, "column", name)

    def contractual(key: str) -> dict[str, Any]:
        return {"contractual": {"schemaPropertyKey": key}, "comparator": "Equals"}

    queue_path = {"schemaPropertyKey": "queue", "properties": [{"schemaPropertyKey": "id"}]}
    return {
        "inputs": [
            {
                "id": column("segment"),
                "defaultsTo": {"special": "Wildcard"},
                "expression": contractual("customer_segment"),
            },
            {
                "id": column("vip"),
                "defaultsTo": {"special": "Wildcard"},
                "expression": contractual("vip"),
            },
        ],
        "outputs": [
            {
                "id": column("queue"),
                "defaultsTo": {"value": obj_ref("queue", "support", "Support")["id"]},
                "value": {"schemaPropertyKey": "transfer_queue", "properties": [queue_path]},
            }
        ],
    }


def table_ref(table: dict[str, Any], number: int) -> dict[str, Any]:
    """The ``{id, name, division, version, selfUri}`` of one version (``published``,
    ``latest``, a row's ``table``): the id is the table's."""
    return {
        "id": table["id"],
        "name": table["name"],
        "division": table["division"],
        "version": number,
        "selfUri": f"{table['selfUri']}/versions/{number}",
    }


def make_row(table: dict[str, Any], number: int, index: int, at_ms: int) -> dict[str, Any]:
    """Row ``index`` (1-based) of version ``number``: a segment and VIP flag to a queue."""
    row_id = seeded_id(table["id"], str(number), "row", str(index))
    cols = columns(table["id"])
    segment, vip = SEGMENTS[index % 3], index % 2 == 0
    queue = obj_ref("queue", QUEUE_KEYS[(index + number) % 3], "queue")["id"]
    return {
        "id": row_id,
        "table": table_ref(table, number),
        "rowIndex": index,
        "dateCreated": iso(at_ms + index),
        "dateModified": iso(at_ms + index),
        "inputs": {
            cols["inputs"][0]["id"]: {"literal": {"string": f"{segment}-{index}"}},
            cols["inputs"][1]["id"]: {"literal": {"boolean": vip}},
        },
        "outputs": {cols["outputs"][0]["id"]: {"literal": {"string": queue}}},
        "selfUri": f"{table['selfUri']}/versions/{number}/rows/{row_id}",
    }


def make_version(
    table: dict[str, Any], number: int, status: str, rows: int, at_ms: int, by: Person
) -> TableVersion:
    """Version ``number`` of ``table`` with ``rows`` rows, made at ``at_ms`` by ``by``."""
    user = {"id": by.id, "selfUri": f"/api/v2/users/{by.id}"}
    doc: dict[str, Any] = {
        "id": table["id"],
        "name": table["name"],
        "division": table["division"],
        "version": number,
        "status": status,
        "description": table["description"],
        "rowCount": rows,
        "rowsUri": f"{table['selfUri']}/versions/{number}/rows",
        "dateCreated": iso(at_ms),
        "dateModified": iso(at_ms + HOUR_MS),
        "createdBy": user,
    }
    if status in ARCHIVABLE:
        doc["datePublished"] = iso(at_ms + HOUR_MS)
        doc["publishedBy"] = dict(user)
    doc["columns"] = columns(table["id"])
    doc["contract"] = copy.deepcopy(CONTRACT)
    doc["selfUri"] = f"{table['selfUri']}/versions/{number}"
    made = TableVersion(doc)
    made.rows = [make_row(table, number, i, at_ms) for i in range(1, rows + 1)]
    return made


def refresh_table(table: dict[str, Any], versions: list[TableVersion]) -> None:
    """Set the table's ``published``, ``latest``, ``latestVersionStatus`` and
    ``datePublished`` from its versions (after one was made or published)."""
    latest = versions[-1]
    published = next((v for v in reversed(versions) if v.doc["status"] == PUBLISHED), None)
    for name in ("datePublished", "published", "latest", "latestVersionStatus"):
        table.pop(name, None)
    if published is not None:
        table["datePublished"] = published.doc["datePublished"]
        table["published"] = table_ref(table, published.number)
    table["latest"] = table_ref(table, latest.number)
    table["latestVersionStatus"] = latest.doc["status"]
    # Keep the sample's field order: the version refs come before the columns.
    for name in ("snapshotCount", "columns", "publishedContract", "selfUri"):
        table[name] = table.pop(name)


def make_table(
    key: str, name: str, description: str, plan: list[tuple[str, int]], at_ms: int
) -> tuple[dict[str, Any], list[TableVersion]]:
    """A table whose versions follow ``plan`` (status, rows), a day apart, the last newest."""
    table_id = config_id(DECISION_TABLE, key)
    created = at_ms - (len(plan) + 2) * DAY_MS
    table: dict[str, Any] = {
        "id": table_id,
        "name": name,
        "division": ref(DIVISION, "authorization/divisions"),
        "description": description,
        "dateCreated": iso(created),
        "dateModified": iso(at_ms - DAY_MS),
        "snapshotCount": 0,
        "columns": columns(table_id),
        "publishedContract": copy.deepcopy(CONTRACT),
        "selfUri": self_uri(DECISION_TABLE, table_id),
    }
    versions = [
        make_version(table, n, status, rows, created + n * DAY_MS, USERS[n % len(USERS)])
        for n, (status, rows) in enumerate(plan, 1)
    ]
    refresh_table(table, versions)
    return table, versions


def seed_tables(at_ms: int) -> list[tuple[dict[str, Any], list[TableVersion]]]:
    """The seeded decision tables and their versions, oldest version first."""
    return [
        make_table(
            "queue-selection",
            "Queue selection by segment",
            "Picks the transfer queue from the customer segment and VIP flag",
            [(SUPERSEDED, 60), (PUBLISHED, 64), (DRAFT, 65)],
            at_ms,
        ),
        make_table(
            "vip-overrides",
            "VIP overrides",
            "Sends VIP callers of each segment to a named queue",
            [(PUBLISHED, 5)],
            at_ms,
        ),
    ]


DEMO_TABLE_ID = config_id(DECISION_TABLE, "queue-selection")
