"""Admin API (contract section 7): queue an archive, read archives and jobs.

Bearer ``ADMIN_TOKEN``; when it is unset the routes do not exist (404), so that an
installation without an admin token exposes nothing.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from cerberus import Validator
from flask import Blueprint, Response, abort, jsonify, request

from ..archive.store import read_document
from ..errors import StorageError
from ..extensions import ledger, settings
from ..genesys.sources import SOURCE_TYPES, enabled_types
from ..ids import check_uuid
from ..inbound.auth import bearer_token
from ..ledger import archives, audit, jobs, present
from ..validation import problems
from .errors import error_response
from .jsonbody import read_json

blueprint = Blueprint("admin", __name__)

# Ids are checked by ``ids.canonical_uuid``, the product's one id check (a whole-value match).
_UUID = {"type": "string", "check_with": check_uuid}
_ARCHIVE_REQUEST = Validator(
    {
        "strategyId": {**_UUID, "required": True},
        # Optional: flow, the one source every Genesys Cloud org has (contract section 3).
        "sourceType": {"type": "string", "allowed": list(SOURCE_TYPES)},
        "full": {"type": "boolean"},
    },
    allow_unknown=False,
)
_LISTING = Validator(
    {
        "strategyId": _UUID,
        "limit": {"type": "integer", "coerce": int, "min": 1, "max": 500},
    },
    allow_unknown=False,
)


@blueprint.before_request
def _authenticate() -> tuple[Response, int] | None:
    expected = settings().admin_token
    if not expected:
        abort(404)
    given = bearer_token(request.headers.get("Authorization"))
    if given is None or not hmac.compare_digest(given, expected.encode()):
        return error_response(401, "Authorization: Bearer <ADMIN_TOKEN> is required")
    return None


@blueprint.post("/archives")
def request_archive() -> tuple[Response, int]:
    """Queue (or join) an archive job for one strategy."""
    body, problem = read_json(request.get_data(cache=False))
    if problem:
        return error_response(400, problem)
    found = problems(_ARCHIVE_REQUEST, body)
    if found or not isinstance(body, dict):
        return error_response(422, "the request body is not a valid archive request", fields=found)
    source_type = body.get("sourceType", "flow")
    if source_type not in enabled_types(settings().sources):
        message = f"{source_type} is not among the source types SOURCES enables"
        fields = {"sourceType": [message]}
        return error_response(422, "the request body is not a valid archive request", fields=fields)
    strategy_id = body["strategyId"].lower()
    with ledger().transaction():
        job_id, joined = jobs.enqueue(
            ledger(),
            strategy_id,
            source_type,
            reason="admin",
            full=bool(body.get("full")),
        )
        audit.append(ledger(), "admin.archive_requested", strategy_id, jobId=job_id, joined=joined)
    return jsonify({"jobId": job_id}), 202


@blueprint.get("/archives")
def list_archives() -> tuple[Response, int]:
    """Archives, newest first, optionally of one strategy."""
    query = request.args.to_dict()
    found = problems(_LISTING, query)
    if found:
        return error_response(422, "bad query parameters", fields=found)
    limit = int(query.get("limit", 50))
    strategy_id = query.get("strategyId", "").lower() or None
    records = archives.list_archives(ledger(), strategy_id=strategy_id, limit=limit)
    return jsonify({"archives": [present.archive(r) for r in records]}), 200


@blueprint.get("/archives/<archive_id>")
def get_archive(archive_id: str) -> tuple[Response, int]:
    """One archive, named by its id or by its idempotency key (the name of its document),
    with its payload read from cold storage and checked against its hash."""
    name = archive_id.lower()
    record = archives.get_archive(ledger(), name) or archives.find_archive(ledger(), name)
    if record is None:
        return error_response(404, f"no archive with id or key {archive_id}")
    answer: dict[str, Any] = present.archive(record)
    try:
        data = read_document(settings().archive_dir, record.location, record.sha256)
    except StorageError as exc:
        return error_response(500, str(exc), archive=answer)
    answer["payload"] = json.loads(data)
    return jsonify(answer), 200


@blueprint.get("/jobs/<job_id>")
def get_job(job_id: str) -> tuple[Response, int]:
    """A job's state, tries and last error."""
    job = jobs.get_job(ledger(), job_id)
    if job is None:
        return error_response(404, f"no job {job_id}")
    return jsonify(present.job(job)), 200
