"""Who may post events: whoever holds ``INBOUND_TOKEN``, presented one of three ways.

EventBridge API destinations authenticate with HTTP Basic or an API-key header; other
senders use a bearer token. Every candidate is compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac

TOKEN_HEADER = "X-Archiver-Token"
CHALLENGE = 'Bearer realm="archiver", Basic realm="archiver", charset="UTF-8"'


def presented_tokens(authorization: str | None, token_header: str | None) -> list[bytes]:
    """Every token the request offers: the bearer token, the Basic password, the header."""
    found: list[bytes] = []
    scheme, credentials = _scheme(authorization)
    if scheme == "bearer":
        found.extend(_raw(credentials))
    elif scheme == "basic":
        found.extend(_basic_password(credentials))
    if token_header:
        found.extend(_raw(token_header))
    return found


def bearer_token(authorization: str | None) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case of ``Bearer``)."""
    scheme, credentials = _scheme(authorization)
    tokens = _raw(credentials) if scheme == "bearer" else []
    return tokens[0] if tokens else None


def _scheme(authorization: str | None) -> tuple[str, str]:
    """The header's scheme in lower case (RFC 9110: schemes are case-insensitive) and its
    credentials; ``("", "")`` when either is missing."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    credentials = credentials.strip()
    return (scheme.lower(), credentials) if scheme and credentials else ("", "")


def is_authorized(authorization: str | None, token_header: str | None, token: str | None) -> bool:
    """True when any presented token is ``token``; never true when no token is configured."""
    if not token:
        return False
    expected = token.encode()
    # A list, not a generator: every candidate is compared, whichever one matches.
    matches = [
        hmac.compare_digest(c, expected) for c in presented_tokens(authorization, token_header)
    ]
    return any(matches)


def _raw(value: str) -> list[bytes]:
    """The header's bytes as sent: WSGI hands headers over decoded as Latin-1."""
    try:
        return [value.encode("latin-1")]
    except UnicodeEncodeError:
        return []


def _basic_password(credentials: str) -> list[bytes]:
    try:
        decoded = base64.b64decode(credentials, validate=True)
    except (binascii.Error, ValueError):
        return []
    _user, colon, password = decoded.partition(b":")
    return [password] if colon else []
