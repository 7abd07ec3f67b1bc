"""The simulator's response bodies, shaped field for field like the real API's.

Field names and JSON types follow the SDK models (flows, errors) and the contract's
section 3 (routing strategies), so clients built against the simulator parse Genesys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .data import CLIENT, DIVISION, Item, Person, Version, seeded_id

# Offsets of the later dates of a version from its creation, as in the samples.
SAVED_AFTER_MS = 45_000
CHECKED_IN_AFTER_MS = 90_000
PUBLISHED_AFTER_MS = 135_000
MODIFIED_AFTER_MS = 90_000


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds and ``Z``, as Genesys writes it."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ref(person: Person, collection: str) -> dict[str, Any]:
    """An ``{id, name, selfUri}`` reference to a user, OAuth client or division."""
    return {"id": person.id, "name": person.name, "selfUri": f"/api/v2/{collection}/{person.id}"}


def strategy_doc(item: Item) -> dict[str, Any]:
    """A routing strategy: ``id, name, type, version, createdDate, modifiedDate``."""
    newest = item.newest
    modified = newest.created_ms + MODIFIED_AFTER_MS if newest else item.created_ms
    return {
        "id": item.id,
        "name": item.name,
        "type": item.type,
        "version": newest.number if newest else 0,
        "createdDate": iso(item.created_ms),
        "modifiedDate": iso(modified),
    }


def strategy_version_doc(version: Version) -> dict[str, Any]:
    """A routing strategy version: ``id, version, createdDate, modifiedDate, createdBy``."""
    return {
        "id": version.id,
        "version": version.number,
        "createdDate": iso(version.created_ms),
        "modifiedDate": iso(version.created_ms + MODIFIED_AFTER_MS),
        "createdBy": {"id": version.author.id, "name": version.author.name},
    }


def flow_version_ref(item: Item, version: Version) -> dict[str, Any]:
    """The partial FlowVersion embedded in a Flow (``checkedInVersion`` and friends)."""
    base = f"/api/v2/flows/{item.id}/versions/{version.id}"
    return {
        "id": version.id,
        "name": version.id,
        "commitVersion": version.id,
        "configurationVersion": version.id,
        "secure": False,
        "configurationUri": f"{base}/configuration",
        "selfUri": base,
    }


def flow_version_doc(item: Item, version: Version) -> dict[str, Any]:
    """A full FlowVersion: integer epoch-millisecond dates, ``datePublished`` only if published."""
    doc = flow_version_ref(item, version)
    doc["type"] = version.kind
    doc["debug"] = False
    doc["createdBy"] = ref(version.author, "users")
    doc["createdByClient"] = ref(CLIENT, "oauth/clients")
    doc["dateCreated"] = version.created_ms
    doc["dateSaved"] = version.created_ms + SAVED_AFTER_MS
    if version.kind != "SAVE":
        doc["dateCheckedIn"] = version.created_ms + CHECKED_IN_AFTER_MS
    if version.kind == "PUBLISH":
        doc["datePublished"] = iso(version.created_ms + PUBLISHED_AFTER_MS)
    doc["generationId"] = seeded_id(item.id, version.id, "generation")
    if version.kind == "PUBLISH":
        doc["publishResultUri"] = f"{doc['selfUri']}/publishresult"
    for name in version.missing:
        doc.pop(name, None)
    return doc


def flow_doc(item: Item) -> dict[str, Any]:
    """A Flow with its checked-in, saved and published versions as partial refs."""
    checked_in = next((v for v in reversed(item.versions) if v.kind != "SAVE"), None)
    published = next((v for v in reversed(item.versions) if v.kind == "PUBLISH"), None)
    doc: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "division": ref(DIVISION, "authorization/divisions"),
        "description": item.description,
        "type": item.type,
        "active": published is not None,
        "system": False,
        "deleted": False,
        "selfUri": f"/api/v2/flows/{item.id}",
    }
    if checked_in:
        doc["checkedInVersion"] = flow_version_ref(item, checked_in)
    if item.newest:
        doc["savedVersion"] = flow_version_ref(item, item.newest)
    if published:
        doc["publishedVersion"] = flow_version_ref(item, published)
        doc["publishedBy"] = ref(published.author, "users")
    return doc


def flow_configuration(item: Item, version: Version) -> dict[str, Any]:
    """An Architect configuration in the shape code in the wild reads (reference section 4):
    sequence items with actions, variables, a manifest of the objects referred to, and
    ``flowMetaData``. Its menu and timeout differ from one version to the next."""
    choices = 1 + version.number % 5
    tracking = iter(range(1, 1000))

    def key(*parts: str) -> str:
        return seeded_id(item.id, version.id, *parts)

    queues = [Person(seeded_id("queue", str(n)), f"Queue {n}") for n in range(1, choices + 1)]
    tasks = [_transfer_task(key, next(tracking), n, queue) for n, queue in enumerate(queues, 1)]
    menu = {
        "__type": "Menu",
        "id": key("menu"),
        "name": "Main Menu",
        "trackingId": next(tracking),
        "menuChoiceList": [
            {
                "__type": "MenuJumpToTask",
                "id": key("choice", str(n)),
                "digit": str(n),
                "name": f"Choice {n}",
                "trackingId": next(tracking),
                "action": {"targetTaskRef": task["id"]},
            }
            for n, task in enumerate(tasks, 1)
        ],
        "timeout": _literal(str(10 * (version.number + 2)), "Integer", 10 * (version.number + 2)),
        "actionList": [],
        "variables": [],
    }
    return {
        "name": item.name,
        "description": item.description,
        "type": item.type.lower(),
        "defaultLanguage": "en-us",
        "supportedLanguages": ["en-us"],
        "supportedLanguageOptions": [{"language": "en-us", "languageSkill": "English"}],
        "initialSequence": menu["id"],
        "nextTrackingNumber": next(tracking),
        "variables": [
            {
                "__type": "StringVariable",
                "name": "Flow.Greeting",
                "initialValue": {"text": f'"Welcome to {item.name}"'},
                "description": "Played first",
            }
        ],
        "flowSequenceItemList": [menu, *tasks],
        "manifest": {
            "queue": [{"id": q.id, "name": q.name} for q in queues],
            "language": [{"id": "en-us"}],
        },
        "flowMetaData": {
            "flowDocumentVersion": "1.0",
            "minimumServerVersion": "1.0",
            "ttsDataVersion": "1.0",
        },
        "uiMetaData": {"lastEditedBy": version.author.name},
        "errorHandling": {"action": {"__type": "DisconnectAction"}},
    }


def _transfer_task(key: Callable[..., str], tracking: int, n: int, queue: Person) -> dict[str, Any]:
    """A task that transfers to ``queue`` and, should that fail, disconnects."""
    transfer, disconnect = key("task", str(n), "transfer"), key("task", str(n), "disconnect")
    return {
        "__type": "Task",
        "id": key("task", str(n)),
        "name": f"Task {n}",
        "trackingId": tracking,
        "startAction": transfer,
        "actionList": [
            {
                "__type": "TransferPureMatchAction",
                "id": transfer,
                "name": f"Transfer to {queue.name}",
                "trackingId": 100 * n + 1,
                "queues": [_literal(queue.name, "Queue", queue.id)],
                "paths": [{"label": "failure", "outputId": "failure", "nextActionId": disconnect}],
            },
            {
                "__type": "DisconnectAction",
                "id": disconnect,
                "name": "Disconnect",
                "trackingId": 100 * n + 2,
            },
        ],
        "variables": [],
    }


def _literal(text: str, kind: str, value: Any) -> dict[str, Any]:
    """An Architect expression holding a literal: its id or value sits in ``config.lit.val``."""
    return {"text": text, "type": kind, "config": {"lit": {"val": value}}, "version": "1.0"}


def error_body(
    status: int,
    code: str,
    template: str,
    context_id: str,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Genesys ``ErrorBody``; ``template`` has ``{name}`` placeholders filled from ``params``."""
    params = params or {}
    message = template
    for name, value in params.items():
        message = message.replace("{" + name + "}", value)
    return {
        "message": message,
        "code": code,
        "status": status,
        "messageWithParams": template,
        "messageParams": params,
        "contextId": context_id,
        "details": [],
        "errors": [],
    }


