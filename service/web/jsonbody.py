"""Request bodies read as JSON, the one way every view of the web process reads them.

The nesting depth is checked on the raw bytes before anything parses them: Python's
parser and encoder recurse, and a body nested about a thousand levels deep parsed fine
but broke the de-duplication digest afterwards (a ``RecursionError``, answered 500).
Genesys and EventBridge bodies nest under ten levels; ``MAX_DEPTH`` leaves ample room.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

# An escape (``\"``, ``\\``, ``\u005b``...): removed first, so that every quote left opens or
# closes a string. Outside strings JSON has no backslash, so nothing else is lost.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_KEPT = b'"[]{}'
_DROPPED = bytes(b for b in range(256) if b not in _KEPT)
# +1 for an opening bracket, -1 for a closing one, indexed by byte value.
_STEP = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``raw`` opens more than ``limit`` arrays or objects inside one another.

    Brackets are counted outside strings, without parsing and without recursion, in
    C-speed steps only (``count``, ``translate``, ``split``, ``accumulate``): it runs on
    every webhook. A body that is not JSON may be miscounted; parsing then refuses it.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case: too few brackets to nest that deep at all
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)
    # Quotes and brackets only; then every other piece between quotes is outside strings.
    outside = b"".join(raw.translate(None, _DROPPED).split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, outside)), default=0) > limit


def read_json(raw: bytes) -> tuple[Any, str | None]:
    """The body as JSON, or why it is not JSON this service reads (for a 400 answer)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"the body is not UTF-8: {exc.reason} at byte {exc.start}"
    if too_deep(raw):
        return None, f"the body is nested deeper than {MAX_DEPTH} levels"
    try:
        return json.loads(text, parse_constant=_no_constant), None
    except ValueError as exc:
        return None, f"the body is not JSON: {exc}"
    except RecursionError:  # cannot happen below MAX_DEPTH; kept so that it never is a 500
        return None, "the body is not JSON this service reads: it is nested too deeply"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
