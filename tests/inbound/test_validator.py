"""The one inbound shape check: each rule of each field refuses with the field's path.

``RULES`` below restates, field by field, what a webhook body must be (the contract a
sender sees); every rule is broken once in each form the field can arrive in (a direct
notification, an EventBridge event, an item of an array) and the 422 must name exactly
that field with that message. The recorded samples, and values that bend no rule, pass.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from service.inbound.checks import Field, check
from service.inbound.events import parse_body
from tests.inbound.conftest import load_sample

SAMPLES = (
    "notification-flow.json",
    "notification-routing-strategy.json",
    "eventbridge-flow.json",
    "notification-audit-flow.json",
    "eventbridge-audit-flow.json",
)
TYPE = {
    str: "must be of string type",
    dict: "must be of dict type",
    bool: "must be of boolean type",
}
WRONG = {str: (7, ["x"], {"x": 1}, True), dict: ("x", 0, [], False), bool: ("true", 1, 0, {})}


@dataclass(frozen=True)
class Rule:
    """What one field must be: its type, and whether it may be absent, null or empty."""

    kind: type
    required: bool = False
    nullable: bool = False
    empty: bool = True  # "" (text) or {} (object) allowed
    stored: bool = False  # text the ledger stores: no unpaired surrogates


OPTIONAL_STORED = Rule(str, nullable=True, stored=True)
OPTIONAL_OBJECT = Rule(dict, nullable=True)

ENVELOPE: dict[str, Rule] = {
    "topicName": Rule(str, required=True, empty=False, stored=True),
    "eventBody": Rule(dict, required=True),
    "metadata": OPTIONAL_OBJECT,
    "metadata.CorrelationId": OPTIONAL_STORED,
}
EVENTBRIDGE: dict[str, Rule] = {
    "id": Rule(str, required=True, empty=False, stored=True),
    "detail": Rule(dict, required=True),
}
REFS = {
    f"{ref}.{key}": OPTIONAL_STORED
    for ref in ("currentOperation.user", "currentOperation.client")
    for key in ("id", "name")
}
FLOW: dict[str, Rule] = {
    "id": Rule(str, nullable=True),
    "currentOperation": OPTIONAL_OBJECT,
    "currentOperation.complete": Rule(bool, nullable=True),
    "currentOperation.actionName": OPTIONAL_STORED,
    "currentOperation.actionStatus": OPTIONAL_STORED,
    "currentOperation.user": OPTIONAL_OBJECT,
    "currentOperation.client": OPTIONAL_OBJECT,
    **REFS,
}
STRATEGY: dict[str, Rule] = {"id": Rule(str, nullable=True)}
AUDIT: dict[str, Rule] = {
    "action": Rule(str, required=True, empty=False, stored=True),
    "entityType": Rule(str, nullable=True),
    "entity": OPTIONAL_OBJECT,
    "entity.id": Rule(str, nullable=True),
    "userId": OPTIONAL_STORED,
    "userDisplay": OPTIONAL_STORED,
    "username": OPTIONAL_OBJECT,
    "username.id": OPTIONAL_STORED,
    "username.name": OPTIONAL_STORED,
    "clientId": OPTIONAL_OBJECT,
    "clientId.id": OPTIONAL_STORED,
    "clientId.name": OPTIONAL_STORED,
}
BODY_RULES = {
    "notification-flow.json": FLOW,
    "eventbridge-flow.json": FLOW,
    "notification-routing-strategy.json": STRATEGY,
    "notification-audit-flow.json": AUDIT,
    "eventbridge-audit-flow.json": AUDIT,
}


def rules_of(sample: str) -> dict[str, Rule]:
    """Every field a sample's form and topic check, as a path from the top of the sample."""
    bridged = sample.startswith("eventbridge")
    at = "detail." if bridged else ""
    rules = {**(EVENTBRIDGE if bridged else {}), **{at + k: r for k, r in ENVELOPE.items()}}
    rules.update({f"{at}eventBody.{k}": rule for k, rule in BODY_RULES[sample].items()})
    return rules


CASES = [(sample, path) for sample in SAMPLES for path in rules_of(sample)]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def changed(sample: str, path: str, value: Any) -> Any:
    """The sample with the field at ``path`` set to ``value`` (MISSING: removed)."""
    document = load_sample(sample)
    *parents, name = path.split(".")
    holder = document
    for key in parents:
        holder = holder.setdefault(key, {})
    if value is MISSING:
        holder.pop(name, None)
    else:
        holder[name] = value
    return document


def refusal(document: Any) -> dict[str, list[str]]:
    parsed = parse_body(document)
    assert parsed.events == [], "accepted"
    return parsed.fields


def accepted(document: Any) -> None:
    parsed = parse_body(document)
    assert parsed.fields == {}
    assert len(parsed.events) == (len(document) if isinstance(document, list) else 1)


