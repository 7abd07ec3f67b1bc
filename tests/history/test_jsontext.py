"""The fast writer gives exactly the text of json.dumps(sort_keys, indent=2, ensure_ascii=False)."""

from __future__ import annotations

import enum
import json
import math
import random
from collections import OrderedDict
from typing import Any

import pytest

from service.history.jsontext import dumps_sorted_indented


def reference(document: Any) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False)


TEXTS = [
    "",
    "a",
    "é",
    "日本",
    "\u2028",
    "\x00\x1f",
    '"quoted"',
    "back\\slash",
    "\ud83d\ude00",
    "😀",
]
NUMBERS = [0, -1, 2**70, -(2**70), 0.0, -0.0, 1.5, 1e16, 1e-7, 5e-324, 1.7976931348623157e308]


def random_document(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 5 and roll < 0.3:
        return {
            rng.choice(TEXTS) + str(rng.randrange(50)): random_document(rng, depth + 1)
            for _ in range(rng.randrange(6))
        }
    if depth < 5 and roll < 0.5:
        return [random_document(rng, depth + 1) for _ in range(rng.randrange(6))]
    return rng.choice([*TEXTS, *NUMBERS, True, False, None])


@pytest.mark.parametrize("seed", range(20))
def test_random_documents_give_the_same_text(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        document = random_document(rng)
        assert dumps_sorted_indented(document) == reference(document)


def test_json_from_the_wire_gives_the_same_text() -> None:
    text = '{"b": [1, 2.50, {"z": null, "a": true}], "a": "\\u00e9\\ud83d\\ude00", "c": {}}'
    document = json.loads(text)
    assert dumps_sorted_indented(document) == reference(document)


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "document",
    [
        {"n": math.nan},
        {"n": math.inf, "m": -math.inf},
        {1: "int keys", 2: "become strings"},
        {"t": (1, 2)},
        {"e": Colour.RED},
        OrderedDict([("b", 1), ("a", 2)]),
        {"b": {True: 1}},
    ],
)
def test_other_values_are_left_to_json_dumps(document: Any) -> None:
    assert dumps_sorted_indented(document) == reference(document)


def test_what_json_dumps_refuses_is_refused_the_same_way() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_sorted_indented(cycle)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_sorted_indented({"s": {1, 2}})
    with pytest.raises(TypeError, match="not supported between"):
        dumps_sorted_indented({1: "keys that cannot", "2": "be sorted"})
