"""The local receivers themselves: recording, waiting, fixed answers, slowness."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from service.simulator.receivers import WebhookReceiver


def test_requests_are_recorded_as_sent_and_waited_for(receiver: WebhookReceiver) -> None:
    def later() -> None:
        time.sleep(0.1)
        requests.post(f"{receiver.url}/a%2Fb?x=1", data=b"raw", timeout=5)

    sender = threading.Thread(target=later)
    sender.start()
    (got,) = receiver.wait_for(1, timeout=5)
    sender.join()
    assert (got.raw_path, got.path, got.body, got.status) == (
        "/webhook/a%2Fb?x=1",
        "/webhook/a/b",
        b"raw",
        204,
    )
    with pytest.raises(TimeoutError, match="1 of 2 requests arrived"):
        receiver.wait_for(2, timeout=0.1)


def test_faults_come_first_then_a_fixed_status_until_reset(receiver: WebhookReceiver) -> None:
    receiver.fail_next(503, times=2)
    receiver.always(500, retry_after=7)
    statuses = [requests.post(receiver.url, timeout=5) for _ in range(3)]
    receiver.always(None)
    statuses.append(requests.post(receiver.url, timeout=5))
    assert [r.status_code for r in statuses] == [503, 503, 500, 204]
    assert statuses[2].headers["Retry-After"] == "7"
    assert [r.status for r in receiver.received] == [503, 503, 500, 204]


def test_stopping_does_not_wait_for_a_slow_answer() -> None:
    server = WebhookReceiver().start()
    server.delay = 30
    answers: list[int] = []
    caller = threading.Thread(
        target=lambda: answers.append(requests.post(server.url, timeout=10).status_code)
    )
    caller.start()
    server.wait_for(1)
    started = time.monotonic()
    server.stop()
    caller.join(timeout=10)
    assert time.monotonic() - started < 2
    assert answers == [204]  # the answer in hand is sent at once, without its delay
