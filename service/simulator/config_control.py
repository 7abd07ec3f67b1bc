"""``/_sim/routing/...``: changes to the routing configuration over HTTP (``RoutingConfig``).

Like the other control routes: no authentication, nothing recorded. Each change is audited
(``v2.audits...``) when notifications are on with the ``audit`` topic.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .config_data import CONFIG_TYPES, DECISION_TABLE
from .config_store import RoutingConfig, check_type
from .data import USERS, Person
from .web import current_state, json_response

routing_control = Blueprint("simulator_routing_control", __name__, url_prefix="/_sim/routing")


class _NotFound(Exception):
    pass


@routing_control.errorhandler(ValueError)
def _bad_input(error: Exception) -> Response:
    return json_response({"error": str(error)}, 400)


@routing_control.errorhandler(KeyError)
@routing_control.errorhandler(_NotFound)
def _unknown(error: Exception) -> Response:
    return json_response({"error": f"no such object: {error.args[0]}"}, 404)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _user(body: dict[str, Any]) -> Person | None:
    """The ``user`` (a seeded user's name or id) the change is made by; None: the default."""
    wanted = body.get("user")
    if wanted is None:
        return None
    for user in USERS:
        if wanted in (user.name, user.id):
            return user
    names = ", ".join(user.name for user in USERS)
    raise ValueError(f"user must name a user of the simulated org ({names}), not {wanted!r}")


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    changes = body.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ValueError("changes must be a non-empty object of field paths to values")
    return changes


def _routing(source_type: str) -> RoutingConfig:
    check_type(source_type)
    return current_state().routing


@routing_control.get("")
def list_objects() -> Response:
    """``{sourceType: [ids]}`` for every routing-configuration type, deleted objects too."""
    routing = current_state().routing
    return json_response({kind: routing.ids(kind) for kind in CONFIG_TYPES})


@routing_control.post("/<source_type>/<object_id>/update")
def update(source_type: str, object_id: str) -> Response:
    """``{"changes": {path: value}, "user"}`` → the new body (markers moved, ``Update`` audited)."""
    body = _body()
    doc = _routing(source_type).update(source_type, object_id, _changes(body), _user(body))
    return json_response(doc)


@routing_control.post("/<source_type>/<object_id>/volatile")
def volatile(source_type: str, object_id: str) -> Response:
    """``{"changes": {path: value}, "user"}`` of volatile fields only → the new body."""
    body = _body()
    routing = _routing(source_type)
    doc = routing.set_volatile(source_type, object_id, _changes(body), _user(body))
    return json_response(doc)


@routing_control.post("/<source_type>/<object_id>/delete")
def delete(source_type: str, object_id: str) -> Response:
    """``{"answer": "state"|"404"|"410", "user"}`` → ``{"answer"}``, the one applied."""
    body = _body()
    answer = body.get("answer")
    if answer is not None:
        answer = str(answer)
    routing = _routing(source_type)
    return json_response({"answer": routing.delete(source_type, object_id, answer, _user(body))})


@routing_control.post("/decision-table/<table_id>/publish")
def publish(table_id: str) -> Response:
    """``{"user"}`` → ``{"version"}``: the draft published."""
    body = _body()
    return json_response({"version": _routing(DECISION_TABLE).publish(table_id, _user(body))})


@routing_control.post("/decision-table/<table_id>/drafts")
def new_draft(table_id: str) -> Response:
    """``{"rows", "user"}`` → 201 ``{"version"}``: a new draft version."""
    body = _body()
    rows = body.get("rows")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int)):
        raise ValueError("rows must be an integer")
    number = _routing(DECISION_TABLE).new_draft(table_id, rows, _user(body))
    return json_response({"version": number}, 201)


@routing_control.post("/audit")
def send_audit() -> Response:
    """``{"entityType", "entityId", "action", "serviceName", "user"}`` → 204: an audit event
    alone, for a change made elsewhere (a ``WorkforceManagement`` schedule, say)."""
    body = _body()
    names = ("entityType", "entityId", "action", "serviceName")
    texts = []
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
        texts.append(value)
    entity_type, entity_id, action, service = texts
    current_state().routing.send_audit(entity_type, entity_id, action, service, _user(body))
    return Response(status=204)
