"""``POST /webhooks/genesys``: authenticate, read and check the body, record it, answer.

Nothing here calls Genesys or waits on anything but the ledger's one commit:
EventBridge API destinations give up on an answer after 5 s.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..extensions import ingest, settings
from ..genesys.sources import enabled_types
from ..ledger import present
from ..ops import metrics
from ..web.errors import error_response
from ..web.jsonbody import read_json
from .auth import CHALLENGE, TOKEN_HEADER, is_authorized
from .events import ignore_disabled, parse_body

log = logging.getLogger("service.inbound")

blueprint = Blueprint("webhooks", __name__)
# Every answer is counted by result and timed, whichever way the view (or Flask) ends it.
blueprint.before_request(metrics.start_ingest_timer)
blueprint.after_request(metrics.count_webhook)

SHAPE_ERROR = "the body is not a Genesys notification, an EventBridge event or an array of them"


@blueprint.post("/webhooks/genesys")
def receive() -> tuple[Response, int]:
    """Record one delivery's events durably, queue or join their jobs, answer 202."""
    headers = request.headers
    if not is_authorized(
        headers.get("Authorization"), headers.get(TOKEN_HEADER), settings().inbound_token
    ):
        response, status = _refuse(401, "a valid INBOUND_TOKEN is required")
        response.headers["WWW-Authenticate"] = CHALLENGE
        return response, status
    if request.mimetype != "application/json":
        return _refuse(415, "the body must be application/json")
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        return _refuse(413, f"the body must be at most {limit} bytes")
    raw = request.get_data(cache=False)  # over the limit with a Content-Length: 413 here
    if request.content_length is None and len(raw) >= limit:
        # A chunked body has no length: werkzeug stops reading at the limit without a word.
        return _refuse(413, f"the body must be under {limit} bytes when sent chunked")
    document, problem = read_json(raw)  # nesting depth checked before parsing
    if problem:
        return _refuse(400, problem)
    parsed = parse_body(document)
    if parsed.fields:
        # The paths of the bad fields, never their values: the body stays out of the logs.
        return _refuse(422, SHAPE_ERROR, fields=parsed.fields)
    events = ignore_disabled(parsed.events, enabled_types(settings().sources))
    accepted = ingest().accept(events)
    # One line per request only at DEBUG: at thousands of requests a second INFO would flood.
    log.debug(
        "webhook accepted: %d event(s), %d duplicate(s), %d ignored",
        accepted.accepted,
        accepted.duplicates,
        accepted.ignored,
        extra={"job_ids": accepted.jobs},
    )
    return jsonify(present.accepted(accepted)), 202


def _refuse(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """The error answer, logged with its reason (never the body or a token)."""
    fields = {"fields": sorted(extra["fields"])[:10]} if "fields" in extra else {}
    log.info(
        "webhook refused: %d %s",
        status,
        message,
        extra={"status": status, "remote_addr": request.remote_addr, **fields},
    )
    return error_response(status, message, **extra)
