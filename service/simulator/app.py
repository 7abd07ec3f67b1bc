"""The simulator's Flask app: OAuth and the API on one host, plus the ``/_sim`` control routes.

Everything a client must cope with happens here, before a view runs and after it answers:
latency, injected faults, bearer-token checks, the per-minute rate limit, corrupted bodies,
Genesys' headers and the request log.
"""

from __future__ import annotations

import hmac
import json
import math
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .config_control import routing_control
from .config_routes import routing_api
from .control import CONTROL_PREFIX, control
from .render import oauth_error, status_error, status_oauth_error
from .routes import api
from .state import Fault, RequestRecord, SimulatorState
from .web import EXTENSION, ApiError, context_id, current_state, json_response

TOKEN_PATH = "/oauth/token"
API_PREFIX = "/api/v2/"

oauth = Blueprint("simulator_oauth", __name__)


def create_simulator_app(state: SimulatorState) -> Flask:
    """A Flask app answering like Genesys Cloud from ``state``."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = state
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_blueprint(oauth)
    app.register_blueprint(api)
    app.register_blueprint(control)
    app.register_blueprint(routing_api)
    app.register_blueprint(routing_control)
    return app


@oauth.post(TOKEN_PATH)
def token() -> Response:
    """The client-credentials grant: client in HTTP Basic, ``grant_type`` in the form body."""
    state = current_state()
    auth = request.authorization
    if auth is None or auth.type != "basic" or not _client_accepted(state, auth):
        return json_response(oauth_error("invalid_client", "client not found"), 401)
    grant = request.form.get("grant_type")
    if not grant:
        return json_response(oauth_error("invalid_request", "grant_type is required"), 400)
    if grant != "client_credentials":
        description = f"grant type {grant} is not supported"
        return json_response(oauth_error("unsupported_grant_type", description), 400)
    body = {
        "access_token": state.issue_token(),
        "token_type": "bearer",
        "expires_in": state.token_lifetime,
    }
    return json_response(body)


def _client_accepted(state: SimulatorState, auth: Any) -> bool:
    """Any client when none is configured, else exactly the configured id and secret."""
    checks = ((state.client_id, auth.username), (state.client_secret, auth.password))
    return all(
        hmac.compare_digest(want.encode(), (given or "").encode())
        for want, given in checks
        if want is not None
    )


def _is_api(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def _before() -> Response | None:
    g.arrived = time.monotonic()
    g.context_id = str(uuid.uuid4())
    if request.path.startswith(CONTROL_PREFIX):
        return None
    state = current_state()
    if state.latency > 0:
        time.sleep(state.latency)
    fault = state.take_fault(request.path)
    if fault is not None:
        return _fault_response(fault)
    if not _is_api(request.path):
        return None
    problem = _bearer_problem(state)
    if problem is not None:
        return json_response(problem.body(), 401)
    g.rate = state.admit(time.monotonic())
    if not g.rate.allowed:
        seconds = str(g.rate.reset)
        headers = {"Retry-After": seconds} if g.rate.retry_after else {}
        return json_response(status_error(429, context_id(), seconds), 429, headers)
    return None


def _bearer_problem(state: SimulatorState) -> ApiError | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        message = "No authentication bearer token specified in authorization header."
        return ApiError(401, "authentication.required", message)
    code = state.token_problem(token.strip())
    if code == "credentials.expired":
        return ApiError(401, code, "The access token has expired.")
    if code is not None:
        return ApiError(401, code, "Invalid login credentials.")
    return None


def _fault_response(fault: Fault) -> Response:
    headers = {}
    seconds = "1"
    if fault.retry_after is not None:
        seconds = str(max(0, math.ceil(fault.retry_after)))
        headers["Retry-After"] = seconds
    if request.path.startswith(TOKEN_PATH):
        return json_response(status_oauth_error(fault.status), fault.status, headers)
    return json_response(status_error(fault.status, context_id(), seconds), fault.status, headers)


def _after(response: Response) -> Response:
    if request.path.startswith(CONTROL_PREFIX):
        return response
    state = current_state()
    if 200 <= response.status_code < 300 and response.mimetype == "application/json":
        changes = state.take_corruptions(request.path)
        if changes:
            body = json.loads(response.get_data())
            for field, value in changes:
                _set_field(body, field, value)
            response.set_data(json.dumps(body))
    response.headers["ININ-Correlation-Id"] = context_id()
    if _is_api(request.path):
        rate = g.get("rate") or state.rate_status(time.monotonic())
        response.headers["inin-ratelimit-allowed"] = str(rate.limit)
        response.headers["inin-ratelimit-count"] = str(rate.count)
        response.headers["inin-ratelimit-reset"] = str(rate.reset)
    scheme = request.headers.get("Authorization", "").partition(" ")[0].lower()
    record = RequestRecord(
        method=request.method,
        path=request.path,
        query=request.args.to_dict(),
        status=response.status_code,
        at=g.get("arrived", time.monotonic()),
        auth=scheme if scheme in ("basic", "bearer") else None,
    )
    state.record(record)
    return response


def _set_field(body: Any, dotted: str, value: object) -> None:
    """Set ``dotted`` (``items.0.createdDate``) in ``body``; None deletes; no parent: no change."""
    *parents, last = dotted.split(".")
    node = body
    for part in parents:
        node = _child(node, part)
    if isinstance(node, dict):
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and (index := _index(node, last)) is not None:
        if value is None:
            del node[index]
        else:
            node[index] = value


def _index(node: list[Any], part: str) -> int | None:
    try:
        index = int(part)
    except ValueError:
        return None
    return index if -len(node) <= index < len(node) else None


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and (index := _index(node, part)) is not None:
        return node[index]
    return None


def _api_error(error: ApiError) -> Response:
    return json_response(error.body(), error.status)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if request.path.startswith(CONTROL_PREFIX):
        return json_response({"error": error.description}, status)
    if request.path.startswith(TOKEN_PATH):
        return json_response(status_oauth_error(status), status)
    return json_response(status_error(status, context_id()), status)
