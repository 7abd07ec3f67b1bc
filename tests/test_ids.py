"""The one id check: a UUID is 8-4-4-4-12 hex digits and nothing else, in any case."""

from __future__ import annotations

import pytest
from cerberus import Validator

from service.errors import UsageError
from service.ids import canonical_uuid, check_lower_uuid, check_uuid, require_uuid

ID = "cb5a24eb-6297-4618-b2ab-a07537bb1476"

NOT_IDS = [
    f"{ID}\n",
    f"{ID}\r\n",
    f"\n{ID}",
    f"{ID} ",
    f"{{{ID}}}",
    f"urn:uuid:{ID}",
    ID.replace("-", ""),
    ID[:-1],
    ID + "0",
    ID[:-1] + "g",
    ID[:-1] + "\u0661",  # a digit of another script
    ID[:-1] + "\uff41",  # FULLWIDTH LATIN SMALL LETTER A
    "",
]


@pytest.mark.parametrize("value", NOT_IDS, ids=repr)
def test_anything_around_or_inside_the_form_is_refused(value: str) -> None:
    assert canonical_uuid(value) is None
    with pytest.raises(UsageError, match="strategy id must be a UUID"):
        require_uuid(value)


def test_any_case_is_accepted_and_returned_in_lower_case() -> None:
    assert canonical_uuid(ID.upper()) == ID
    assert require_uuid(ID.upper()) == ID
    assert canonical_uuid(None) is None
    assert canonical_uuid(42) is None


def test_the_cerberus_rules_are_the_same_check() -> None:
    schema = {"id": {"type": "string", "check_with": check_uuid}}
    lower = {"id": {"type": "string", "check_with": check_lower_uuid}}
    for value in NOT_IDS:
        assert not Validator(schema).validate({"id": value}), value
        assert not Validator(lower).validate({"id": value}), value
    assert Validator(schema).validate({"id": ID.upper()})
    assert not Validator(lower).validate({"id": ID.upper()})
    assert Validator(lower).validate({"id": ID})
