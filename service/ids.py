"""Identifier checks and the deterministic keys derived from ids."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from .errors import UsageError

# Namespace of every idempotency key this product derives (UUIDv5). Never change it:
# keys must stay the same across versions of the product, restarts and machines.
KEY_NAMESPACE = uuid.UUID("6f1d3b0e-51a4-5c1e-9a37-7d0c2e8b4f10")


def require_uuid(value: str, what: str = "strategy id") -> str:
    """Return ``value`` in canonical lower-case form, or raise ``UsageError`` naming it."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        raise UsageError(f"{what} must be a UUID, got {value!r}") from None
    if str(parsed) != str(value).lower():
        raise UsageError(f"{what} must be a UUID in its 8-4-4-4-12 form, got {value!r}")
    return str(parsed)


def idempotency_key(source_type: str, strategy_id: str, version_ids: Iterable[str]) -> str:
    """UUIDv5 of the source, the strategy and the sorted version ids: same versions, same key."""
    name = "\n".join([source_type, strategy_id.lower(), *sorted(version_ids)])
    return str(uuid.uuid5(KEY_NAMESPACE, name))
