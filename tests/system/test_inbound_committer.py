"""The group-commit writer of a real gunicorn worker survives a ledger it cannot open:
the webhooks waiting fail at once with an error, ``/readyz`` says so, and ingest comes
back by itself once the ledger opens again."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from service.ledger import Ledger
from tests.helpers import wait_for
from tests.inbound.conftest import TOKEN, load_sample
from tests.processes import web_env, web_process

LOCK_WAIT = "0.5"  # LEDGER_LOCK_TIMEOUT_SECONDS: a held lock fails writes quickly


def post(base: str) -> requests.Response:
    """One new notification (a fresh correlation id, so never a duplicate)."""
    body: dict[str, Any] = load_sample("notification-flow.json")
    body["metadata"] = {"CorrelationId": str(uuid.uuid4())}
    return requests.post(
        f"{base}/webhooks/genesys",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=15,
    )


def refused_at_once(base: str) -> requests.Response:
    """A POST refused with 503 and a JSON error, well before the writer's 4 s timeout."""
    began = time.monotonic()
    answer = post(base)
    took = time.monotonic() - began
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"], answer.text
    assert took < 3, f"the error took {took:.1f} s"
    return answer


def readiness(base: str) -> tuple[int, dict[str, Any]]:
    answer = requests.get(f"{base}/readyz", timeout=10)
    return answer.status_code, answer.json()


def test_ingest_recovers_once_a_broken_lock_path_is_repaired(tmp_path: Path) -> None:
    lock_path = tmp_path / "ledger.db.lock"
    lock_path.mkdir()  # the ledger cannot be opened: its lock file is a folder
    env = web_env(tmp_path, LEDGER_LOCK_TIMEOUT_SECONDS=LOCK_WAIT)
    with web_process(env, tmp_path, probe="/healthz", forks=1) as (web, base):
        refused_at_once(base)
        refused_at_once(base)  # and again: the writer is still there, still failing fast
        status, body = readiness(base)
        assert status == 503 and "ledger" in body["problems"], body
        lock_path.rmdir()
        wait_for(lambda: post(base).status_code == 202, timeout=10, what="ingest to recover")
        assert post(base).status_code == 202
        wait_for(lambda: readiness(base)[0] == 200, timeout=10, what="/readyz 200")
        assert web.alive()
    with Ledger(tmp_path / "ledger.db") as ledger:
        events = ledger.db.execute("SELECT count(*) FROM events").fetchone()[0]
    assert events == 2  # the refused ones were not recorded; the accepted ones were


def test_ingest_recovers_once_a_held_write_lock_is_released(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Ledger(path).close()
    holder = sqlite3.connect(path, isolation_level=None)  # another process's writer, say
    try:
        holder.execute("BEGIN IMMEDIATE")
        env = web_env(tmp_path, LEDGER_LOCK_TIMEOUT_SECONDS=LOCK_WAIT)
        with web_process(env, tmp_path, probe="/healthz", forks=1) as (web, base):
            answer = refused_at_once(base)
            status, body = readiness(base)
            assert status == 503, body
            assert "locked" in " ".join(body["problems"].values()), body
            holder.execute("ROLLBACK")
            wait_for(lambda: post(base).status_code == 202, timeout=10, what="ingest")
            wait_for(lambda: readiness(base)[0] == 200, timeout=10, what="/readyz 200")
            assert "Traceback" not in answer.text
            assert "Traceback" not in web.output  # each refusal is one warning line
            assert web.alive()
            # The worker booted all the same, saying why it could not open the ledger.
            assert "the ledger cannot be opened at start" in web.output
    finally:
        holder.close()
