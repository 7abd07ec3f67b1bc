"""Audit events of every routing-configuration entity type drive the deployed product
(contract section 12): gunicorn records them, a worker archives each object they name.

The simulator (in this process) changes one object of each type and sends the audit topic
alone, in both forms; a WorkforceManagement schedule's event starts nothing; an IVR deleted
by an audit event is marked deleted and never archived.
"""

from __future__ import annotations

import json
import subprocess
from functools import partial
from pathlib import Path

from service.simulator import DEMO_QUEUE_ID, DEMO_TABLE_ID, SimulatorServer
from service.simulator.data import USERS
from tests.helpers import ADMIN_TOKEN, ARCHIVER, INBOUND_TOKEN, WORKER_TUNING, cli_env, wait_for
from tests.processes import archived, archives_of, audited_deployment

SNAPSHOTS = ("queue", "ivr", "schedule", "schedule-group", "emergency-group", "skill-group")


def test_audit_events_of_every_entity_type_archive_each_object(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    state, routing = simulator.state, simulator.state.routing
    env = cli_env(
        simulator, tmp_path, INBOUND_TOKEN=INBOUND_TOKEN, ADMIN_TOKEN=ADMIN_TOKEN, **WORKER_TUNING
    )
    env.update(WEB_CONCURRENCY="1", WEB_THREADS="4")
    changed = {kind: routing.ids(kind)[0] for kind in SNAPSHOTS}
    changed["queue"] = DEMO_QUEUE_ID
    doomed = routing.ids("ivr")[1]
    wfm = routing.ids("schedule")[1]
    other_table = routing.ids("decision-table")[1]
    with audited_deployment(state, env, tmp_path) as deployed:
        base, admin, logs = deployed.base, deployed.admin, deployed.logs
        for position, (kind, object_id) in enumerate(changed.items()):
            state.notify_form = ("direct", "eventbridge")[position % 2]
            routing.update(kind, object_id, {"description": f"Changed {kind}"}, USERS[2])
        state.notify_form = "direct"
        routing.publish(DEMO_TABLE_ID, USERS[3])  # a DecisionTableVersion event
        routing.update("decision-table", other_table, {"description": "Changed"}, USERS[3])
        routing.send_audit("Schedule", wfm, "Update", "WorkforceManagement")
        state.notify_form = "eventbridge"
        routing.delete("ivr", doomed, by=USERS[1])
        assert state.wait_notifications(10), logs()
        assert [n.status for n in state.notifications] == [202] * 10, logs()

        for kind, object_id in changed.items():
            (archive,) = wait_for(
                partial(archived, admin, base, object_id),
                what=f"an archive of {kind} {object_id}",
                details=logs,
            )
            assert archive["sourceType"] == kind
        (table,) = wait_for(
            partial(archived, admin, base, DEMO_TABLE_ID),
            what="an archive of the decision table",
            details=logs,
        )
        assert (table["sourceType"], sorted(table["versionIds"])) == (
            "decision-table",
            ["1", "2", "3"],
        )
        (other,) = wait_for(
            partial(archived, admin, base, other_table),
            what="an archive of the other decision table",
            details=logs,
        )
        assert other["versionIds"] == ["1"]
        assert archives_of(admin, base, doomed) == []
        assert archives_of(admin, base, wfm) == []

    done = subprocess.run(
        [*ARCHIVER, "ledger", "events", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    by_object = {e["strategyId"]: e for e in json.loads(done.stdout)}
    # The WorkforceManagement schedule's event is not stored.
    assert set(by_object) == {*changed.values(), DEMO_TABLE_ID, other_table, doomed}
    for kind, object_id in changed.items():
        event = by_object[object_id]
        assert (event["sourceType"], event["outcome"]) == (kind, "queued")
        assert event["userName"] == USERS[2].name
    table_event = by_object[DEMO_TABLE_ID]
    assert table_event["topic"].startswith("v2.audits.entitytype.DecisionTableVersion.")
    assert (table_event["sourceType"], table_event["userName"]) == ("decision-table", USERS[3].name)
    assert by_object[other_table]["topic"].startswith("v2.audits.entitytype.DecisionTable.")
    assert (by_object[doomed]["outcome"], by_object[doomed]["sourceType"]) == ("deleted", "ivr")
    assert by_object[doomed]["eventbridgeId"]
