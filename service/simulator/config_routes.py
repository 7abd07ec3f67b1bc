"""The simulated API of the routing configuration (reference section 8): a listing and a
``GET`` for queues, IVRs, schedules, schedule groups, emergency groups, skill groups and
decision tables, and a decision table's versions and rows.

Each listing pages as the real one does: page numbers (queues, the Architect objects, a
version's rows; the Architect listings but emergency groups add ``totalNumberOfEntities``)
or the ``after`` cursor (skill groups, decision tables, their versions). Deleted objects
answer as they were deleted (``ConfigObject.gone``, or 200 with ``state: "deleted"``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from .config_data import (
    ARCHITECT_TYPES,
    COLLECTIONS,
    DECISION_TABLE,
    EMERGENCY_GROUP,
    IVR,
    QUEUE,
    SCHEDULE,
    SCHEDULE_GROUP,
    SKILL_GROUP,
)
from .config_tables import TableVersion
from .routes import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    _choice,
    _decode_cursor,
    _encode_cursor,
    _int_param,
    _listing,
)
from .web import ApiError, current_state, json_response, not_found

routing_api = Blueprint("simulator_routing_api", __name__, url_prefix="/api/v2")

# What a 404 or 410 names, by type.
WHAT = {
    QUEUE: "queue",
    IVR: "IVR",
    SCHEDULE: "schedule",
    SCHEDULE_GROUP: "schedule group",
    EMERGENCY_GROUP: "emergency group",
    SKILL_GROUP: "skill group",
    DECISION_TABLE: "decision table",
}
PAGE_NUMBER_TYPES = (QUEUE, IVR, SCHEDULE, SCHEDULE_GROUP, EMERGENCY_GROUP)
# Fields of a skill group its listing leaves out (``SkillGroupDefinition``).
SKILL_GROUP_DETAIL = ("status", "skillConditions")


def _object(source_type: str, object_id: str) -> dict[str, Any]:
    """The body ``GET`` answers; ApiError 404 for an unknown id, 404/410 once deleted so."""
    found = current_state().routing.lookup(source_type, object_id)
    if found is None or found.gone == 404:
        raise not_found(WHAT[source_type])
    if found.gone == 410:
        message = f"The requested {WHAT[source_type]} has been deleted."
        raise ApiError(410, "resource.deleted", message)
    return found.doc


def _page_number_listing(source_type: str) -> Response:
    """Sorted by name (``sortOrder``; Architect listings also take ``sortBy``)."""
    entities = current_state().routing.listed(source_type)
    extra: dict[str, str] = {}
    if source_type in ARCHITECT_TYPES:
        sort_by = _choice("sortBy", "name", ("name", "id", "dateModified"))
        extra["sortBy"] = sort_by
    else:
        sort_by = "name"
    order = _choice("sortOrder", "asc", ("asc", "desc", "ASC", "DESC"))
    name = request.args.get("name")
    if name:
        extra["name"] = name
        entities = [e for e in entities if name.lower() in e["name"].lower()]
    entities.sort(key=lambda e: str(e[sort_by]).lower(), reverse=order.lower() == "desc")
    if "sortOrder" in request.args:
        extra["sortOrder"] = order
    body = _listing(f"/api/v2/{COLLECTIONS[source_type]}", entities, extra)
    if source_type in ARCHITECT_TYPES and source_type != EMERGENCY_GROUP:
        total = len(current_state().routing.listed(source_type))
        body = {**dict(list(body.items())[:4]), "totalNumberOfEntities": total, **body}
    return json_response(body)


_EITHER_CURSOR = "a cursor from a nextUri or previousUri of this listing"


def _cursor_listing(path: str, key: str, entities: list[Any], extra: dict[str, str]) -> Response:
    """``{entities, nextUri, selfUri, previousUri}``, paged by ``after`` (or ``before``)."""
    size = _int_param("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _decode_cursor(key, "after", _EITHER_CURSOR)
    before = _decode_cursor(key, "before", _EITHER_CURSOR)
    start = after if after is not None else max(0, before - size) if before is not None else 0

    def uri(**cursor: str) -> str:
        return f"{path}?{urlencode({'pageSize': size, **extra, **cursor}, safe=',')}"

    self_cursor = {"after": request.args["after"]} if after is not None else {}
    body: dict[str, Any] = {"entities": entities[start : start + size]}
    if start + size < len(entities):
        body["nextUri"] = uri(after=_encode_cursor(key, start + size))
    body["selfUri"] = uri(**self_cursor)
    if start > 0:
        body["previousUri"] = uri(before=_encode_cursor(key, start))
    return json_response(body)


def _register(source_type: str) -> None:
    """The listing and ``GET`` one of a page-number type."""
    path = f"/{COLLECTIONS[source_type]}"
    endpoint = source_type.replace("-", "_")

    def listing() -> Response:
        return _page_number_listing(source_type)

    def get_one(object_id: str) -> Response:
        return json_response(_object(source_type, object_id))

    routing_api.add_url_rule(path, f"list_{endpoint}", listing, methods=["GET"])
    routing_api.add_url_rule(f"{path}/<object_id>", f"get_{endpoint}", get_one, methods=["GET"])


for _type in PAGE_NUMBER_TYPES:
    _register(_type)


@routing_api.get("/routing/skillgroups")
def list_skill_groups() -> Response:
    """``SkillGroupDefinition`` entries (no ``status``, ``skillConditions``), ``after`` cursor."""
    entities = [
        {k: v for k, v in doc.items() if k not in SKILL_GROUP_DETAIL}
        for doc in current_state().routing.listed(SKILL_GROUP)
    ]
    return _cursor_listing("/api/v2/routing/skillgroups", "skillgroups", entities, {})


@routing_api.get("/routing/skillgroups/<object_id>")
def get_skill_group(object_id: str) -> Response:
    """One ``SkillGroup``."""
    return json_response(_object(SKILL_GROUP, object_id))


@routing_api.get("/businessrules/decisiontables")
def list_decision_tables() -> Response:
    """``DecisionTableListing``, ``after`` cursor."""
    entities = current_state().routing.listed(DECISION_TABLE)
    return _cursor_listing("/api/v2/businessrules/decisiontables", "tables", entities, {})


@routing_api.get("/businessrules/decisiontables/<table_id>")
def get_decision_table(table_id: str) -> Response:
    """One ``DecisionTable``."""
    return json_response(_object(DECISION_TABLE, table_id))


def _versions(table_id: str) -> list[TableVersion]:
    _object(DECISION_TABLE, table_id)  # 404 / 410 as the table answers
    versions = current_state().routing.versions(table_id)
    if versions is None:
        raise not_found("decision table")
    return versions


def _version(table_id: str, number: str) -> TableVersion:
    for version in _versions(table_id):
        if str(version.number) == number:
            return version
    raise not_found("decision table version")


@routing_api.get("/businessrules/decisiontables/<table_id>/versions")
def list_table_versions(table_id: str) -> Response:
    """``DecisionTableVersionListing``, newest first, ``after`` cursor; ``status`` (repeatable
    or comma list) keeps the versions in those statuses."""
    wanted = {s for raw in request.args.getlist("status") for s in raw.split(",") if s}
    versions = list(reversed(_versions(table_id)))
    entities = [v.doc for v in versions if not wanted or v.doc["status"] in wanted]
    extra = {"status": ",".join(sorted(wanted))} if wanted else {}
    path = f"/api/v2/businessrules/decisiontables/{table_id}/versions"
    return _cursor_listing(path, f"versions-{table_id[:8]}", entities, extra)


@routing_api.get("/businessrules/decisiontables/<table_id>/versions/<number>")
def get_table_version(table_id: str, number: str) -> Response:
    """One ``DecisionTableVersion`` by its integer version."""
    return json_response(_version(table_id, number).doc)


@routing_api.get("/businessrules/decisiontables/<table_id>/versions/<number>/rows")
def list_table_rows(table_id: str, number: str) -> Response:
    """``DecisionTableRowListing`` in ``rowIndex`` order, page numbers."""
    version = _version(table_id, number)
    rows = sorted(version.rows, key=lambda row: row["rowIndex"])
    return json_response(_listing(f"{version.doc['selfUri']}/rows", rows, {}))
