"""``/_sim/...``: the Python control API over HTTP, for tests that run the simulator elsewhere.

No authentication, no latency, no faults, and nothing recorded in the request log: these
routes steer the simulator, they are not part of what it simulates.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .notify import OBJECT_TOPIC, check_form, check_topics
from .state import SHUFFLED, VERSION_ORDERS
from .web import current_state, json_response

CONTROL_PREFIX = "/_sim"

control = Blueprint("simulator_control", __name__, url_prefix=CONTROL_PREFIX)


class _BadInput(Exception):
    pass


@control.errorhandler(_BadInput)
@control.errorhandler(ValueError)
def _bad_input(error: Exception) -> Response:
    return json_response({"error": str(error)}, 400)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _BadInput("the body must be a JSON object")
    return body


def _number(body: dict[str, Any], name: str, default: Any, kind: type = int) -> Any:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadInput(f"{name} must be a number")
    return kind(value)


@control.post("/strategies")
def add_strategy() -> Response:
    """``{"sourceType", "versions", "name"}`` → 201 ``{"id"}``."""
    body = _body()
    source_type = body.get("sourceType")
    if not isinstance(source_type, str):
        raise _BadInput("sourceType is required")
    versions = _number(body, "versions", 3)
    item_id = current_state().add_strategy(source_type, versions, body.get("name"))
    return json_response({"id": item_id}, 201)


@control.get("/strategies")
def list_strategies() -> Response:
    """``{"flow": [ids], "routing-strategy": [ids]}``, in creation order."""
    state = current_state()
    return json_response({kind: state.strategy_ids(kind) for kind in ("flow", "routing-strategy")})


@control.post("/strategies/<item_id>/versions")
def add_versions(item_id: str) -> Response:
    """``{"count", "versionId", "missing"}`` → 201 ``{"versionIds": [...]}``; 404 for an
    unknown id. ``versionId`` (a string) and ``missing`` (field names its listing entry
    leaves out) make one flow version a bad entry on purpose."""
    body = _body()
    count = _number(body, "count", 1)
    version_id = body.get("versionId")
    if version_id is not None and not isinstance(version_id, str):
        raise _BadInput("versionId must be a string")
    missing = body.get("missing", [])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise _BadInput("missing must be a list of field names")
    try:
        made = current_state().add_versions(
            item_id, count, version_id=version_id, missing=tuple(missing)
        )
    except KeyError:
        return json_response({"error": f"no strategy or flow {item_id}"}, 404)
    return json_response({"versionIds": made}, 201)


@control.post("/faults")
def inject_fault() -> Response:
    """``{"status", "times", "path", "retryAfter"}``: queue a failure."""
    body = _body()
    status = _number(body, "status", None)
    if status is None:
        raise _BadInput("status is required")
    current_state().inject_fault(
        status,
        _number(body, "times", 1),
        body.get("path"),
        _number(body, "retryAfter", None, float),
    )
    return Response(status=204)


@control.post("/corrupt")
def corrupt_next() -> Response:
    """``{"path", "field", "value", "times"}``: damage the next successful bodies."""
    body = _body()
    path, field = body.get("path"), body.get("field")
    if not isinstance(path, str) or not isinstance(field, str):
        raise _BadInput("path and field are required")
    current_state().corrupt_next(path, field, body.get("value"), _number(body, "times", 1))
    return Response(status=204)


NOTIFY_KEYS = ("notifyUrl", "notifyForm", "notifyToken", "notifyProgress", "notifyTopics")


@control.post("/config")
def configure() -> Response:
    """``{"latency", "tokenLifetime", "rateLimitPerMinute", "rateLimit...", "notify..."}``:
    change what is given (``rateLimitAllowed`` per ``rateLimitWindowSeconds``, 429s with
    ``Retry-After`` or not: ``rateLimitRetryAfter``).

    Answers with the settings; the ``notify`` ones once notifications are on or being set,
    the token shown only as whether one is set.
    """
    body = _body()
    state = current_state()
    if "latency" in body:
        state.latency = _number(body, "latency", 0.0, float) or 0.0
    if "tokenLifetime" in body:
        state.token_lifetime = _number(body, "tokenLifetime", 86_400)
    if "rateLimitPerMinute" in body:
        state.rate_limit_per_minute = _number(body, "rateLimitPerMinute", None)
    state.rate_limit.configure_from(body)
    if "versionOrder" in body:
        if body["versionOrder"] not in VERSION_ORDERS:
            raise _BadInput(f"versionOrder must be one of {', '.join(VERSION_ORDERS)}")
        state.version_order = body["versionOrder"]
    _configure_notifications(body)
    shown: dict[str, Any] = {
        "latency": state.latency,
        "tokenLifetime": state.token_lifetime,
        "rateLimitPerMinute": state.rate_limit_per_minute,
        **state.rate_limit.shown(body),
    }
    if "versionOrder" in body or state.version_order != SHUFFLED:
        shown["versionOrder"] = state.version_order
    if state.notify_url is not None or any(key in body for key in NOTIFY_KEYS):
        shown["notifyUrl"] = state.notify_url
        shown["notifyForm"] = state.notify_form
        shown["notifyToken"] = state.notify_token is not None
        shown["notifyProgress"] = state.notify_progress
        if "notifyTopics" in body or state.notify_topics != (OBJECT_TOPIC,):
            shown["notifyTopics"] = list(state.notify_topics)
    return json_response(shown)


def _configure_notifications(body: dict[str, Any]) -> None:
    """Check every ``notify`` setting given, then apply them all (or none)."""
    changes: dict[str, Any] = {}
    for key in ("notifyUrl", "notifyToken"):
        if key in body:
            value = body[key]
            if value is not None and (not isinstance(value, str) or not value):
                raise _BadInput(f"{key} must be a non-empty string or null")
            changes[key] = value
    url = changes.get("notifyUrl")
    if url is not None and not url.startswith(("http://", "https://")):
        raise _BadInput("notifyUrl must be an http:// or https:// URL")
    if "notifyForm" in body:
        changes["notifyForm"] = check_form(str(body["notifyForm"]))
    if "notifyProgress" in body:
        if not isinstance(body["notifyProgress"], bool):
            raise _BadInput("notifyProgress must be true or false")
        changes["notifyProgress"] = body["notifyProgress"]
    if "notifyTopics" in body:  # ["object"], ["audit"] or both
        changes["notifyTopics"] = check_topics(body["notifyTopics"])
    state = current_state()
    if "notifyUrl" in changes:
        state.notify_url = changes["notifyUrl"]
    if "notifyToken" in changes:
        state.notify_token = changes["notifyToken"]
    if "notifyForm" in changes:
        state.notify_form = changes["notifyForm"]
    if "notifyProgress" in changes:
        state.notify_progress = changes["notifyProgress"]
    if "notifyTopics" in changes:
        state.notify_topics = changes["notifyTopics"]


@control.get("/notifications")
def list_notifications() -> Response:
    """The notification deliveries that have ended, oldest first."""
    return json_response([n.to_json() for n in current_state().notifications])


@control.post("/tokens/expire")
def expire_tokens() -> Response:
    """Invalidate every token issued so far."""
    current_state().expire_tokens()
    return Response(status=204)


@control.get("/requests")
def list_requests() -> Response:
    """The request log, oldest first."""
    return json_response([r.to_json() for r in current_state().requests])


@control.delete("/requests")
def clear_requests() -> Response:
    """Forget the request log."""
    current_state().clear_requests()
    return Response(status=204)
