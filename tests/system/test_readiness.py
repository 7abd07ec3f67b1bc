"""``/readyz`` of a real gunicorn: it answers within a bounded time while the ledger is
locked (and ``/healthz`` still answers), and a full disk is not ready."""

from __future__ import annotations

import fcntl
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.helpers import wait_for
from tests.mounts import fill, tmpfs
from tests.processes import web_env, web_process

PROBES = 4  # as many as the worker has threads


def timed_get(url: str) -> tuple[int, dict[str, Any], float]:
    began = time.monotonic()
    answer = requests.get(url, timeout=10)
    return answer.status_code, answer.json(), time.monotonic() - began


def test_readyz_is_503_in_bounded_time_while_the_ledger_is_locked(tmp_path: Path) -> None:
    # The default lock wait (30 s) for writers; the probe waits a short while of its own.
    with web_process(web_env(tmp_path), tmp_path, forks=1) as (_web, base):
        fd = os.open(tmp_path / "ledger.db.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with ThreadPoolExecutor(PROBES + 1) as pool:
                probes = [pool.submit(timed_get, f"{base}/readyz") for _ in range(PROBES)]
                time.sleep(0.2)  # the probes hold every thread now
                health = pool.submit(timed_get, f"{base}/healthz")
                answers = [probe.result() for probe in probes]
                status, _, took = health.result()
            assert status == 200
            assert took < 5, f"/healthz took {took:.1f} s"
            for status, body, took in answers:
                assert status == 503, body
                assert "locked" in body["problems"]["ledger"], body
                assert str(tmp_path) not in body["problems"]["ledger"]  # no path to strangers
                assert took < 5, f"/readyz took {took:.1f} s"
        finally:
            os.close(fd)  # unlocks
        status, body, _ = timed_get(f"{base}/readyz")
        assert status == 200, body


def test_readyz_is_503_naming_the_archive_folder_on_a_full_disk(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size="1m") as disk:
        archive = disk / "archive"
        env = web_env(tmp_path, ARCHIVE_DIR=str(archive))
        with web_process(env, tmp_path, forks=1) as (_web, base):
            fill(disk)
            status, body, _ = timed_get(f"{base}/readyz")
            assert status == 503, body
            assert set(body["problems"]) == {"archiveDir"}, body
            assert body["problems"]["archiveDir"] == "No space left on device"
            assert list(archive.iterdir()) == []  # the probe's file did not stay behind
            (disk / "filler").unlink()
            wait_for(lambda: timed_get(f"{base}/readyz")[0] == 200, what="/readyz 200")
