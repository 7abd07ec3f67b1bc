"""The report scripts as an admin runs them: real archives of the simulator's strategies, a
dead job and a dead delivery made with ledger verbs, then each script as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from service.backoff import JOBS
from service.clock import utcnow
from service.ledger import DeliveryState, IncomingEvent, Ledger, Submission, outbox
from service.ledger import archives as ledger_archives
from service.ledger import events as ledger_events
from service.ledger import jobs as ledger_jobs
from service.reports.summary import daily_summary
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from service.simulator.archival import ArchivalSink
from tests.helpers import ARCHIVER, cli_env

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
HOOK = "http://127.0.0.1:9/hook"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DEAD_ERROR = "Genesys Cloud answered 404: flow configuration not found"
UNKNOWN = "0d6f5a8e-2b4c-4e1a-9f3d-7c8b9a0e1f2d"


@dataclass
class History:
    env: dict[str, str]
    cwd: Path
    versions: list[tuple[str, int, str]]  # the flow's (version id, number, author)
    keys: list[str]  # the flow's archive keys, oldest first
    dead_job: str
    retried_job: str
    dead_delivery: str
    delivered: str


def run_script(
    name: str, *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def archive(env: dict[str, str], cwd: Path, strategy: str, source: str) -> int:
    done = subprocess.run(
        [*ARCHIVER, "archive", strategy, "--source", source],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode


@pytest.fixture
def history(simulator: SimulatorServer, tmp_path: Path) -> History:
    """The flow archived twice (the second run incremental), the routing strategy archived
    and refused by the archival endpoint, completion events to one webhook (one delivered,
    one dead), an accepted and an ignored event for the flow, its job dead, and a retried
    job for the routing strategy."""
    env = cli_env(simulator, tmp_path, VCS_WEBHOOK_URLS=HOOK, VCS_WEBHOOK_SECRET=SECRET)
    assert archive(env, tmp_path, DEMO_FLOW_ID, "flow") == 0
    simulator.state.add_versions(DEMO_FLOW_ID, 2)
    assert archive(env, tmp_path, DEMO_FLOW_ID, "flow") == 0
    with ArchivalSink() as sink:
        sink.state.fail_next(422, message="retention exceeds quota")
        assert (
            archive(
                {**env, "ARCHIVAL_ENDPOINT": sink.url},
                tmp_path,
                DEMO_STRATEGY_ID,
                "routing-strategy",
            )
            == 1
        )
    item = simulator.state.item("flow", DEMO_FLOW_ID)
    assert item is not None
    versions = [(v.id, v.number, v.author.name) for v in item.versions]
    assert len(versions) == 5

    with Ledger(tmp_path / "ledger.db") as ledger:
        keys = [
            a.idempotency_key
            for a in reversed(ledger_archives.list_archives(ledger, strategy_id=DEMO_FLOW_ID))
        ]
        assert len(keys) == 2
        event = IncomingEvent(
            dedup_key="eb-flow-1",
            topic=f"v2.flows.{DEMO_FLOW_ID}",
            body="{}",
            source_type="flow",
            strategy_id=DEMO_FLOW_ID,
        )
        ignored = IncomingEvent(
            dedup_key="eb-flow-2",
            topic=f"v2.flows.{DEMO_FLOW_ID}",
            body="{}",
            source_type="flow",
            strategy_id=DEMO_FLOW_ID,
            ignore_reason="a draft save, not a new version",
        )
        accepted = ledger_events.accept_events(ledger, [event, ignored, event])
        assert (accepted.accepted, accepted.ignored, accepted.duplicates) == (1, 1, 1)
        (dead_job,) = accepted.jobs
        assert ledger_jobs.claim(ledger, "reports", lease_seconds=60, max_running=5) is not None
        ledger_jobs.fail(
            ledger, dead_job, "reports", DEAD_ERROR, retryable=False, retry=JOBS, notify=[HOOK]
        )
        retried_job, _ = ledger_jobs.enqueue(
            ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="sweep"
        )
        assert ledger_jobs.claim(ledger, "reports", lease_seconds=60, max_running=5) is not None
        ledger_jobs.fail(
            ledger, retried_job, "reports", "Genesys Cloud answered 503", retryable=True, retry=JOBS
        )
        # The oldest deliveries are the flow's two completion events: one delivered, one dead.
        ids = []
        for outcome, status in ((DeliveryState.DELIVERED, 200), (DeliveryState.DEAD, 410)):
            claimed = outbox.claim_delivery(ledger, "reports", lease_seconds=60, targets=[HOOK])
            assert claimed is not None and claimed.event_type == "strategy.archive.completed"
            outbox.record_attempt(
                ledger,
                claimed.id,
                "reports",
                outcome=outcome,
                status=status,
                detail=f"{status} answer",
            )
            ids.append(claimed.id)
    return History(env, tmp_path, versions, keys, dead_job, retried_job, ids[1], ids[0])


def test_strategy_history_tells_the_whole_story(history: History) -> None:
    result = run_script("strategy_history.py", DEMO_FLOW_ID, env=history.env, cwd=history.cwd)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert report.startswith("# Strategy history: Main inbound\n")
    assert "- Source type: flow" in report
    assert "VERIFICATION FAILED" not in report
    lines = report.splitlines()
    first, second = history.keys
    for version_id, number, author in history.versions:
        (row,) = [line for line in lines if line.startswith(f"| {version_id} | {number} |")]
        # versions 1-3 in the first archive, 4-5 in the incremental second one
        assert row.endswith(f"| {author} | yes | {first if number <= 3 else second} |")
    assert sum(f"| {first} | 3 | local |" in line for line in lines) == 1
    assert sum(f"| {second} | 2 | local |" in line for line in lines) == 1
    assert report.count("verified (SHA-256 matches)") == 2
    assert f"| {history.dead_job} | event | dead | 1 |" in report
    assert DEAD_ERROR in report
    assert "| queued |" in report and "a draft save, not a new version" in report
    assert f"| {history.delivered} | strategy.archive.completed | {HOOK} | delivered |" in report
    assert (
        f"| {history.dead_delivery} | strategy.archive.completed | {HOOK} | dead | 1 | 410 |"
        in report
    )
    assert "| strategy.archive.failed |" in report  # the dead job's event, still pending
    for action in ("archive.stored", "event.accepted", "job.dead", "delivery.dead"):
        assert f"| {action} |" in report
    # nothing about the routing strategy
    assert DEMO_STRATEGY_ID not in report and history.retried_job not in report
    assert lines[-1].startswith("Audit chain verifies: ")
    assert lines[-1].endswith("entries, hash chain intact.")


def test_strategy_history_as_json_to_a_file(history: History) -> None:
    out = history.cwd / "reports" / "flow.json"
    out.parent.mkdir()
    result = run_script(
        "strategy_history.py",
        DEMO_FLOW_ID,
        "--json",
        "--out",
        str(out),
        env=history.env,
        cwd=history.cwd,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    report = json.loads(out.read_text())
    assert set(report) == {
        "strategy",
        "versions",
        "archives",
        "events",
        "jobs",
        "deliveries",
        "audit",
        "auditChain",
        "problems",
    }
    assert report["strategy"]["name"] == "Main inbound"
    assert report["strategy"]["sourceType"] == "flow"
    assert report["strategy"]["firstSeenAt"]
    assert [
        (v["versionId"], v["versionNumber"], v["originalAuthor"]) for v in report["versions"]
    ] == history.versions
    assert all(v["verified"] and v["createdDate"] and v["modifiedDate"] for v in report["versions"])
    assert [[a["idempotencyKey"] for a in v["archives"]] for v in report["versions"]] == [
        [history.keys[0]]
    ] * 3 + [[history.keys[1]]] * 2
    assert [a["idempotencyKey"] for a in report["archives"]] == history.keys
    assert [a["versionCount"] for a in report["archives"]] == [3, 2]
    assert all(a["documentVerified"] and a["submission"] == "local" for a in report["archives"])
    assert [(e["outcome"], e["reason"]) for e in report["events"]] == [
        ("queued", None),
        ("ignored", "a draft save, not a new version"),
    ]
    (job,) = report["jobs"]
    assert (job["jobId"], job["state"], job["lastError"]) == (history.dead_job, "dead", DEAD_ERROR)
    assert [(d["eventType"], d["state"]) for d in report["deliveries"]] == [
        ("strategy.archive.completed", "delivered"),
        ("strategy.archive.completed", "dead"),
        ("strategy.archive.failed", "pending"),
    ]
    actions = [a["action"] for a in report["audit"]]
    assert actions.count("archive.stored") == 2
    assert {"event.accepted", "event.ignored", "job.queued", "job.started", "job.dead"} <= set(
        actions
    )
    assert {"delivery.delivered", "delivery.dead"} <= set(actions)
    assert [a["seq"] for a in report["audit"]] == sorted(a["seq"] for a in report["audit"])
    assert report["auditChain"]["intact"] is True and report["auditChain"]["entries"] > len(actions)
    assert report["problems"] == []


def test_strategy_history_reports_a_tampered_document_loudly(history: History) -> None:
    folder = history.cwd / "archive" / "flow" / DEMO_FLOW_ID
    document = folder / f"{history.keys[0]}.json"
    document.write_text(
        document.read_text().replace('"originalAuthor": "', '"originalAuthor": "Mallory ')
    )
    result = run_script("strategy_history.py", DEMO_FLOW_ID, env=history.env, cwd=history.cwd)
    assert result.returncode == 1
    assert "**VERIFICATION FAILED: 1 problem(s)." in result.stdout
    assert "does not match its recorded SHA-256" in result.stdout
    assert "Mallory" not in result.stdout
    assert "FAILED VERIFICATION" in result.stderr and history.keys[0] in result.stderr
    as_json = run_script(
        "strategy_history.py", DEMO_FLOW_ID, "--json", env=history.env, cwd=history.cwd
    )
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert [a["documentVerified"] for a in report["archives"]] == [False, True]
    (problem,) = report["problems"]
    assert history.keys[0] in problem and "SHA-256" in problem
    # versions only the altered document describes are listed by id, unverified
    listed = [(v["versionId"], v["verified"], v["originalAuthor"]) for v in report["versions"]]
    older, newer = history.versions[:3], history.versions[3:]
    assert listed == [(vid, False, None) for vid, _, _ in older] + [
        (vid, True, author) for vid, _, author in newer
    ]


def test_strategy_history_refuses_bad_ids_and_unknown_strategies(history: History) -> None:
    bad = run_script("strategy_history.py", "not-a-uuid", env=history.env, cwd=history.cwd)
    assert bad.returncode == 2
    assert bad.stderr.startswith("strategy_history: strategy id must be a UUID")
    assert len(bad.stderr.strip().splitlines()) == 1
    missing_arg = run_script("strategy_history.py", env=history.env, cwd=history.cwd)
    assert missing_arg.returncode == 2
    assert len(missing_arg.stderr.strip().splitlines()) == 1
    unknown = run_script("strategy_history.py", UNKNOWN, env=history.env, cwd=history.cwd)
    assert unknown.returncode == 1
    assert (
        unknown.stderr.strip() == f"strategy_history: strategy {UNKNOWN} is unknown to the ledger"
    )
    assert unknown.stdout == ""
    no_ledger = run_script(
        "strategy_history.py",
        DEMO_FLOW_ID,
        env={**history.env, "ARCHIVER_DB": str(history.cwd / "nope.db")},
        cwd=history.cwd,
    )
    assert no_ledger.returncode == 1
    assert "no ledger at" in no_ledger.stderr
    assert not (history.cwd / "nope.db").exists()
    bad_config = run_script(
        "strategy_history.py",
        DEMO_FLOW_ID,
        env={**history.env, "RETENTION_DAYS": "soon"},
        cwd=history.cwd,
    )
    assert bad_config.returncode == 2
    assert "RETENTION_DAYS" in bad_config.stderr


def summary_json(history: History, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_script("daily_summary.py", *args, "--json", env=history.env, cwd=history.cwd)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_daily_summary_counts_the_day_and_flags_what_needs_attention(history: History) -> None:
    status, summary = summary_json(history, "--date", "today")
    assert status == 1
    assert summary["date"] == utcnow().date().isoformat()
    assert summary["complete"] is False
    archives = summary["archives"]
    assert archives["count"] == 3
    assert archives["bySourceType"]["flow"] == {"archives": 2, "versions": 5}
    assert archives["bySourceType"]["routing-strategy"]["archives"] == 1
    assert archives["versions"] == 5 + archives["bySourceType"]["routing-strategy"]["versions"]
    assert archives["bySubmission"] == {"local": 2, "rejected": 1}
    assert all(a["documentVerified"] for a in archives["list"])
    jobs = summary["jobs"]
    assert (jobs["queued"], jobs["done"], jobs["retried"], jobs["dead"]) == (2, 0, 1, 1)
    (dead,) = jobs["deadList"]
    assert (dead["jobId"], dead["strategyId"], dead["error"]) == (
        history.dead_job,
        DEMO_FLOW_ID,
        DEAD_ERROR,
    )
    (retried,) = jobs["retriedList"]
    assert (retried["jobId"], retried["state"]) == (history.retried_job, "waiting")
    events = summary["events"]
    assert (events["received"], events["accepted"], events["ignored"]) == (2, 1, 1)
    assert events["ignoredReasons"] == {"a draft save, not a new version": 1}
    assert events["duplicates"] is None
    assert summary["deliveries"]["byTarget"] == {HOOK: {"delivered": 1, "pending": 2, "dead": 1}}
    assert [d["deliveryId"] for d in summary["deliveries"]["deadList"]] == [history.dead_delivery]
    assert summary["auditChain"]["intact"] is True
    kinds = {item["kind"]: item for item in summary["attention"]}
    assert set(kinds) == {"dead-job", "dead-delivery", "submission-rejected"}
    assert DEAD_ERROR in kinds["dead-job"]["message"]
    assert "retention exceeds quota" in kinds["submission-rejected"]["message"]

    text = run_script("daily_summary.py", "--date", "today", env=history.env, cwd=history.cwd)
    assert text.returncode == 1
    assert text.stdout.startswith(f"# Daily summary for {summary['date']} (UTC) (so far, at ")
    attention = text.stdout.split("## Needs attention\n\n", 1)[1].split("\n\n", 1)[0]
    assert len(attention.splitlines()) == 3
    assert f"**dead-job**: job {history.dead_job} for strategy {DEMO_FLOW_ID}" in attention
    assert DEAD_ERROR in attention and history.dead_delivery in attention
    assert "3 archive(s) made" in text.stdout
    assert "By source type: flow 2 (5 versions), routing-strategy 1" in text.stdout
    assert "2 queued, 0 done, 1 retried (1 failed tries), 1 dead." in text.stdout
    assert "2 received: 1 accepted, 1 ignored" in text.stdout
    assert f"| {HOOK} | 1 | 2 | 1 |" in text.stdout
    assert "Audit chain verifies" in text.stdout


def test_daily_summary_defaults_to_yesterday_and_refuses_bad_dates(history: History) -> None:
    status, summary = summary_json(history)
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    assert summary["date"] == yesterday and summary["complete"] is True
    assert (summary["archives"]["count"], summary["jobs"]["dead"]) == (0, 0)
    assert summary["deliveries"]["count"] == 0 and summary["events"]["received"] == 0
    # the rejected submission is outstanding whatever day it was made
    assert [a["kind"] for a in summary["attention"]] == ["submission-rejected"]
    assert status == 1
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    for bad in ("2026-13-01", "yesterday-ish", "20261128", tomorrow):
        result = run_script("daily_summary.py", "--date", bad, env=history.env, cwd=history.cwd)
        assert result.returncode == 2, bad
        assert result.stderr.startswith("daily_summary: --date")
        assert len(result.stderr.strip().splitlines()) == 1
    unknown = run_script("daily_summary.py", "--dte", "today", env=history.env, cwd=history.cwd)
    assert unknown.returncode == 2


def test_daily_summary_of_a_quiet_day_exits_0(simulator: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(simulator, tmp_path)
    missing = run_script("daily_summary.py", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "no ledger at" in missing.stderr
    assert archive(env, tmp_path, DEMO_STRATEGY_ID, "routing-strategy") == 0
    today = run_script("daily_summary.py", "--date", "today", env=env, cwd=tmp_path)
    assert today.returncode == 0, today.stdout
    assert "Nothing needs attention." in today.stdout
    assert "1 archive(s) made" in today.stdout and "Submission states: local 1." in today.stdout
    yesterday = run_script("daily_summary.py", env=env, cwd=tmp_path)
    assert yesterday.returncode == 0
    assert "0 archive(s) made, 0 version(s) archived." in yesterday.stdout


def test_tampering_is_flagged_by_both_reports(simulator: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(simulator, tmp_path)
    assert archive(env, tmp_path, DEMO_FLOW_ID, "flow") == 0
    (document,) = (tmp_path / "archive").rglob("*.json")
    document.write_bytes(document.read_bytes().replace(b"Main inbound", b"Main outbound"))
    status, summary = summary_json(
        History(env, tmp_path, [], [], "", "", "", ""), "--date", "today"
    )
    assert status == 1
    (item,) = summary["attention"]
    assert item["kind"] == "document-mismatch" and "SHA-256" in item["message"]
    assert summary["archives"]["list"][0]["documentVerified"] is False

    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger.db.execute("DROP TRIGGER audit_log_no_update")
        ledger.db.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 1")
    status, summary = summary_json(
        History(env, tmp_path, [], [], "", "", "", ""), "--date", "today"
    )
    assert status == 1
    assert [a["kind"] for a in summary["attention"]] == ["document-mismatch", "audit-chain"]
    history = run_script("strategy_history.py", DEMO_FLOW_ID, env=env, cwd=tmp_path)
    assert history.returncode == 1
    assert "**Audit chain does NOT verify: entry 1 (archive.stored) was altered" in history.stdout
    assert "audit chain broken" in history.stderr


def test_a_submission_pending_for_over_an_hour_needs_attention(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(simulator, tmp_path)
    assert archive(env, tmp_path, DEMO_FLOW_ID, "flow") == 0
    with Ledger(tmp_path / "ledger.db") as ledger:
        (stored,) = ledger_archives.list_archives(ledger)
        ledger_archives.record_archive(
            ledger,
            idempotency_key="6c1d0e4e-31f4-5b8e-8d0a-2f3e4d5c6b7a",
            strategy_id=stored.strategy_id,
            source_type=stored.source_type,
            strategy_name=stored.strategy_name,
            version_ids=stored.version_ids,
            archive_timestamp=stored.archive_timestamp,
            sha256=stored.sha256,
            size=stored.size,
            location=stored.location,
            submission=Submission.PENDING,
        )
        today = utcnow().date()
        fresh = daily_summary(ledger, tmp_path / "archive", today)
        assert fresh["attention"] == []
        later = daily_summary(
            ledger, tmp_path / "archive", today, now=utcnow() + timedelta(hours=2)
        )
    (item,) = later["attention"]
    assert item["kind"] == "submission-pending"
    assert "is pending at the archival endpoint" in item["message"]
