"""Signatures of outbound events, as receivers check them.

Standard Webhooks signs ``"<id>.<timestamp>.<body>"`` with the base64-decoded part of a
``whsec_`` secret; GitHub-style receivers check ``X-Hub-Signature-256``, the body alone
keyed with the whole secret string. Both sign the raw bytes that are sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64 after ``whsec_`` (padding optional)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        # The message must not repeat the secret: it may end up in a log.
        raise ValueError("webhook secret must have the form whsec_<base64>") from None
    if not key:
        raise ValueError("webhook secret must not be empty")
    return key


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def hub_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
