"""Generic signed webhooks against a real local receiver: headers, signatures, outcomes."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from standardwebhooks.webhooks import Webhook

from service.outbound.deliver import Attempt, Deliverer
from service.outbound.targets import Target, WebhookTarget
from service.simulator.receivers import WebhookReceiver

from .events import SECRET, completed, failed

EVENT_ID = "evt_2f6c0b5e8a7d4c3b"


def hook(receiver: WebhookReceiver, *, name: str = "hook", query: str = "") -> Target:
    return WebhookTarget(name=name, url=receiver.url + query, secret=SECRET)


@pytest.fixture
def deliverer(receiver: WebhookReceiver) -> Iterator[Deliverer]:
    sender = Deliverer([hook(receiver)])
    yield sender
    sender.close()


def send(deliverer: Deliverer, body: bytes, now: int | None = None) -> Attempt:
    return deliverer.attempt("hook", EVENT_ID, "strategy.archive.completed", body, now=now)


def test_delivered_with_the_standard_headers_and_the_body_as_is(
    receiver: WebhookReceiver, deliverer: Deliverer
) -> None:
    body = completed()
    now = int(time.time())
    attempt = send(deliverer, body, now)
    assert attempt == Attempt("delivered", 204, "204 NO CONTENT")
    (got,) = receiver.received
    assert (got.method, got.raw_path, got.body) == ("POST", "/webhook", body)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("genesys-strategy-archiver/")
    assert got.headers["webhook-id"] == EVENT_ID
    assert got.headers["webhook-timestamp"] == str(now)
    assert Webhook(SECRET).verify(got.body, got.headers) == json.loads(body)
    expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-hub-signature-256"] == f"sha256={expected}"


def test_failed_events_are_sent_the_same_way(
    receiver: WebhookReceiver, deliverer: Deliverer
) -> None:
    body = failed()
    attempt = deliverer.attempt("hook", "evt_failed", "strategy.archive.failed", body)
    assert attempt.outcome == "delivered"
    (got,) = receiver.received
    assert got.body == body
    assert Webhook(SECRET).verify(got.body, got.headers)["type"] == "strategy.archive.failed"


def test_the_id_stays_while_timestamp_and_signature_follow_each_attempt(
    receiver: WebhookReceiver, deliverer: Deliverer
) -> None:
    body = completed()
    receiver.fail_next(503)
    first, second = int(time.time()) - 60, int(time.time())
    assert send(deliverer, body, first).outcome == "retry"
    assert send(deliverer, body, second).outcome == "delivered"
    one, two = receiver.received
    assert one.headers["webhook-id"] == two.headers["webhook-id"] == EVENT_ID
    assert (one.headers["webhook-timestamp"], two.headers["webhook-timestamp"]) == (
        str(first),
        str(second),
    )
    assert one.headers["webhook-signature"] != two.headers["webhook-signature"]
    assert one.body == two.body == body
    for got in (one, two):
        Webhook(SECRET).verify(got.body, got.headers)


def test_a_receiver_checking_signatures_accepts_ours_and_refuses_another_secret() -> None:
    with WebhookReceiver(secret=SECRET) as strict:
        right = Deliverer([hook(strict)])
        other = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
        wrong = Deliverer([WebhookTarget(name="hook", url=strict.url, secret=other)])
        try:
            assert send(right, completed()).outcome == "delivered"
            refused = send(wrong, completed())
        finally:
            right.close()
            wrong.close()
    assert (refused.outcome, refused.status) == ("retry", 401)
    assert "webhook-signature does not match" in refused.detail


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(receiver: WebhookReceiver, deliverer: Deliverer, status: int) -> None:
    receiver.always(status)
    attempt = send(deliverer, completed())
    assert (attempt.outcome, attempt.status) == ("delivered", status)


def test_410_ends_the_delivery_as_dead(receiver: WebhookReceiver, deliverer: Deliverer) -> None:
    receiver.fail_next(410, message="this hook was removed")
    attempt = send(deliverer, completed())
    assert (attempt.outcome, attempt.status) == ("dead", 410)
    assert attempt.detail == '410 GONE: {"message": "this hook was removed"}'


@pytest.mark.parametrize("status", [500, 502, 503, 400, 401, 404, 409, 422])
def test_other_statuses_are_retried(
    receiver: WebhookReceiver, deliverer: Deliverer, status: int
) -> None:
    receiver.fail_next(status, message="try later")
    attempt = send(deliverer, completed())
    assert (attempt.outcome, attempt.status, attempt.retry_after) == ("retry", status, None)
    assert attempt.detail.startswith(f"{status} ")
    assert attempt.detail.endswith(': {"message": "try later"}')


def test_429_is_retried_honouring_retry_after_in_seconds(
    receiver: WebhookReceiver, deliverer: Deliverer
) -> None:
    receiver.fail_next(429, retry_after=120)
    attempt = send(deliverer, completed())
    assert (attempt.outcome, attempt.status, attempt.retry_after) == ("retry", 429, 120.0)
    assert attempt.detail.startswith("429 TOO MANY REQUESTS")


def test_429_retry_after_as_an_http_date(receiver: WebhookReceiver, deliverer: Deliverer) -> None:
    now = int(time.time())
    receiver.fail_next(429, retry_after=formatdate(now + 300, usegmt=True))
    attempt = send(deliverer, completed(), now)
    assert attempt.retry_after == 300.0


def test_429_without_a_usable_retry_after(receiver: WebhookReceiver, deliverer: Deliverer) -> None:
    receiver.fail_next(429, retry_after="soon")
    attempt = send(deliverer, completed())
    assert (attempt.outcome, attempt.retry_after) == ("retry", None)


def test_redirects_are_not_followed(receiver: WebhookReceiver, deliverer: Deliverer) -> None:
    receiver.fail_next(307)
    attempt = send(deliverer, completed())
    assert (attempt.outcome, attempt.status) == ("retry", 307)
    assert "redirect not followed" in attempt.detail
    assert len(receiver.received) == 1


def test_no_answer_within_the_timeout_is_retried(receiver: WebhookReceiver) -> None:
    receiver.delay = 3.0
    sender = Deliverer([hook(receiver)], timeout=0.3)
    try:
        started = time.monotonic()
        attempt = send(sender, completed())
        took = time.monotonic() - started
    finally:
        sender.close()
    assert attempt == Attempt("retry", None, "timeout after 0.3 s")
    assert took < 2.0


def test_a_refused_connection_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = WebhookTarget(name="hook", url=f"http://127.0.0.1:{port}/x?t=q", secret=SECRET)
    sender = Deliverer([target])
    try:
        attempt = send(sender, completed())
    finally:
        sender.close()
    assert attempt == Attempt("retry", None, "connection failed: connection refused")


def test_the_detail_is_one_short_line_of_the_receiver_answer(receiver: WebhookReceiver) -> None:
    # Secrets it echoes are masked where the detail is stored and logged
    # (tests/system/test_secrets.py).
    token = "query-token-123"
    sender = Deliverer([hook(receiver, query=f"?token={token}")])
    receiver.fail_next(500, message="bad things happened " + "x" * 500)
    try:
        attempt = send(sender, completed())
    finally:
        sender.close()
    assert attempt.detail.startswith("500 INTERNAL SERVER ERROR: ")
    assert "bad things happened" in attempt.detail
    assert token not in attempt.detail  # the URL is never part of it
    assert "\n" not in attempt.detail
    assert len(attempt.detail) < 260
    assert receiver.received[0].raw_path == f"/webhook?token={token}"


def test_an_unknown_target_is_dead_without_a_request(
    receiver: WebhookReceiver, deliverer: Deliverer
) -> None:
    attempt = deliverer.attempt("gone", EVENT_ID, "strategy.archive.completed", completed())
    assert attempt == Attempt("dead", None, "target gone is no longer configured")
    assert receiver.received == []
