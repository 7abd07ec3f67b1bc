"""Identifier checks and the deterministic keys derived from ids."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from .errors import UsageError

# Namespace of every idempotency key this product derives (UUIDv5). Never change it:
# keys must stay the same across versions of the product, restarts and machines.
KEY_NAMESPACE = uuid.UUID("6f1d3b0e-51a4-5c1e-9a37-7d0c2e8b4f10")


# The one id check of the product: 8-4-4-4-12 hex digits, any case, the WHOLE value.
# ``fullmatch`` (never ``$``, which also matches before a final newline); ASCII digits only.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I | re.A)
UUID_FORM = "a UUID (8-4-4-4-12 hex digits, nothing around them)"


def canonical_uuid(value: object) -> str | None:
    """``value`` in canonical lower-case form when it is exactly a UUID, else None."""
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value.lower()
    return None


def require_uuid(value: str, what: str = "strategy id") -> str:
    """Return ``value`` in canonical lower-case form, or raise ``UsageError`` naming it."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise UsageError(f"{what} must be a UUID, got {value!r}")
    return canonical


def check_uuid(field: str, value: Any, error: Callable[[str, str], None]) -> None:
    """Cerberus ``check_with``: the field is a UUID (any case), by ``canonical_uuid``."""
    if canonical_uuid(value) is None:
        error(field, f"must be {UUID_FORM}")


def check_lower_uuid(field: str, value: Any, error: Callable[[str, str], None]) -> None:
    """Cerberus ``check_with``: the field is a UUID already in canonical lower-case form."""
    if canonical_uuid(value) != value:
        error(field, f"must be {UUID_FORM}, in lower case")


def idempotency_key(source_type: str, strategy_id: str, version_ids: Iterable[str]) -> str:
    """UUIDv5 of the source, the strategy and the sorted version ids: same versions, same key."""
    name = "\n".join([source_type, strategy_id.lower(), *sorted(version_ids)])
    return str(uuid.uuid5(KEY_NAMESPACE, name))
