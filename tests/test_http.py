"""What every HTTP client shares (``service/http.py``): the session factory, the response
hooks, the one ``Retry-After`` parser and the URL shown in messages."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from service import __version__
from service.http import make_session, observed, on_response, parse_retry_after, public_url
from service.simulator.receivers import WebhookReceiver

NOW = 1_750_000_000.0
CAP = 3600.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),  # Genesys Cloud may send a fraction
        ("3600", 3600.0),
    ],
)
def test_delta_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW, cap=CAP) == seconds


def test_http_dates_count_from_now() -> None:
    assert parse_retry_after(formatdate(NOW + 300, usegmt=True), now=NOW, cap=CAP) == 300.0
    assert parse_retry_after(formatdate(NOW - 300, usegmt=True), now=NOW, cap=CAP) == 0.0
    # an obsolete "-0000" zone is still UTC
    assert parse_retry_after(formatdate(NOW + 60), now=NOW, cap=CAP) == 60.0


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999",
        "9" * 400,  # more digits than a float holds: infinite
        "inf",
        "Infinity",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ],
)
def test_huge_waits_are_capped(value: str) -> None:
    assert parse_retry_after(value, now=NOW, cap=CAP) == CAP


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "  ",
        "-5",
        "-0.5",
        "soon",
        "nan",
        "12 s",
        "0x10",
        "+5",
        "1e400",
        "Fri, 99 Foo 2025",
    ],
)
def test_absent_negative_or_garbage_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW, cap=CAP) is None


@pytest.mark.parametrize(
    ("url", "base", "shown"),
    [
        ("https://user:pw@host.example/a/b?token=t&code=c#frag", None, "https://host.example/a/b"),
        ("/v2/in?code=c", "http://127.0.0.1:8/v1/in", "http://127.0.0.1:8/v2/in"),
        ("http://host.example:8443", None, "http://host.example:8443"),
        ("api.example?token=t", None, "api.example"),
        ("http://[::1", None, "(unparseable URL)"),
    ],
)
def test_public_url_drops_credentials_query_and_fragment(
    url: str, base: str | None, shown: str
) -> None:
    assert public_url(url, base) == shown


def test_a_session_sends_the_user_agent_the_token_and_its_headers() -> None:
    with WebhookReceiver() as receiver:
        with make_session(auth="bearer-token-1234", headers={"Accept": "x/y"}) as session:
            session.post(receiver.url, data=b"{}", timeout=5)
        with make_session() as session:
            session.post(receiver.url, data=b"{}", timeout=5)
        first, second = receiver.received
    assert first.headers["user-agent"] == f"genesys-strategy-archiver/{__version__}"
    assert first.headers["authorization"] == "Bearer bearer-token-1234"
    assert first.headers["accept"] == "x/y"
    assert second.headers["user-agent"] == first.headers["user-agent"]
    assert "authorization" not in second.headers


def test_observers_hear_each_answer_of_their_service_once() -> None:
    heard: list[int | None] = []
    on_response("test-service", heard.append)
    on_response("test-service", heard.append)  # registering twice changes nothing
    observed("test-service", 503)
    observed("test-service", None)
    observed("other-service", 200)
    assert heard == [503, None]
