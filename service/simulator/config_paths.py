"""Dotted paths into a JSON body (``bullseye.rings.0.expansionCriteria.0.threshold``), as the
simulator's control API names the fields a change sets."""

from __future__ import annotations

from typing import Any


def set_path(doc: dict[str, Any], path: str, value: Any) -> Any:
    """Set dotted ``path`` (``bullseye.rings.0.expansionCriteria.0.threshold``) in ``doc``;
    the old value (None when new). ValueError naming the path when a parent is missing."""
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = _child(node, part, path)
    if isinstance(node, list):
        index = _index(node, last, path)
        old, node[index] = node[index], value
        return old
    if not isinstance(node, dict):
        raise ValueError(f"{path}: {'.'.join(parents)} holds no object or list")
    old = node.get(last)
    node[last] = value
    return old


def _index(node: list[Any], part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ValueError(f"{path}: {part!r} is no index of a list of {len(node)}")
    return int(part)


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if isinstance(node, dict) and isinstance(node.get(part), dict | list):
        return node[part]
    raise ValueError(f"{path}: no object or list at {part!r}")
