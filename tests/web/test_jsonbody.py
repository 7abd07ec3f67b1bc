"""The depth scanner: brackets counted outside strings, on the raw bytes, never recursing."""

from __future__ import annotations

import time

import pytest

from service.web.jsonbody import MAX_DEPTH, read_json, too_deep


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b'{"a":' * 65 + b"1" + b"}" * 65, True),
        (b"[" + b"[]," * 1000 + b"[]]", False),  # wide, not deep
        (b'["' + b"[" * 100 + b'"]', False),  # brackets inside a string are text
        (b'["\\"' + b"[" * 100 + b'"]', False),  # an escaped quote does not end the string
        (b'["\\\\"' + b"[" * 100 + b"]", True),  # an escaped backslash does
        (b'["\\u005b' + b"[" * 100 + b'"]', False),
        (b"[" * 65 + b'"' + b"]" * 65, True),  # a string left open: the brackets before count
    ],
)
def test_depth_is_counted_outside_strings(body: bytes, deep: bool) -> None:
    assert too_deep(body) is deep


def test_a_megabyte_of_the_worst_bytes_is_scanned_quickly() -> None:
    size = 1024 * 1024
    worst = [
        b"[" * (size // 2) + b"]" * (size // 2),
        b"[" * 65 + b'"' + b'\\"' * (size // 2),
        b"[" * 65 + b'"' * size,
        b"[" * 65 + b"\\" * size,
    ]
    for body in worst:
        started = time.perf_counter()
        assert too_deep(body)
        assert time.perf_counter() - started < 1.0  # linear: tens of milliseconds


def test_read_json_names_the_limit_and_still_refuses_what_is_not_json() -> None:
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert read_json(deep) == (None, f"the body is nested deeper than {MAX_DEPTH} levels")
    assert read_json(b'{"a": NaN}')[1] == "the body is not JSON: NaN is not a JSON value"
    assert read_json(b"[1, 2]") == ([1, 2], None)
