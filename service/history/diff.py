"""What changed between two archived versions: as text lines, or as JSON operations.

Both compare the documents as the history stores them (``layout.normalise``), so that
``archiver diff`` shows the change ``git diff`` of the history repository shows (a patch
git applies; git may pair the lines otherwise where several pairings fit), and the JSON
form reports a change exactly where the normalised text differs.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

Op = dict[str, Any]

_LINE_END = re.compile(r"(?<=\n)")
_ABSENT = object()  # a key or index one side lacks (None is JSON null)


def unified(old: bytes, new: bytes, old_label: str, new_label: str, *, context: int = 3) -> str:
    """A unified diff of two normalised documents, headed ``--- <old_label>`` and
    ``+++ <new_label>``; empty when they are equal (as ``git diff`` prints nothing)."""
    return "".join(
        difflib.unified_diff(
            _lines(old), _lines(new), fromfile=old_label, tofile=new_label, n=context
        )
    )


def label(side: str, path: str, version_id: str) -> str:
    """A diff header's file name: ``a/<tree path>@<version>`` (``side`` is ``a`` or ``b``)."""
    return f"{side}/{path}@{version_id}"


def _lines(document: bytes) -> list[str]:
    """Lines cut at ``\\n`` only: the text may hold U+2028 and other characters that
    ``str.splitlines`` would also cut at (``normalise`` keeps non-ASCII as it is)."""
    return [line for line in _LINE_END.split(document.decode("utf-8")) if line]


def json_changes(old: Any, new: Any) -> list[Op]:
    """The operations that turn ``old`` into ``new``, in document order (keys sorted,
    array indexes ascending); ``[]`` when the two are equal.

    ``{"op": "replace", "path", "old", "new"}`` for a changed value; ``{"op": "add",
    "path", "new"}`` and ``{"op": "remove", "path", "old"}`` for a key or array item only
    one side has, its whole subtree in one operation. The absent side is left out rather
    than set to null, which would read as a JSON null that was there. Arrays are compared
    index by index; each path names a place in the document it was read from (``old``'s
    for a removal, ``new``'s otherwise), not a step of a patch to apply in turn.
    """
    changes: list[Op] = []
    _compare(old, new, "", changes)
    return changes


def pointer(parent: str, token: str | int) -> str:
    """``parent`` extended by one RFC 6901 reference token (``~`` as ``~0``, ``/`` as ``~1``)."""
    return f"{parent}/{str(token).replace('~', '~0').replace('/', '~1')}"


def _compare(old: Any, new: Any, path: str, changes: list[Op]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            _member(old.get(key, _ABSENT), new.get(key, _ABSENT), pointer(path, key), changes)
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            _member(_at(old, index), _at(new, index), pointer(path, index), changes)
    elif _text(old) != _text(new):
        changes.append({"op": "replace", "path": path, "old": old, "new": new})


def _member(old: Any, new: Any, path: str, changes: list[Op]) -> None:
    """One key of two objects, or one index of two arrays, either side maybe absent."""
    if new is _ABSENT:
        changes.append({"op": "remove", "path": path, "old": old})
    elif old is _ABSENT:
        changes.append({"op": "add", "path": path, "new": new})
    else:
        _compare(old, new, path, changes)


def _at(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else _ABSENT


def _text(value: Any) -> str:
    """A value as the normalised document writes it: ``1``, ``1.0`` and ``true`` differ,
    as they do in the text diff."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
