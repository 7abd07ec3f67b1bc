"""Cerberus schemas of the Genesys Cloud bodies we read, one validator each.

Genesys adds fields over time, so unknown fields are allowed everywhere; the
fields we use are required with their types, so a changed or corrupted answer
fails with a message naming the field instead of a ``KeyError`` deep in a job.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

from cerberus import Validator

from ..validation import problems, require_valid

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


class GenesysValidator(Validator):
    """Cerberus with the one check it lacks: an ISO-8601 date-time string with a zone."""

    def _check_with_iso_datetime(self, field: str, value: Any) -> None:
        if not _ISO.match(value):
            self._error(field, "must be an ISO-8601 date-time with a time zone")
            return
        try:
            datetime.fromisoformat(value)
        except ValueError:
            self._error(field, "must be an ISO-8601 date-time with a time zone")


def _str(required: bool = False, **rules: Any) -> dict[str, Any]:
    return {"type": "string", "required": required, **rules}


def _opt(rule: dict[str, Any]) -> dict[str, Any]:
    """An optional field that Genesys may also send as ``null``."""
    return {**rule, "required": False, "nullable": True}


_ISO_DATE = _str(True, check_with="iso_datetime")
_EPOCH_MS = {"type": "integer", "min": 0}
_NAMED = {"type": "dict", "allow_unknown": True, "schema": {"name": _opt(_str())}}

TOKEN = {
    "access_token": _str(True, empty=False),
    "token_type": _str(True, empty=False),
    "expires_in": {"type": "integer", "required": True, "min": 1},
}

OAUTH_ERROR = {
    "error": _opt(_str()),
    "description": _opt(_str()),
    "error_description": _opt(_str()),
}

ERROR_BODY = {
    "message": _opt(_str()),
    "code": _opt(_str()),
    "status": _opt({"type": "integer"}),
    "contextId": _opt(_str()),
}

ROUTING_STRATEGY = {
    "id": _str(True, empty=False),
    "name": _str(True),
    "type": _opt(_str()),
    "version": _opt({"type": "integer"}),
    "createdDate": _opt(_ISO_DATE),
    "modifiedDate": _opt(_ISO_DATE),
}

ROUTING_VERSION = {
    "id": _str(True, empty=False),
    "version": {"type": "integer", "required": True, "min": 0},
    "createdDate": _ISO_DATE,
    "modifiedDate": _ISO_DATE,
    "createdBy": _opt(_NAMED),
}


def _cursor_page(item: dict[str, Any] | None) -> dict[str, Any]:
    """A cursor listing; ``item`` None leaves each entry to be checked on its own."""
    items: dict[str, Any] = {"type": "list", "required": True}
    if item is not None:
        items["schema"] = {"type": "dict", "allow_unknown": True, "schema": item}
    return {
        "items": items,
        "nextUri": _opt(_str()),
    }


def _numbered_page(entity: dict[str, Any] | None) -> dict[str, Any]:
    """A page-number listing; ``entity`` None leaves each entry to be checked on its own."""
    entities: dict[str, Any] = {"type": "list", "required": True}
    if entity is not None:
        entities["schema"] = {"type": "dict", "allow_unknown": True, "schema": entity}
    return {
        "entities": entities,
        "pageSize": _opt({"type": "integer"}),
        "pageNumber": _opt({"type": "integer"}),
        "pageCount": _opt({"type": "integer"}),
        "total": _opt({"type": "integer"}),
        "nextUri": _opt(_str()),
    }


FLOW = {
    "id": _str(True, empty=False),
    "name": _str(True),
    "type": _opt(_str()),
}

# Version ids are strings of no documented form ("2.0" in every sample); the leading
# integer that numbers a version is checked where the entry is read (sources.py).
FLOW_VERSION = {
    "id": _str(True, empty=False),
    "dateCreated": {**_EPOCH_MS, "required": True},
    "dateSaved": _opt(_EPOCH_MS),
    "dateCheckedIn": _opt(_EPOCH_MS),
    "datePublished": _opt(_ISO_DATE),
    "createdBy": _opt(_NAMED),
    "createdByClient": _opt(_NAMED),
}

# A routing-configuration object read whole (a queue, an IVR...: contract section 12).
ROUTING_OBJECT = {
    "id": _str(True, empty=False),
    "name": _str(True, empty=False),
    "version": _opt({"type": "integer", "min": 0}),
    "state": _opt(_str()),
    "dateModified": _opt(_ISO_DATE),
    "modifiedBy": _opt(_str()),
}

# A decision table version as listed: its ``id`` is the table's, ``version`` its number.
DECISION_TABLE_VERSION = {
    "version": {"type": "integer", "required": True, "min": 1},
    "status": _str(True, empty=False),
    "dateCreated": _opt(_ISO_DATE),
    "dateModified": _opt(_ISO_DATE),
    "datePublished": _opt(_ISO_DATE),
}

# name -> (what a message calls it, schema)
SCHEMAS: dict[str, tuple[str, dict[str, Any]]] = {
    "token": ("Genesys OAuth token response", TOKEN),
    "oauth error": ("Genesys OAuth error body", OAUTH_ERROR),
    "error": ("Genesys error body", ERROR_BODY),
    "routing strategy": ("Genesys routing strategy", ROUTING_STRATEGY),
    "routing strategies page": ("Genesys routing strategies page", _cursor_page(ROUTING_STRATEGY)),
    # Version listings check each entry apart ("routing strategy version", "flow version"):
    # one bad entry is left out of an archive, not a reason to refuse the whole page.
    "routing strategy version": ("Genesys routing strategy version", ROUTING_VERSION),
    "routing strategy versions page": (
        "Genesys routing strategy versions page",
        _cursor_page(None),
    ),
    "flow": ("Genesys flow", FLOW),
    "flows page": ("Genesys flows page", _numbered_page(FLOW)),
    "flow version": ("Genesys flow version", FLOW_VERSION),
    "flow versions page": ("Genesys flow versions page", _numbered_page(None)),
    "flow configuration": ("Genesys flow configuration", {}),
    "routing object": ("Genesys routing configuration object", ROUTING_OBJECT),
    # Page numbers or ``after`` cursors, both ``{entities, nextUri}``; entries are only listed.
    "routing objects page": (
        "Genesys routing configuration listing",
        _numbered_page({"id": _str(True, empty=False)}),
    ),
    # Checked entry by entry: one bad version is left out, the others archived.
    "decision table version": ("Genesys decision table version", DECISION_TABLE_VERSION),
    "decision table versions page": ("Genesys decision table versions page", _numbered_page(None)),
    "decision table rows page": (
        "Genesys decision table rows page",
        _numbered_page({"rowIndex": {"type": "integer", "required": True, "min": 1}}),
    ),
}

# A validator keeps the state of its last run, so each one is used under its own lock.
_VALIDATORS: dict[str, tuple[str, Validator, threading.Lock]] = {
    name: (what, GenesysValidator(schema, allow_unknown=True), threading.Lock())
    for name, (what, schema) in SCHEMAS.items()
}


def validate(name: str, document: Any) -> None:
    """Raise ``ValidationFailed`` naming each bad field of ``document`` against schema ``name``."""
    what, validator, lock = _lookup(name)
    with lock:
        require_valid(validator, document, what)


def check(name: str, document: Any) -> dict[str, list[str]]:
    """The bad fields of ``document`` against schema ``name`` (empty when it is valid)."""
    _, validator, lock = _lookup(name)
    with lock:
        return problems(validator, document)


def conforms(name: str, document: Any) -> bool:
    """Whether ``document`` matches schema ``name``: for error bodies, read only if they do."""
    _, validator, lock = _lookup(name)
    with lock:
        return not problems(validator, document)


def _lookup(name: str) -> tuple[str, Validator, threading.Lock]:
    try:
        return _VALIDATORS[name]
    except KeyError:
        raise ValueError(f"no Genesys schema named {name!r}") from None