@pytest.mark.parametrize(("sample", "path"), CASES, ids=[f"{s}:{p}" for s, p in CASES])
def test_every_rule_of_every_field_refuses_naming_the_field(sample: str, path: str) -> None:
    rule = rules_of(sample)[path]
    for value in WRONG[rule.kind]:
        assert refusal(changed(sample, path, value)) == {path: [TYPE[rule.kind]]}, value
    if rule.nullable:
        accepted(changed(sample, path, None))
    else:
        assert refusal(changed(sample, path, None)) == {path: ["null value not allowed"]}
    if rule.required:
        assert refusal(changed(sample, path, MISSING)) == {path: ["required field"]}
    else:
        accepted(changed(sample, path, MISSING))
    if not rule.empty:
        empty = "" if rule.kind is str else {}
        assert refusal(changed(sample, path, empty)) == {path: ["empty values not allowed"]}
    if rule.stored:
        for text in ("a\ud800", "\udfffb", "x\udc00\ud800y"):
            found = refusal(changed(sample, path, text))
            assert found == {path: ["must not contain unpaired UTF-16 surrogate escapes"]}


@pytest.mark.parametrize(("sample", "path"), CASES, ids=[f"{s}:{p}" for s, p in CASES])
def test_inside_an_array_the_path_starts_with_the_index(sample: str, path: str) -> None:
    rule = rules_of(sample)[path]
    good = load_sample("notification-routing-strategy.json")
    bad = changed(sample, path, WRONG[rule.kind][0])
    assert refusal([good, good, bad]) == {f"2.{path}": [TYPE[rule.kind]]}
    assert refusal([bad, good, bad]) == {
        f"0.{path}": [TYPE[rule.kind]],
        f"2.{path}": [TYPE[rule.kind]],
    }


def test_the_deepest_path_through_an_array_and_eventbridge() -> None:
    good = load_sample("eventbridge-flow.json")
    bad = copy.deepcopy(good)
    bad["detail"]["eventBody"]["currentOperation"]["complete"] = "yes"
    bad["detail"]["eventBody"]["currentOperation"]["user"]["name"] = 5
    assert refusal([bad, good]) == {
        "0.detail.eventBody.currentOperation.complete": ["must be of boolean type"],
        "0.detail.eventBody.currentOperation.user.name": ["must be of string type"],
    }


def test_every_bad_field_of_an_envelope_is_named_at_once() -> None:
    document = {"id": "", "detail": {"topicName": 5, "metadata": {"CorrelationId": []}}}
    assert refusal(document) == {
        "id": ["empty values not allowed"],
        "detail.topicName": ["must be of string type"],
        "detail.eventBody": ["required field"],
        "detail.metadata.CorrelationId": ["must be of string type"],
    }
    assert refusal({"detail-type": "v2.flows.{id}", "detail": {}}) == {
        "id": ["required field"],
        "detail.topicName": ["required field"],
        "detail.eventBody": ["required field"],
    }


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_recorded_samples_pass(sample: str) -> None:
    accepted(load_sample(sample))
    accepted([load_sample(name) for name in SAMPLES])


@pytest.mark.parametrize(("sample", "path"), CASES, ids=[f"{s}:{p}" for s, p in CASES])
def test_values_that_bend_no_rule_pass(sample: str, path: str) -> None:
    """Text of any script (surrogate pairs are fine), empty text where allowed, {} objects."""
    rule = rules_of(sample)[path]
    if rule.kind is bool:
        for flag in (True, False):
            accepted(changed(sample, path, flag))
    elif rule.kind is dict and not rule.required:
        accepted(changed(sample, path, {"added": ["by", "a", "later", "release"]}))
    elif rule.stored and path.endswith(("name", "Name", "Display", "CorrelationId", "action")):
        accepted(changed(sample, path, "Ad\u00e4 \u0644 \U0001f600"))
        if rule.empty:
            accepted(changed(sample, path, ""))


def test_unknown_fields_are_read_by_no_rule() -> None:
    document = load_sample("eventbridge-flow.json")
    document["surprise"] = {"\ud800": None}
    document["detail"]["eventBody"]["currentOperation"]["errorInfo"] = [None, "\udfff"]
    accepted(document)


# ``check`` itself: one walk over a spec, every problem collected.

SPEC = {
    "name": Field(str, required=True, empty=False, stored=True),
    "flag": Field(bool, nullable=True),
    "inner": Field(dict, fields={"deep": Field(dict, fields={"x": Field(str, required=True)})}),
}


def test_check_collects_every_problem_under_its_dotted_path() -> None:
    assert check(SPEC, {"name": "n", "flag": None, "inner": {"deep": {"x": ""}}}) == {}
    assert check(SPEC, {"flag": 1, "inner": {"deep": {}}, "other": 5}) == {
        "name": ["required field"],
        "flag": ["must be of boolean type"],
        "inner.deep.x": ["required field"],
    }
    assert check(SPEC, {"name": "", "inner": None}) == {
        "name": ["empty values not allowed"],
        "inner": ["null value not allowed"],
    }


@pytest.mark.parametrize(
    "arguments",
    [
        {"kind": int},
        {"kind": bool, "stored": True},
        {"kind": str, "fields": {"x": Field(str)}},
        {"kind": bool, "empty": False},
    ],
)
def test_a_rule_that_cannot_hold_is_a_programming_error(arguments: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        Field(**arguments)
