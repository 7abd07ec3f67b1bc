"""Submission never follows a redirect: the body and the bearer token stay where they were sent.

A real local endpoint answers 3xx with a ``Location`` on a second real server that records
whatever reaches it; nothing must, and the archive is recorded ``rejected`` naming where the
redirect pointed (without its query string or credentials).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from service.archive.submit import ArchivalClient
from service.backoff import Backoff
from service.ledger import Ledger, Submission, archives
from service.simulator import DEMO_STRATEGY_ID, SimulatorServer
from tests.helpers import ARCHIVER, cli_env
from tests.redirects import Recorder, Redirector

KEY = "0b0d7a6e-3f5c-5a3e-8c1e-2b9f4a6d8e10"
TOKEN = "archival-token-xyz"
FAST = Backoff.exponential(0.01, cap=0.05, tries=3, full_jitter=True, max_retry_after=180.0)


def secret_location(recorder: Recorder) -> str:
    """A Location whose userinfo and query hold secrets a message must not repeat."""
    host = recorder.url.removeprefix("http://")
    return f"http://mover:loc-pass-4321@{host}/archives?token=loc-token-1234&code=abc987"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_is_a_final_refusal_naming_it(status: int) -> None:
    with Recorder() as recorder, Redirector(status, secret_location(recorder)) as redirector:
        client = ArchivalClient(f"{redirector.url}/archives", TOKEN, retry=FAST)
        result = client.submit(KEY, b'{"x": 1}')
        client.close()
    assert recorder.seen == []  # neither the body nor the token went anywhere else
    assert redirector.requests == 1  # a setting to correct: not retried
    assert (result.outcome, result.status) == (Submission.REJECTED, status)
    assert result.detail == (
        f"{status} redirect to {recorder.url}/archives not followed: "
        "set ARCHIVAL_ENDPOINT to the final URL"
    )
    for secret in ("loc-pass-4321", "loc-token-1234", "abc987", TOKEN):
        assert secret not in result.detail


def test_a_relative_location_is_named_in_full() -> None:
    with Redirector(308, "/v2/archives?token=loc-token-1234") as redirector:
        client = ArchivalClient(f"{redirector.url}/archives", TOKEN, retry=FAST)
        result = client.submit(KEY, b"{}")
        client.close()
    assert result.outcome is Submission.REJECTED
    assert result.detail.startswith(f"308 redirect to {redirector.url}/v2/archives not followed")
    assert "loc-token-1234" not in result.detail


def test_archive_command_reports_the_redirect_and_records_the_archive_rejected(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    with Recorder() as recorder, Redirector(307, secret_location(recorder)) as redirector:
        env = cli_env(
            simulator,
            tmp_path,
            ARCHIVAL_ENDPOINT=f"{redirector.url}/archives",
            ARCHIVAL_TOKEN=TOKEN,
        )
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        result = subprocess.run(
            [*ARCHIVER, "archive", DEMO_STRATEGY_ID, "--source", "routing-strategy"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert recorder.seen == []
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"307 redirect to {recorder.url}/archives not followed" in line
    assert "set ARCHIVAL_ENDPOINT to the final URL" in line
    for secret in ("loc-pass-4321", "loc-token-1234", "abc987", TOKEN):
        assert secret not in result.stderr + result.stdout
    with Ledger(tmp_path / "ledger.db") as ledger:
        (archive,) = archives.list_archives(ledger)
    assert archive.submission is Submission.REJECTED
    assert archive.submission_detail is not None
    assert f"307 redirect to {recorder.url}/archives" in archive.submission_detail
