"""The simulated Genesys API: Architect flows (page numbers) and routing strategies (cursors).

Authentication, faults and rate limits are applied before these views run (see ``app``);
the views only look up data and page it exactly as the real endpoints do.
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from .data import FLOW, FLOW_TYPE_FILTERS, ROUTING_STRATEGY, Item, Version
from .render import (
    flow_configuration,
    flow_doc,
    flow_version_doc,
    strategy_doc,
    strategy_version_doc,
)
from .state import SHUFFLED
from .web import ApiError, current_state, json_response, not_found

api = Blueprint("simulator_api", __name__, url_prefix="/api/v2")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
INVALID_PARAM = (
    "Value [{value}] is not valid for field type [{field}]. Allowable values are: {allowed}"
)


# Query parameters ---------------------------------------------------------------------


def _bad_param(field: str, value: str, allowed: str) -> ApiError:
    params = {"value": value, "field": field, "allowed": allowed}
    return ApiError(400, "invalid.query.param.value", INVALID_PARAM, params)


def _int_param(name: str, default: int, high: int | None = None) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    value = int(raw) if re.fullmatch(r"\d{1,9}", raw) else 0
    if value < 1 or (high is not None and value > high):
        raise _bad_param(name, raw, f"1-{high}" if high else "1 or more")
    return value


def _page_size() -> int:
    return _int_param("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = request.args.get(name) or default
    if value not in allowed:
        raise _bad_param(name, value, ", ".join(allowed))
    return value


def _encode_cursor(key: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{key}:{position}".encode()).decode().rstrip("=")


def _decode_cursor(
    key: str,
    param: str = "cursor",
    expected: str = "a cursor from a nextUri of this listing",
) -> int | None:
    """The position carried by the ``param`` cursor, which must have been made for ``key``."""
    raw = request.args.get(param)
    if raw is None:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    found, _, position = text.partition(":")
    if found != key or not position.isdigit():
        raise _bad_param(param, raw, expected)
    return int(position)


# Routing strategies (cursor paging) ---------------------------------------------------


def _strategy(item_id: str) -> Item:
    item = current_state().item(ROUTING_STRATEGY, item_id)
    if item is None:
        raise not_found("routing strategy")
    return item


@api.get("/routing/strategies")
def list_strategies() -> Response:
    """Every strategy, in creation order; the cursor is the position reached."""
    size = _page_size()
    start = _decode_cursor("strategies") or 0
    items = current_state().items(ROUTING_STRATEGY)
    body: dict[str, Any] = {"items": [strategy_doc(i) for i in items[start : start + size]]}
    if start + size < len(items):
        cursor = _encode_cursor("strategies", start + size)
        body["nextUri"] = f"/api/v2/routing/strategies?pageSize={size}&cursor={cursor}"
    return json_response(body)


@api.get("/routing/strategies/<item_id>")
def get_strategy(item_id: str) -> Response:
    """One strategy document."""
    return json_response(strategy_doc(_strategy(item_id)))


@api.get("/routing/strategies/<item_id>/versions")
def strategy_versions(item_id: str) -> Response:
    """Versions newest first; the cursor is the last version number given, so versions made
    while a client pages do not shift the pages it has yet to read."""
    item = _strategy(item_id)
    size = _page_size()
    below = _decode_cursor(item.id[:8])
    remaining = [v for v in reversed(item.versions) if below is None or v.number < below]
    page = remaining[:size]
    body: dict[str, Any] = {"items": [strategy_version_doc(v) for v in page]}
    if len(remaining) > size:
        cursor = _encode_cursor(item.id[:8], page[-1].number)
        body["nextUri"] = (
            f"/api/v2/routing/strategies/{item.id}/versions?pageSize={size}&cursor={cursor}"
        )
    return json_response(body)


# Architect flows (page-number paging) -------------------------------------------------


def _listing(path: str, entities: list[Any], extra: dict[str, str]) -> dict[str, Any]:
    """An EntityListing page of ``entities`` for the request's ``pageNumber``/``pageSize``."""
    size = _page_size()
    number = _int_param("pageNumber", 1)
    total = len(entities)
    page_count = math.ceil(total / size)

    def uri(page: int) -> str:
        return f"{path}?{urlencode({'pageSize': size, 'pageNumber': page, **extra}, safe=',')}"

    body: dict[str, Any] = {
        "entities": entities[(number - 1) * size : number * size],
        "pageSize": size,
        "pageNumber": number,
        "total": total,
        "pageCount": page_count,
        "firstUri": uri(1),
        "selfUri": uri(number),
        "lastUri": uri(max(page_count, 1)),
    }
    if number < page_count:
        body["nextUri"] = uri(number + 1)
    if number > 1:
        body["previousUri"] = uri(number - 1)
    return body


