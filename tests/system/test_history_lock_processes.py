"""Two processes never move the history branch at once: the repository's lock excludes a
second process, and a ref lock left by a killed writer does not block the next one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.errors import HistoryError
from service.history.commits import deletion_change
from service.history.repo import HistoryRepo

HOLDER = """
import sys
from pathlib import Path
from service.history.repo import HistoryRepo
with HistoryRepo.open(Path(sys.argv[1])) as repo, repo.lock():
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_the_lock_excludes_a_second_process(tmp_path: Path) -> None:
    path = tmp_path / "history.git"
    HistoryRepo.open(path).close()
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            with HistoryRepo.open(path) as repo:
                started = time.monotonic()
                with (
                    pytest.raises(HistoryError, match="locked by another process"),
                    repo.lock(0.3),
                ):
                    pytest.fail("the lock was granted while another process held it")
                assert time.monotonic() - started >= 0.3
                assert holder.stdin is not None
                holder.stdin.close()  # the holder lets go
                with repo.lock(30):
                    assert holder.wait(30) == 0
        finally:
            holder.kill()


def test_a_ref_lock_left_by_a_killed_writer_is_cleared_under_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "history.git"
    with HistoryRepo.open(path) as repo:
        (path / "refs" / "heads" / "main.lock").write_text("left by a killed writer\n")
        change = deletion_change("flow", "x", "X", "2026-12-01T00:00:00Z", None, None)
        with repo.lock(5):
            [commit] = repo.commit([change], parent=None)
        assert repo.head() == commit
    assert not (path / "refs" / "heads" / "main.lock").exists()
