"""``archiver sweep --discover`` over every enabled source (contract section 12): each
listing through its own paging (page numbers or the ``after`` cursor), entries that say
they are deleted passed over, one failing listing reported without stopping the others."""

from __future__ import annotations

import json
from pathlib import Path

from service.config import load_settings
from service.genesys.sources import SOURCE_TYPES
from service.ledger import Ledger, archives, jobs
from service.simulator import SimulatorServer
from service.worker import Worker
from tests.helpers import WORKER_TUNING, archiver, cli_env, running_worker, wait_for

ROUTING = ("queue", "ivr", "schedule", "schedule-group", "emergency-group", "skill-group")
LISTINGS = {
    "queue": "/api/v2/routing/queues",
    "ivr": "/api/v2/architect/ivrs",
    "schedule": "/api/v2/architect/schedules",
    "schedule-group": "/api/v2/architect/schedulegroups",
    "emergency-group": "/api/v2/architect/emergencygroups",
    "skill-group": "/api/v2/routing/skillgroups",
    "decision-table": "/api/v2/businessrules/decisiontables",
}


def queued(env: dict[str, str], cwd: Path) -> list[tuple[str, str]]:
    """(source type, id) of every job in the ledger, as ``archiver ledger jobs`` lists them."""
    listed = archiver("ledger", "jobs", "--json", "--limit", "0", env=env, cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    return sorted((j["sourceType"], j["strategyId"]) for j in json.loads(listed.stdout))


def live(simulator: SimulatorServer, source_type: str) -> list[tuple[str, str]]:
    """What discovery should find of a source: its listing's entries not deleted."""
    if source_type in ("flow", "routing-strategy"):
        return [(source_type, i) for i in simulator.state.strategy_ids(source_type)]
    docs = simulator.state.routing.listed(source_type)
    return [(source_type, d["id"]) for d in docs if d.get("state") != "deleted"]


def test_every_source_is_discovered_and_deleted_entries_passed_over(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    routing = simulator.state.routing
    # Still listed, with state deleted (as real emergency-group listings keep them).
    listed_deleted = routing.ids("emergency-group")[0]
    routing.delete("emergency-group", listed_deleted, "state")
    routing.delete("queue", routing.ids("queue")[0], "404")  # gone from the listing
    env = cli_env(simulator, tmp_path)

    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    expected = sorted(pair for kind in SOURCE_TYPES for pair in live(simulator, kind))
    assert queued(env, tmp_path) == expected
    assert ("emergency-group", listed_deleted) not in expected
    assert {kind for kind, _ in expected} == set(SOURCE_TYPES)
    line = result.stdout.splitlines()[0]
    assert line.startswith("discovered ") and line.endswith(" decision table(s)")
    counts = [part.split(" ")[0] for part in line[11:].replace(" and ", ", ").split(", ")]
    assert counts == [str(len(live(simulator, kind))) for kind in SOURCE_TYPES]
    requests = simulator.state.requests
    for path in LISTINGS.values():  # one page each: the seeded org is small
        (listing,) = [r for r in requests if r.path == path]
        assert listing.query == {"pageSize": "100"}


def test_a_failing_listing_is_reported_and_the_others_go_on(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.state.inject_fault(500, times=5, path=LISTINGS["ivr"])
    env = cli_env(simulator, tmp_path)

    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)

    assert result.returncode == 1  # a failure, not an absent listing
    (line,) = result.stderr.splitlines()
    assert line.startswith("archiver: ivr listing failed, skipped: Genesys Cloud answered 500")
    others = [kind for kind in SOURCE_TYPES if kind != "ivr"]
    assert queued(env, tmp_path) == sorted(p for kind in others for p in live(simulator, kind))
    assert " 0 IVR(s), " in result.stdout


def test_only_the_enabled_sources_are_listed(simulator: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(simulator, tmp_path, SOURCES="decision-table,skill-group")

    result = archiver("sweep", "--discover", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("discovered 3 skill group(s) and 2 decision table(s)\n")
    expected = live(simulator, "skill-group") + live(simulator, "decision-table")
    assert queued(env, tmp_path) == sorted(expected)
    paths = {r.path for r in simulator.state.requests if r.path.startswith("/api/v2")}
    assert paths == {LISTINGS["skill-group"], LISTINGS["decision-table"]}


def test_the_whole_org_is_archived_within_one_rate_limit(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    """Every source's calls share the process's pacing: a window far smaller than the org's
    calls is never exceeded, and every object of every source ends archived."""
    simulator.state.rate_limit.configure(allowed=15, window=1.0)
    env = cli_env(simulator, tmp_path, **{**WORKER_TUNING, "WORKER_THREADS": "4"})
    assert archiver("sweep", "--discover", env=env, cwd=tmp_path).returncode == 0
    settings = load_settings(env)

    with Ledger(settings.archiver_db) as ledger, running_worker(Worker(settings)):
        wait_for(
            lambda: set(jobs.job_counts(ledger)) == {"done"},
            timeout=90,
            what="every job done",
            details=lambda: str(jobs.job_counts(ledger)),
        )
        archived = {(a.source_type, a.strategy_id) for a in archives.list_archives(ledger)}

    assert simulator.state.rate_limit.refused == 0
    expected = {pair for kind in SOURCE_TYPES for pair in live(simulator, kind)}
    assert archived == expected
    calls = [r for r in simulator.state.requests if r.path.startswith("/api/v2")]
    assert len(calls) > 3 * 15  # several windows' worth: the pacing was needed
