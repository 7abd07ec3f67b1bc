"""Audit notifications drive the deployed product: gunicorn records them, a worker archives.

The simulator (in this process) sends only the audit topic, the one change topic known to
reach EventBridge, in both forms: a new flow version sent directly, another flow's through
EventBridge, and a deletion. ``archiver ledger events`` then names who made each change.
"""

from __future__ import annotations

import json
import subprocess
from functools import partial
from pathlib import Path

from service.simulator import DEMO_FLOW_ID, SimulatorServer
from service.simulator.data import USERS
from tests.helpers import ADMIN_TOKEN, ARCHIVER, INBOUND_TOKEN, WORKER_TUNING, cli_env, wait_for
from tests.processes import archived, archives_of, audited_deployment

CLIENT_ID = "8e4c6b7d-3f7a-4db1-8d4f-5c6a7b8c9da4"  # the simulator's OAuth client


def audit_topic(flow_id: str) -> str:
    return f"v2.audits.entitytype.Flow.entityid.{flow_id}"


def ledger(env: dict[str, str], cwd: Path, kind: str, *flags: str) -> str:
    done = subprocess.run(
        [*ARCHIVER, "ledger", kind, *flags],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_audit_events_in_both_forms_archive_and_delete_naming_who(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    state = simulator.state
    other = state.add_strategy("flow", versions=2, name="Audited through EventBridge")
    doomed = state.add_strategy("flow", versions=1, name="Deleted soon")
    env = cli_env(
        simulator, tmp_path, INBOUND_TOKEN=INBOUND_TOKEN, ADMIN_TOKEN=ADMIN_TOKEN, **WORKER_TUNING
    )
    env.update(WEB_CONCURRENCY="1", WEB_THREADS="4")
    with audited_deployment(state, env, tmp_path) as deployed:
        base, admin, logs = deployed.base, deployed.admin, deployed.logs
        state.notify_form = "direct"
        (published,) = state.add_versions(DEMO_FLOW_ID)
        state.notify_form = "eventbridge"
        (second,) = state.add_versions(other)
        state.delete_flow(doomed, by=USERS[3])
        assert state.wait_notifications(10), logs()
        assert [(n.form, n.status) for n in state.notifications] == [
            ("direct", 202),
            ("eventbridge", 202),
            ("eventbridge", 202),
        ], logs()

        # Each audited change was archived by the worker: the whole history of each flow.
        for flow_id, newest in ((DEMO_FLOW_ID, published), (other, second)):
            (archive,) = wait_for(
                partial(archived, admin, base, flow_id),
                what=f"an archive of {flow_id}",
                details=logs,
            )
            assert newest in archive["versionIds"]
        assert archives_of(admin, base, doomed) == []

    events = json.loads(ledger(env, tmp_path, "events", "--json"))
    by_flow = {e["strategyId"]: e for e in events}
    assert len(events) == 3 and set(by_flow) == {DEMO_FLOW_ID, other, doomed}
    for flow_id, event in by_flow.items():
        assert (event["topic"], event["sourceType"]) == (audit_topic(flow_id), "flow")
        assert event["clientId"] == CLIENT_ID
    assert by_flow[doomed]["eventbridgeId"] and by_flow[other]["eventbridgeId"]
    assert by_flow[DEMO_FLOW_ID]["eventbridgeId"] is None
    assert (by_flow[doomed]["outcome"], by_flow[doomed]["jobId"]) == ("deleted", None)
    assert (by_flow[doomed]["userId"], by_flow[doomed]["userName"]) == (USERS[3].id, USERS[3].name)
    for flow_id in (DEMO_FLOW_ID, other):
        assert by_flow[flow_id]["outcome"] == "queued"
        item = state.item("flow", flow_id)
        assert item is not None
        assert by_flow[flow_id]["userName"] == item.versions[-1].author.name

    table = ledger(env, tmp_path, "events").splitlines()
    assert table[0].split()[:7] == [
        "RECEIVED",
        "EVENT",
        "STRATEGY",
        "OUTCOME",
        "JOB",
        "USER",
        "CLIENT",
    ]
    (deleted_line,) = [line for line in table if doomed in line]
    assert USERS[3].name in deleted_line and CLIENT_ID in deleted_line
