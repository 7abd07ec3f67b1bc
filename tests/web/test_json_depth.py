"""Every JSON body the web process reads has its nesting depth checked before parsing.

About a thousand levels parsed, then broke the de-duplication digest of a webhook (a
``RecursionError``, answered 500); deeper bodies broke the admin API's parse. Now anything
deeper than ``MAX_DEPTH`` is a 400 on both, whatever the depth, and nothing is stored.
"""

from __future__ import annotations

from pathlib import Path

import requests
from flask.testing import FlaskClient

from service.ledger import Ledger, events, jobs
from tests.helpers import ADMIN_TOKEN, INBOUND_TOKEN
from tests.inbound.conftest import SAMPLES
from tests.processes import web_env, web_process

WEBHOOK = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "application/json"}
MAX_DEPTH = 64  # service.web.jsonbody.MAX_DEPTH, spelled out: the limit operators are told
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
# The depths that parsed but broke the digest lie below Python's recursion limit (1000),
# where depends on the stack under the view (about 947 here, 980 under gunicorn): all of them.
DEPTHS = [*range(900, 1001), 100_000]


def notification(depth: int) -> bytes:
    """A notification whose whole body nests ``depth`` levels (two are its own objects)."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"topicName":"v2.users.x","eventBody":{{"a":{inner}}}}}'.encode()


def archive_request(depth: int) -> bytes:
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return f'{{"strategyId":{inner},"sourceType":"flow"}}'.encode()


def assert_refused_as_too_deep(status: int, body: dict[str, str]) -> None:
    assert status == 400, body
    assert body == {"error": f"the body is nested deeper than {MAX_DEPTH} levels"}


def assert_nothing_stored(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.db") as ledger:
        assert events.list_events(ledger, limit=None) == []
        assert jobs.list_jobs(ledger, limit=None) == []


def assert_all_refused(answers: dict[int, tuple[int, dict[str, str]]]) -> None:
    """No 500 at any depth (named first, the defect), then each one the 400 of the limit."""
    errors = [depth for depth, (status, _) in answers.items() if status >= 500]
    assert errors == [], f"500 at depths {errors}"
    for status, body in answers.values():
        assert_refused_as_too_deep(status, body)


def test_deep_webhooks_are_400_never_500(client: FlaskClient, tmp_path: Path) -> None:
    answers = {}
    for depth in DEPTHS:
        answer = client.post("/webhooks/genesys", data=notification(depth), headers=WEBHOOK)
        answers[depth] = (answer.status_code, answer.get_json())
    assert_all_refused(answers)
    assert_nothing_stored(tmp_path)


def test_deep_archive_requests_are_400_never_500(client: FlaskClient, tmp_path: Path) -> None:
    answers = {}
    for depth in DEPTHS:
        answer = client.post("/archives", data=archive_request(depth), headers=ADMIN)
        answers[depth] = (answer.status_code, answer.get_json())
    assert_all_refused(answers)
    assert_nothing_stored(tmp_path)


def test_the_limit_itself_is_read_and_one_more_is_not(client: FlaskClient) -> None:
    at_limit = client.post("/webhooks/genesys", data=notification(MAX_DEPTH), headers=WEBHOOK)
    assert at_limit.status_code == 202, at_limit.get_json()
    over = client.post("/webhooks/genesys", data=notification(MAX_DEPTH + 1), headers=WEBHOOK)
    assert_refused_as_too_deep(over.status_code, over.get_json())
    admin = client.post("/archives", data=archive_request(MAX_DEPTH), headers=ADMIN)
    assert admin.status_code == 422  # read, then refused for what it says
    assert list(admin.get_json()["fields"]) == ["strategyId"]


def test_a_normal_body_is_still_accepted(client: FlaskClient) -> None:
    raw = (SAMPLES / "notification-flow.json").read_bytes()
    assert client.post("/webhooks/genesys", data=raw, headers=WEBHOOK).status_code == 202
    batch = b"[" + b",".join([raw] * 100) + b"]"  # 100 events, several hundred brackets
    answer = client.post("/webhooks/genesys", data=batch, headers=WEBHOOK)
    assert answer.status_code == 202, answer.get_json()


def test_through_gunicorn_too(tmp_path: Path) -> None:
    with web_process(web_env(tmp_path), tmp_path, forks=1) as (web, base):
        hooks, admins = {}, {}
        for depth in DEPTHS:
            hook = requests.post(
                f"{base}/webhooks/genesys", data=notification(depth), headers=WEBHOOK, timeout=10
            )
            hooks[depth] = (hook.status_code, hook.json())
            admin = requests.post(
                f"{base}/archives", data=archive_request(depth), headers=ADMIN, timeout=10
            )
            admins[depth] = (admin.status_code, admin.json())
        assert_all_refused(hooks)
        assert_all_refused(admins)
        assert "Traceback" not in web.output
    assert_nothing_stored(tmp_path)
