"""What an inbound body must look like, and the one function that names what is wrong with it.

A spec maps a field name to a ``Field`` rule; ``check`` walks a document once and returns
each bad field under its dotted path with what is wrong (empty: the document passes). It
is the only shape check of the webhook path, so it is written for speed: it does only the
work a rule asks for, and builds paths and messages only for the fields that fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Fields = dict[str, list[str]]

# The messages a 422 has always carried (the words cerberus uses for the same rules).
REQUIRED = "required field"
NULL = "null value not allowed"
EMPTY = "empty values not allowed"
SURROGATE = "must not contain unpaired UTF-16 surrogate escapes"
_TYPE_NAMES: dict[type, str] = {str: "string", dict: "dict", bool: "boolean"}

# JSON allows lone surrogates (``"\ud800"``); the ledger's UTF-8 cannot store them.
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Field:
    """The rule of one field: its JSON type and what else its value must be."""

    kind: type[Any]  # str, dict or bool
    required: bool = False  # absent: refused (present and null is ``nullable``'s business)
    nullable: bool = False
    empty: bool = True  # text or object: may be "" or {}
    stored: bool = False  # text we store: no unpaired surrogates
    fields: Spec | None = None  # an object's own fields; others are allowed and not read

    def __post_init__(self) -> None:
        if self.kind not in _TYPE_NAMES:
            raise TypeError(f"a field is a string, an object or a boolean, not {self.kind}")
        if (self.stored and self.kind is not str) or (self.fields and self.kind is not dict):
            raise TypeError("stored applies to text, fields to objects")
        if not self.empty and self.kind is bool:
            raise TypeError("empty applies to text and objects")


Spec = Mapping[str, Field]


def check(spec: Spec, document: dict[str, Any]) -> Fields:
    """Every field of ``document`` that breaks ``spec``: ``{dotted.path: [message]}``."""
    found: Fields = {}
    _walk(spec, document, "", found)
    return found


def _walk(spec: Spec, document: dict[str, Any], at: str, found: Fields) -> None:
    for name, rule in spec.items():
        value = document.get(name)
        if value is None:
            if name in document:
                if not rule.nullable:
                    _add(found, at, name, NULL)
            elif rule.required:
                _add(found, at, name, REQUIRED)
        elif not isinstance(value, rule.kind):
            _add(found, at, name, f"must be of {_TYPE_NAMES[rule.kind]} type")
        elif not rule.empty and not value:
            _add(found, at, name, EMPTY)
        elif rule.stored:
            # ``isascii`` reads a flag of the string: the search runs only on other text.
            if not value.isascii() and _SURROGATES.search(value):
                _add(found, at, name, SURROGATE)
        elif rule.fields is not None:
            _walk(rule.fields, value, f"{at}.{name}" if at else name, found)


def _add(found: Fields, at: str, name: str, message: str) -> None:
    found.setdefault(f"{at}.{name}" if at else name, []).append(message)


# The shapes of inbound bodies. Only the fields we read are checked: Genesys and AWS add
# fields over time, and a 422 makes EventBridge drop the event for good.

STORED = Field(str, nullable=True, stored=True)  # a name or id we may store, or null
OPTIONAL_TEXT = Field(str, nullable=True)  # compared, never stored
# ``{id, name}`` of a user or OAuth client who made a change.
REF = Field(dict, nullable=True, fields={"id": STORED, "name": STORED})

NOTIFICATION: Spec = {
    "topicName": Field(str, required=True, empty=False, stored=True),
    "eventBody": Field(dict, required=True),
    "metadata": Field(dict, nullable=True, fields={"CorrelationId": STORED}),
}

EVENTBRIDGE: Spec = {
    "id": Field(str, required=True, empty=False, stored=True),
    "detail": Field(dict, required=True, fields=NOTIFICATION),
}

# ``eventBody`` of the topics we archive, checked once the topic is known.
BODIES: dict[str, Spec] = {
    "routing-strategy": {"id": OPTIONAL_TEXT},
    "flow": {
        "id": OPTIONAL_TEXT,
        "currentOperation": Field(
            dict,
            nullable=True,
            fields={
                "complete": Field(bool, nullable=True),
                "actionName": STORED,
                "actionStatus": STORED,
                "user": REF,
                "client": REF,
            },
        ),
    },
}

# ``eventBody`` of the audit topic (the audit log message) for an entity type we archive.
AUDIT: Spec = {
    "action": Field(str, required=True, empty=False, stored=True),
    "entityType": OPTIONAL_TEXT,
    "entity": Field(dict, nullable=True, fields={"id": OPTIONAL_TEXT}),
    "userId": STORED,
    "userDisplay": STORED,
    "username": REF,  # an object despite its name: {id, name, selfUri}
    "clientId": REF,  # an object despite its name: {id, selfUri}
}
