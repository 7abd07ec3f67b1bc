"""Cerberus results turned into plain values.

A failed validation is a value, not an exception: ``problems`` returns a flat map
from a dotted field path to its messages, empty when the document is valid. The
same map becomes a 422 ``fields`` body or the text of a ``ValidationFailed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cerberus import Validator

from .errors import ValidationFailed


def problems(
    validator: Validator, document: Any, *, normalize: bool = True
) -> dict[str, list[str]]:
    """Validate ``document`` and return ``{dotted.path: [messages]}`` (empty when valid).

    ``normalize=False`` skips cerberus's normalisation pass (defaults, coercion), which is
    most of its cost: schemas that only check, on hot paths, should pass it.
    """
    if not isinstance(document, Mapping):
        return {"(document)": [f"must be a JSON object, not {type(document).__name__}"]}
    if validator.validate(dict(document), normalize=normalize):
        return {}
    flat: dict[str, list[str]] = {}
    _flatten(validator.errors, "", flat)
    return flat


def require_valid(validator: Validator, document: Any, what: str) -> None:
    """Raise ``ValidationFailed`` naming every bad field of ``document``."""
    found = problems(validator, document)
    if found:
        raise ValidationFailed(what, found)


def _flatten(node: Any, prefix: str, out: dict[str, list[str]]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str):
                out.setdefault(prefix or "(document)", []).append(item)
            else:
                _flatten(item, prefix, out)
    else:
        out.setdefault(prefix or "(document)", []).append(str(node))
