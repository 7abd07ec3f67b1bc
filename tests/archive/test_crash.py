"""A real ``archiver`` process killed between storing and submitting is finished once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from service.ledger import Ledger, Submission, archives
from service.simulator import DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from tests.helpers import ARCHIVER, cli_env


@pytest.mark.parametrize("endpoint_stored_it", [False, True], ids=["lost", "stored-unanswered"])
def test_killed_during_submission_is_finished_exactly_once(
    simulator: SimulatorServer, tmp_path: Path, endpoint_stored_it: bool
) -> None:
    with ArchivalSink() as sink:
        env = cli_env(simulator, tmp_path, ARCHIVAL_ENDPOINT=sink.url)
        command = [*ARCHIVER, "archive", DEMO_STRATEGY_ID, "--source", "routing-strategy"]
        release = sink.state.hold_next(store_first=endpoint_stored_it)
        victim = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        try:
            while not sink.state.held.wait(0.1):
                assert victim.poll() is None, "the archiver ended before reaching the endpoint"
            with Ledger(tmp_path / "ledger.db") as ledger:
                (pending,) = archives.pending_submissions(ledger)  # stored and recorded first
        finally:
            victim.kill()
            victim.wait(timeout=30)
            release.set()
        assert victim.returncode == -9

        finish = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert finish.returncode == 0, finish.stderr
        assert "no new versions" in finish.stdout
        assert "finished 1 earlier archive" in finish.stdout

        document = (tmp_path / "archive" / pending.location).read_bytes()
        assert sink.state.stored == {pending.idempotency_key: document}
        accepted = [r.status for r in sink.state.received if r.status in (201, 409)]
        # one 201 in all; when the endpoint had stored the held request, the rerun got 409
        assert sorted(accepted) == ([201, 409] if endpoint_stored_it else [201])
        with Ledger(tmp_path / "ledger.db") as ledger:
            (archive,) = archives.list_archives(ledger)
            assert archive.id == pending.id
            assert archive.submission is Submission.SUBMITTED
        assert len(list((tmp_path / "archive").rglob("*.json"))) == 1
