"""The text and JSON diffs of two normalised documents."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.history.diff import json_changes, label, pointer, unified
from service.history.layout import normalise

OLD = {"name": "Main inbound", "menu": {"timeout": 30, "choices": ["1", "2"]}, "gone": {"a": 1}}
NEW = {"name": "Main inbound", "menu": {"timeout": 40, "choices": ["1", "2", "3"]}, "new": [1]}


def test_the_unified_diff_is_headed_by_the_labels_and_shows_each_changed_line() -> None:
    text = unified(normalise(OLD), normalise(NEW), "a/flow/x--1.json@1.0", "b/flow/x--1.json@2.0")
    lines = text.splitlines()
    assert lines[:2] == ["--- a/flow/x--1.json@1.0", "+++ b/flow/x--1.json@2.0"]
    assert lines[2].startswith("@@ ")
    assert '-    "timeout": 30' in lines
    assert '+    "timeout": 40' in lines
    assert '+      "3"' in lines
    assert '-  "gone": {' in lines
    assert '+  "new": [' in lines
    assert text.endswith("\n")


def test_the_unified_diff_of_a_small_change_has_git_diffs_hunks(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_bytes(normalise(OLD))
    new.write_bytes(normalise(NEW))
    git = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--no-prefix", str(old), str(new)],
        capture_output=True,
        text=True,
    )
    ours = unified(normalise(OLD), normalise(NEW), str(old), str(new))
    hunks = git.stdout[git.stdout.index("@@") :]
    assert ours[ours.index("@@") :] == hunks


def test_equal_documents_have_an_empty_diff() -> None:
    assert unified(normalise(OLD), normalise(dict(OLD)), "a", "b") == ""
    assert json_changes(OLD, dict(OLD)) == []


def test_lines_are_cut_at_newlines_only() -> None:
    """U+2028 stays raw in a normalised document; it is no line break of the file."""
    old = normalise({"greeting": "one\u2028two", "n": 1})
    new = normalise({"greeting": "one\u2028two", "n": 2})
    text = unified(old, new, "a", "b")
    assert ' "greeting": "one\u2028two",\n' in text
    assert len([line for line in text.split("\n") if line.startswith(("-", "+"))]) == 4


def test_labels_name_the_tree_path_and_the_version() -> None:
    assert label("a", "flow/main-inbound--x.json", "2.0") == "a/flow/main-inbound--x.json@2.0"


def test_json_changes_in_document_order_with_the_absent_side_left_out() -> None:
    assert json_changes(OLD, NEW) == [
        {"op": "remove", "path": "/gone", "old": {"a": 1}},
        {"op": "add", "path": "/menu/choices/2", "new": "3"},
        {"op": "replace", "path": "/menu/timeout", "old": 30, "new": 40},
        {"op": "add", "path": "/new", "new": [1]},
    ]


def test_arrays_are_compared_index_by_index() -> None:
    assert json_changes({"l": ["a", "b", "c"]}, {"l": ["b", "c"]}) == [
        {"op": "replace", "path": "/l/0", "old": "a", "new": "b"},
        {"op": "replace", "path": "/l/1", "old": "b", "new": "c"},
        {"op": "remove", "path": "/l/2", "old": "c"},
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [(1, 1.0), (1, True), (0, False), (None, {}), ([], {}), ("1", 1), ({"a": 1}, [1])],
)
def test_values_that_normalise_differently_are_replaced_whole(old: Any, new: Any) -> None:
    assert json_changes({"v": old}, {"v": new}) == [
        {"op": "replace", "path": "/v", "old": old, "new": new}
    ]


def test_a_null_is_a_value_not_an_absence() -> None:
    assert json_changes({}, {"v": None}) == [{"op": "add", "path": "/v", "new": None}]
    assert json_changes({"v": None}, {}) == [{"op": "remove", "path": "/v", "old": None}]


def test_documents_of_different_kinds_are_one_replace_at_the_root() -> None:
    assert json_changes([1], {"a": 1}) == [
        {"op": "replace", "path": "", "old": [1], "new": {"a": 1}}
    ]


def test_pointers_escape_tilde_and_slash() -> None:
    assert pointer("", "a/b~c") == "/a~1b~0c"
    assert pointer("/x", 3) == "/x/3"
    assert pointer("", "") == "/"
    changes = json_changes({"a/b": {"~": 1}}, {"a/b": {"~": 2}})
    assert changes == [{"op": "replace", "path": "/a~1b/~0", "old": 1, "new": 2}]
