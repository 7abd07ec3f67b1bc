"""Where a version lives in the history tree and what its file holds (contract section 10).

Both are functions of the archived version alone, so that the live history, a rebuild
and `archiver show`/`diff` agree byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

from .jsontext import dumps_sorted_indented

SLUG_MAX = 60
_OUTSIDE = re.compile(r"[^a-z0-9]+")


def slug(name: str | None) -> str:
    """The object's name in lower case, runs outside ``a-z0-9`` as one ``-``, at most 60
    characters, trimmed of ``-``; ``unnamed`` when nothing is left."""
    text = _OUTSIDE.sub("-", (name or "").lower())[:SLUG_MAX].strip("-")
    return text or "unnamed"


def tree_path(source_type: str, object_id: str, name: str | None) -> str:
    """``<sourceType>/<slug>--<id>.json``: one file per object."""
    return f"{source_type}/{slug(name)}--{object_id}.json"


def normalise(document: Any) -> bytes:
    """The document as the history stores it: sorted keys, two-space indent, UTF-8, one
    final newline."""
    text = dumps_sorted_indented(document) + "\n"  # json.dumps(sort_keys, indent=2), faster
    return text.encode("utf-8")
