"""A flow deleted in Genesys, met by a sweep: ``archiver worker`` and ``archiver`` commands as
real processes against the simulator over HTTP, events at a real local receiver."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from service.ledger import JobState, Ledger, deletions, jobs, queries
from service.simulator import DEMO_FLOW_ID, SimulatorServer
from service.simulator.receivers import WebhookReceiver
from tests.helpers import WORKER_TUNING, archiver, cli_env, wait_for
from tests.processes import workers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def events(receiver: WebhookReceiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received if r.status == 204]


def job_states(db: Path, strategy_id: str) -> list[JobState]:
    """The flow's jobs' states, oldest first."""
    with Ledger(db) as ledger:
        return [j.state for j in reversed(jobs.list_jobs(ledger, strategy_id=strategy_id))]


def test_a_deleted_flow_ends_deleted_once_is_passed_over_then_lives_again(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    with WebhookReceiver(secret=SECRET) as receiver:
        env = cli_env(
            simulator,
            tmp_path,
            **WORKER_TUNING,
            VCS_WEBHOOK_URLS=receiver.url,
            VCS_WEBHOOK_SECRET=SECRET,
        )
        with Ledger(db) as ledger:
            jobs.enqueue(ledger, DEMO_FLOW_ID, "flow", reason="event")
        with workers(env, tmp_path) as (worker,):
            receiver.wait_for(1, timeout=30)
            assert job_states(db, DEMO_FLOW_ID) == [JobState.DONE]

            # Deleted through the real route: the flow answers 410, its versions 404.
            deleted = simulator.state.flow_deletion
            simulator.state.delete_flow(DEMO_FLOW_ID)
            assert deleted(DEMO_FLOW_ID) is not None
            swept = archiver("sweep", env=env, cwd=tmp_path)
            assert swept.returncode == 0, swept.stderr
            assert "1 job(s) queued" in swept.stdout
            wait_for(
                lambda: job_states(db, DEMO_FLOW_ID)[-1] is JobState.DELETED,
                what="the sweep's job to end deleted",
            )
            receiver.wait_for(2, timeout=30)

            # The sweep passes it over now: nothing queued, no retry ever.
            again = archiver("sweep", env=env, cwd=tmp_path)
            assert again.returncode == 0, again.stderr
            assert "sweep: 0 strategies, 0 job(s) queued" in again.stdout

            listed = archiver("ledger", "strategies", "--json", env=env, cwd=tmp_path)
            (row,) = json.loads(listed.stdout)
            assert (row["strategyId"], row["state"], row["deadJobs"]) == (
                DEMO_FLOW_ID,
                "deleted",
                0,
            )
            assert row["deletedAt"]
            table = archiver("ledger", "strategies", env=env, cwd=tmp_path).stdout
            assert "deleted" in table.splitlines()[1]

            # By hand: told it is deleted, exit 0, nothing announced again.
            by_hand = archiver("archive", DEMO_FLOW_ID, "--source", "flow", env=env, cwd=tmp_path)
            assert by_hand.returncode == 0, by_hand.stderr
            assert f"flow {DEMO_FLOW_ID} is deleted in Genesys Cloud since " in by_hand.stdout
            assert "410" in by_hand.stdout

            # Back in the org with a new version: a discovery lists it, it lives again.
            simulator.state.restore_flow(DEMO_FLOW_ID)
            (new_version,) = simulator.state.add_versions(DEMO_FLOW_ID)
            found = archiver("sweep", "--discover", env=env, cwd=tmp_path)
            assert found.returncode == 0, found.stderr
            wait_for(
                lambda: job_states(db, DEMO_FLOW_ID).count(JobState.DONE) == 2,
                what="the flow archived again",
            )
            wait_for(
                lambda: [
                    e for e in events(receiver) if e["data"].get("versionIds") == [new_version]
                ],
                what="the new version's completion event",
            )
            assert worker.terminate() == 0, worker.output

    types = [e["type"] for e in events(receiver)]
    assert types[:2] == ["strategy.archive.completed", "strategy.deleted"]
    assert types.count("strategy.deleted") == 1
    gone = events(receiver)[1]["data"]
    assert gone["strategyId"] == DEMO_FLOW_ID
    assert (gone["strategyName"], gone["sourceType"]) == ("Main inbound", "flow")
    assert gone["deletedAt"] and "deletedBy" not in gone  # a 404 names nobody
    revived = [e for e in events(receiver) if e["data"].get("versionIds") == [new_version]]
    assert len(revived) == 1
    assert "strategy.archive.failed" not in types
    with Ledger(db) as ledger:
        assert deletions.deletion(ledger, DEMO_FLOW_ID, "flow") is None
        assert "strategy.live" in [e.action for e in queries.audit_about(ledger, [DEMO_FLOW_ID])]


def test_a_flow_genesys_never_showed_still_dies(simulator: SimulatorServer, tmp_path: Path) -> None:
    """A 404 for an id nobody ever saw is a wrong id, not a deletion: the job dies as before."""
    db = tmp_path / "ledger.db"
    unknown = str(uuid.uuid4())
    env = cli_env(simulator, tmp_path, **WORKER_TUNING)
    with Ledger(db) as ledger:
        jobs.enqueue(ledger, unknown, "flow", reason="admin")
    with workers(env, tmp_path) as (worker,):
        wait_for(lambda: job_states(db, unknown) == [JobState.DEAD], what="the job to die")
        assert worker.terminate() == 0, worker.output
    with Ledger(db) as ledger:
        assert deletions.deletion(ledger, unknown, "flow") is None
    by_hand = archiver("archive", unknown, "--source", "flow", env=env, cwd=tmp_path)
    assert by_hand.returncode == 1
    assert "404" in by_hand.stderr