def oauth_error(error: str, description: str) -> dict[str, str]:
    """The login host's error shape, which differs from the API's ``ErrorBody``."""
    return {"error": error, "description": description, "error_description": description}


# Code and message of an injected or generic failure, by HTTP status.
STATUS_CODES: dict[int, tuple[str, str]] = {
    400: (
        "bad.request",
        "The request could not be understood by the server due to malformed syntax.",
    ),
    401: (
        "authentication.required",
        "No authentication bearer token specified in authorization header.",
    ),
    403: ("missing.permissions", "You are not authorized to perform the requested action."),
    404: ("not.found", "The requested resource was not found."),
    405: ("method.not.allowed", "The requested method is not allowed for this resource."),
    408: ("client.timeout", "The client did not produce a request in time."),
    409: ("general.conflict", "The request conflicts with the current state of the resource."),
    410: ("architect.flow.deleted", "The requested flow has been deleted."),
    429: (
        "too.many.requests",
        "Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds",
    ),
    500: ("internal.server.error", "The server encountered an unexpected condition."),
    502: ("bad.gateway", "The server received an invalid response from an upstream server."),
    503: ("service.unavailable", "The service is currently unavailable."),
    504: (
        "request.timeout",
        "The server did not receive a timely response from an upstream server.",
    ),
}

OAUTH_ERRORS: dict[int, str] = {
    400: "invalid_request",
    401: "invalid_client",
    403: "unauthorized_client",
    429: "too_many_requests",
    503: "temporarily_unavailable",
}


def status_error(status: int, context_id: str, seconds: str = "1") -> dict[str, Any]:
    """The ErrorBody of a failure known only by its status (injected faults, unknown routes)."""
    code, template = STATUS_CODES.get(status, ("http.error", f"The request failed with {status}."))
    params = {"seconds": seconds} if "{seconds}" in template else {}
    return error_body(status, code, template, context_id, params)


def status_oauth_error(status: int) -> dict[str, str]:
    """The OAuth-style body of a failure of the token endpoint known only by its status."""
    error = OAUTH_ERRORS.get(status, "server_error")
    return oauth_error(error, f"The token request failed with status {status}.")
