"""Signatures checked by the official Standard Webhooks library and by an independent HMAC."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.outbound.signing import hub_signature, secret_key, standard_signature

from .events import SECRET, completed


def test_hub_signature_matches_githubs_documented_vector() -> None:
    signature = hub_signature("It's a Secret to Everybody", b"Hello, World!")
    assert signature == ("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_hub_signature_is_an_hmac_of_the_body_keyed_with_the_whole_secret() -> None:
    body = completed()
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hub_signature(SECRET, body) == f"sha256={expected}"


def test_standard_signature_verifies_with_the_official_library() -> None:
    body = completed()
    now = int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": standard_signature(SECRET, "evt_1", now, body),
    }
    assert Webhook(SECRET).verify(body, headers) == json.loads(body)


def test_standard_signature_matches_the_librarys_own_signing() -> None:
    data = '{"test": 2432232314}'
    moment = 1614265330
    ours = standard_signature(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", moment, data.encode())
    theirs = Webhook(SECRET).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(moment, UTC), data
    )
    assert ours == theirs == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_signature_made_with_another_secret_does_not_verify() -> None:
    body = completed()
    now = int(time.time())
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": standard_signature(other, "evt_1", now, body),
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, headers)


def test_the_key_is_the_base64_after_the_prefix_padding_optional() -> None:
    assert secret_key("whsec_QUJD") == b"ABC"
    assert secret_key("whsec_QUI") == b"AB"  # unpadded, as some generators write it
    assert secret_key("QUI=") == b"AB"


@pytest.mark.parametrize("bad", ["whsec_not base64!", "whsec_", "whsec_A"])
def test_a_malformed_secret_is_refused_without_repeating_it(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        secret_key(bad)
    assert str(caught.value) in {
        "webhook secret must have the form whsec_<base64>",
        "webhook secret must not be empty",
    }
