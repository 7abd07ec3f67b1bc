"""Submission to a real local archival endpoint: keys, retries, final refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from service.archive.submit import ArchivalClient
from service.backoff import Backoff
from service.errors import UpstreamError
from service.ledger import Submission
from service.simulator.archival import ArchivalSink

KEY = "0b0d7a6e-3f5c-5a3e-8c1e-2b9f4a6d8e10"
FAST = Backoff.exponential(0.01, cap=0.05, tries=3, full_jitter=True, max_retry_after=180.0)


@pytest.fixture
def sink() -> Iterator[ArchivalSink]:
    with ArchivalSink(token="archival-token-xyz") as server:
        yield server


def client(sink: ArchivalSink, token: str | None = "archival-token-xyz") -> ArchivalClient:
    return ArchivalClient(sink.url, token, retry=FAST)


def test_body_is_sent_as_is_with_key_and_token(sink: ArchivalSink) -> None:
    result = client(sink).submit(KEY, b'{"x": 1}\n')
    assert (result.outcome, result.status) == (Submission.SUBMITTED, 201)
    (received,) = sink.state.received
    assert received.key == KEY
    assert received.body == b'{"x": 1}\n'
    assert received.authorization == "Bearer archival-token-xyz"


def test_409_counts_as_archived(sink: ArchivalSink) -> None:
    client(sink).submit(KEY, b"same")
    again = client(sink).submit(KEY, b"same")
    assert (again.outcome, again.status) == (Submission.SUBMITTED, 409)
    assert len(sink.state.stored) == 1


def test_422_is_final_and_carries_the_endpoint_message(sink: ArchivalSink) -> None:
    client(sink).submit(KEY, b"first body")
    result = client(sink).submit(KEY, b"another body")
    assert result.outcome is Submission.REJECTED
    assert result.status == 422
    assert "already used with a different body" in result.detail
    assert sink.state.count(KEY) == 2  # no retry of a final refusal


def test_5xx_and_429_are_retried_honouring_retry_after(sink: ArchivalSink) -> None:
    sink.state.fail_next(503)
    sink.state.fail_next(429, retry_after=1)
    started = time.monotonic()
    result = client(sink).submit(KEY, b"body")
    assert result.outcome is Submission.SUBMITTED
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in sink.state.received] == [503, 429, 201]


def test_retries_run_out_with_a_clear_error(sink: ArchivalSink) -> None:
    sink.state.fail_next(502, times=5)
    with pytest.raises(UpstreamError) as caught:
        client(sink).submit(KEY, b"body")
    assert caught.value.retryable
    assert "after 3 tries" in str(caught.value)
    assert "502" in str(caught.value)
    assert "archival-token-xyz" not in str(caught.value)


def test_network_errors_are_retried_then_reported() -> None:
    unreachable = ArchivalClient("http://127.0.0.1:9/archives", "t", retry=FAST)
    with pytest.raises(UpstreamError, match="network error"):
        unreachable.submit(KEY, b"body")


def test_wrong_token_is_a_final_refusal(sink: ArchivalSink) -> None:
    result = client(sink, token="wrong").submit(KEY, b"body")
    assert (result.outcome, result.status) == (Submission.REJECTED, 401)
    assert "bearer token" in result.detail