def _flow(item_id: str, *, gone: int = 404) -> Item:
    """The flow; a deleted one only with ``deleted=true``, else ``gone`` (410 for the flow
    itself, as the reference has it; 404 for what lies under it)."""
    item = current_state().item(FLOW, item_id)
    if item is None:
        raise not_found("flow")
    if current_state().flow_deletion(item.id) is not None and not _include_deleted():
        if gone == 410:
            raise ApiError(410, "architect.flow.deleted", "The flow has been deleted.")
        raise not_found("flow")
    return item


def _include_deleted() -> bool:
    """The ``deleted`` query parameter: true adds (or lets one read) deleted flows."""
    return request.args.get("deleted", "").lower() == "true"


def _flow_json(item: Item) -> dict[str, Any]:
    """``flow_doc`` with ``deleted`` saying whether the flow is."""
    return flow_doc(item) | {"deleted": current_state().flow_deletion(item.id) is not None}


def _flow_version(item: Item, version_id: str) -> Version:
    for version in item.versions:
        if version.id == version_id:
            return version
    raise not_found("flow version")


@api.get("/flows")
def list_flows() -> Response:
    """Flows filtered by ``type`` (lower-case, comma list), sorted by ``sortBy``/``sortOrder``."""
    wanted = {t for raw in request.args.getlist("type") for t in raw.split(",") if t}
    unknown = sorted(wanted - FLOW_TYPE_FILTERS)
    if unknown:
        raise _bad_param("type", unknown[0], ", ".join(sorted(FLOW_TYPE_FILTERS)))
    sort_by = _choice("sortBy", "id", ("id", "name"))
    order = _choice("sortOrder", "asc", ("asc", "desc", "ascending", "descending"))
    state, deleted = current_state(), _include_deleted()
    items = [
        i
        for i in state.items(FLOW)
        if (not wanted or i.type.lower() in wanted)
        and (deleted or state.flow_deletion(i.id) is None)
    ]
    items.sort(key=lambda i: i.id if sort_by == "id" else i.name.lower())
    if order.startswith("desc"):
        items.reverse()
    extra = {k: request.args[k] for k in ("sortBy", "sortOrder", "deleted") if k in request.args}
    if wanted:
        extra["type"] = ",".join(sorted(wanted))
    return json_response(_listing("/api/v2/flows", [_flow_json(i) for i in items], extra))


@api.get("/flows/<item_id>")
def get_flow(item_id: str) -> Response:
    """One Flow with partial refs to its checked-in, saved and published versions; 410
    ``architect.flow.deleted`` once deleted, unless read with ``deleted=true``."""
    return json_response(_flow_json(_flow(item_id, gone=410)))


@api.delete("/flows/<item_id>")
def delete_flow(item_id: str) -> Response:
    """Delete a flow: 204; 404 for an unknown id, 410 for a flow deleted already."""
    _flow(item_id, gone=410)
    current_state().delete_flow(item_id)
    return Response(status=204)


@api.get("/flows/<item_id>/versions")
def flow_versions(item_id: str) -> Response:
    """A FlowVersionEntityListing in no documented order: a shuffle seeded by the flow and
    its versions (the same for every page of one listing), or newest first."""
    item = _flow(item_id)
    versions = list(reversed(item.versions))
    if current_state().version_order == SHUFFLED:
        random.Random(f"{item.id}:{len(versions)}").shuffle(versions)
    entities = [flow_version_doc(item, v) for v in versions]
    return json_response(_listing(f"/api/v2/flows/{item.id}/versions", entities, {}))


@api.get("/flows/<item_id>/versions/<version_id>")
def get_flow_version(item_id: str, version_id: str) -> Response:
    """One FlowVersion."""
    item = _flow(item_id)
    return json_response(flow_version_doc(item, _flow_version(item, version_id)))


@api.get("/flows/<item_id>/versions/<version_id>/configuration")
def flow_version_configuration(item_id: str, version_id: str) -> Response:
    """The free-form Architect configuration of one version."""
    item = _flow(item_id)
    return json_response(flow_configuration(item, _flow_version(item, version_id)))
