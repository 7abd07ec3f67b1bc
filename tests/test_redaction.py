"""The one redaction: credentials it is told of and those it recognises, never prose."""

from __future__ import annotations

import pytest

from service.redaction import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "{'Authorization': 'Basic ***'}"),
        ("X-Archiver-Token: s3cr3t-value", "X-Archiver-Token: ***"),
        ("PRIVATE-TOKEN: glpat-abcdefgh12345", "PRIVATE-TOKEN: ***"),
        ("sent Bearer eyJhbGciOi.x1 to it", "sent Bearer *** to it"),
        ("GET /x?access_token=abc123&b=2", "GET /x?access_token=***&b=2"),
        ('{"access_token": "abc123", "n": 1}', '{"access_token": "***", "n": 1}'),
        ("grant_type=x&client_secret=s3cr3t", "grant_type=x&client_secret=***"),
        ("token=glptt-0123456789abcdef&ref=main", "token=***&ref=main"),
        ('{"token": "abc"}', '{"token": "***"}'),
        ("https://user:pa55word@example.com/x", "https://user:***@example.com/x"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_***"),
        ("token ghp_abcdefghij0123456789", "token ghp_***"),
    ],
)
def test_redact_masks_credentials_it_does_not_know(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Bearer token missing or wrong",
        'Bearer realm="archiver", Basic realm="archiver", charset="UTF-8"',
        "Basic authentication is required",
        "VCS_WEBHOOK_SECRET is invalid: must have the form whsec_<base64>",
        "GENESYS_CLIENT_SECRET is required to call Genesys Cloud but is not set",
        "VCS_TARGETS[1].token is required",
        "archive 5c0e-41: 409 already archived",
    ],
)
def test_redact_leaves_prose_and_our_messages_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_masks_known_secrets_as_written_and_url_encoded() -> None:
    secret = "p@ss word/+="
    text = f"a {secret} b p%40ss%20word%2F%2B%3D c p%40ss+word%2F%2B%3D d"
    assert redact(text, [secret, ""]) == "a *** b *** c *** d"
