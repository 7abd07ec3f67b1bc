"""``archiver ledger``, ``archiver audit verify`` and ``archiver outbox redeliver`` as an
admin runs them: a real process over a real ledger file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.backoff import JOBS
from service.ledger import (
    DeliveryState,
    IncomingEvent,
    Ledger,
    Submission,
    archives,
    events,
    outbox,
)
from service.ledger import audit as ledger_audit
from service.ledger import jobs as ledger_jobs
from tests.helpers import ARCHIVER

ARCHIVED = "38426578-d900-459f-a7e7-3260397f7ca3"
FAILED = "5b0c9a3e-8f1d-4a56-9b2e-0c7d1e2f3a4b"
HOOK = "http://127.0.0.1:9/hook"


@dataclass
class Populated:
    path: Path
    archive_id: str
    dead_job: str
    dead_delivery: str
    pending_delivery: str
    delivered: str


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ARCHIVER_DB": str(tmp_path / "l.db")}
    if os.environ.get("PYTHONPATH"):  # a checkout other than the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [*ARCHIVER, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def json_rows(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    result = cli(tmp_path, "ledger", *args, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


@pytest.fixture
def populated(tmp_path: Path) -> Populated:
    """An archive announced to two targets, a dead job, an inbound event; one delivery of
    each state."""
    with Ledger(tmp_path / "l.db") as ledger:
        events.accept_events(
            ledger,
            [
                IncomingEvent(
                    dedup_key="eb-1",
                    topic="v2.flows.{id}",
                    body="{}",
                    source_type="routing-strategy",
                    strategy_id=ARCHIVED,
                )
            ],
        )
        queued = ledger_jobs.claim(ledger, "setup", lease_seconds=60, max_running=5)
        assert queued is not None
        record = archives.record_archive(
            ledger,
            idempotency_key="key-1",
            strategy_id=ARCHIVED,
            source_type="routing-strategy",
            strategy_name="Priority routing",
            version_ids=["v1", "v2"],
            archive_timestamp="2026-11-28T07:00:00.000Z",
            sha256="ab" * 32,
            size=10,
            location=f"routing-strategy/{ARCHIVED}/key-1.json",
            submission=Submission.LOCAL,
            notify=[HOOK, "gh"],
        )
        ledger_jobs.complete(ledger, queued.id, "setup", {"archiveId": record.id})
        dead_job, _ = ledger_jobs.enqueue(ledger, FAILED, "flow", reason="admin")
        assert ledger_jobs.claim(ledger, "setup", lease_seconds=60, max_running=5) is not None
        ledger_jobs.fail(
            ledger,
            dead_job,
            "setup",
            "404 flow not found",
            retryable=False,
            retry=JOBS,
            notify=[HOOK],
        )
        # the archive's two deliveries: one delivered, one dead (410)
        outcomes = {"gh": DeliveryState.DEAD, HOOK: DeliveryState.DELIVERED}
        ids = {}
        for target, outcome in outcomes.items():
            claimed = outbox.claim_delivery(ledger, "setup", lease_seconds=60, targets=[target])
            assert claimed is not None and claimed.event_type == "strategy.archive.completed"
            status = 410 if outcome is DeliveryState.DEAD else 200
            outbox.record_attempt(
                ledger,
                claimed.id,
                "setup",
                outcome=outcome,
                status=status,
                detail=f"{status} answer",
            )
            ids[target] = claimed.id
        (pending,) = outbox.list_deliveries(ledger, state="pending")
    return Populated(tmp_path / "l.db", record.id, dead_job, ids["gh"], pending.id, ids[HOOK])


def test_each_kind_lists_as_json_newest_first(tmp_path: Path, populated: Populated) -> None:
    (failed, archived) = json_rows(tmp_path, "strategies")
    assert (failed["strategyId"], failed["deadJobs"], failed["archives"]) == (FAILED, 1, 0)
    assert (archived["strategyId"], archived["archives"], archived["jobs"]) == (ARCHIVED, 1, 1)
    assert archived["name"] == "Priority routing"

    (archive,) = json_rows(tmp_path, "archives")
    assert archive["archiveId"] == populated.archive_id
    assert (archive["versionIds"], archive["submission"]) == (["v1", "v2"], "local")

    jobs = json_rows(tmp_path, "jobs")
    assert [(j["strategyId"], j["state"]) for j in jobs] == [(FAILED, "dead"), (ARCHIVED, "done")]
    assert jobs[0]["lastError"] == "404 flow not found"

    (event,) = json_rows(tmp_path, "events")
    assert (event["strategyId"], event["outcome"], event["topic"]) == (
        ARCHIVED,
        "queued",
        "v2.flows.{id}",
    )

    deliveries = json_rows(tmp_path, "deliveries")
    assert [d["eventType"] for d in deliveries] == [
        "strategy.archive.failed",
        "strategy.archive.completed",
        "strategy.archive.completed",
    ]
    assert {d["deliveryId"]: d["state"] for d in deliveries} == {
        populated.pending_delivery: "pending",
        populated.dead_delivery: "dead",
        populated.delivered: "delivered",
    }

    audit = json_rows(tmp_path, "audit", "--limit", "0")
    assert [a["seq"] for a in audit] == sorted((a["seq"] for a in audit), reverse=True)
    assert [a["action"] for a in audit[-2:]] == ["event.accepted", "job.queued"]
    assert audit[0]["action"] == "delivery.delivered"
    assert audit[0]["detail"]["target"] == HOOK


def test_filters_by_strategy_status_and_since(tmp_path: Path, populated: Populated) -> None:
    assert [j["jobId"] for j in json_rows(tmp_path, "jobs", "--status", "dead")] == [
        populated.dead_job
    ]
    assert json_rows(tmp_path, "jobs", "--status", "waiting") == []
    assert [j["strategyId"] for j in json_rows(tmp_path, "jobs", "--strategy", ARCHIVED)] == [
        ARCHIVED
    ]
    (dead,) = json_rows(tmp_path, "deliveries", "--status", "dead")
    assert (dead["deliveryId"], dead["lastStatus"], dead["target"]) == (
        populated.dead_delivery,
        410,
        "gh",
    )
    failed = json_rows(tmp_path, "deliveries", "--strategy", FAILED)
    assert [d["eventType"] for d in failed] == ["strategy.archive.failed"]
    assert json_rows(tmp_path, "archives", "--status", "submitted") == []
    assert len(json_rows(tmp_path, "archives", "--status", "local")) == 1
    audited = json_rows(tmp_path, "audit", "--strategy", FAILED)
    assert [a["action"] for a in audited] == ["job.dead", "job.started", "job.queued"]
    assert json_rows(tmp_path, "strategies", "--strategy", FAILED)[0]["sourceType"] == "flow"
    assert len(json_rows(tmp_path, "jobs", "--limit", "1")) == 1
    for kind in ("strategies", "archives", "jobs", "events", "deliveries", "audit"):
        assert json_rows(tmp_path, kind, "--since", "2999-01-01T00:00:00+01:00") == [], kind
        assert json_rows(tmp_path, kind, "--since", "2000-01-01") != [], kind


def test_human_tables_are_aligned_columns(tmp_path: Path, populated: Populated) -> None:
    result = cli(tmp_path, "ledger", "deliveries")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == [
        "CREATED",
        "DELIVERY",
        "TARGET",
        "TYPE",
        "STATE",
        "ATTEMPTS",
        "STATUS",
        "NEXT",
        "ATTEMPT",
        "LAST",
        "ERROR",
    ]
    assert len(lines) == 3
    assert populated.pending_delivery in lines[0] and "strategy.archive.failed" in lines[0]
    for heading in ("DELIVERY", "TARGET", "STATE", "ATTEMPTS"):
        column = header.index(heading)
        assert all(line[column - 2 : column] == "  " for line in lines), heading
        assert all(line[column] != " " for line in lines), heading
    dead = next(line for line in lines if populated.dead_delivery in line)
    assert dead[header.index("STATE") :].startswith("dead ")
    assert "410 answer" in dead

    for kind, first in (
        ("strategies", FAILED),
        ("archives", populated.archive_id),
        ("jobs", populated.dead_job),
        ("events", ARCHIVED),
        ("audit", "delivery.delivered"),
    ):
        table = cli(tmp_path, "ledger", kind)
        assert table.returncode == 0, table.stderr
        assert first in table.stdout.splitlines()[1], kind

    nothing = cli(tmp_path, "ledger", "jobs", "--status", "running")
    assert (nothing.returncode, nothing.stdout) == (0, "no jobs\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "--since", "last tuesday"], "'--since': must be an ISO-8601 time"),
        (["jobs", "--since", "2026-13-01"], "'--since'"),
        (["archives", "--strategy", "not-a-uuid"], "'--strategy': strategy id must be"),
        (["jobs", "--status", "finished"], "--status for jobs must be one of waiting, running"),
        (["events", "--status", "queued"], "--status applies only to archives, jobs, deliveries"),
        (["jobs", "--limit", "-1"], "'--limit'"),
        (["everything"], "'everything' is not one of"),
    ],
)
def test_bad_options_exit_2_naming_them(
    tmp_path: Path, populated: Populated, args: list[str], message: str
) -> None:
    result = cli(tmp_path, "ledger", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_without_a_ledger_the_admin_commands_exit_1(tmp_path: Path) -> None:
    for args in (["ledger", "jobs"], ["audit", "verify"], ["outbox", "redeliver", "--dead"]):
        result = cli(tmp_path, *args)
        assert result.returncode == 1, args
        assert result.stderr == f"archiver: no ledger at {tmp_path / 'l.db'} (ARCHIVER_DB)\n"
    assert not (tmp_path / "l.db").exists()  # an admin query never creates one


def test_audit_verify_finds_an_edited_entry(tmp_path: Path, populated: Populated) -> None:
    with Ledger(populated.path) as ledger:
        entries = ledger_audit.audit_entries(ledger)
        total = len(entries)
        victim = next(e for e in entries if e.action == "job.dead")
    good = cli(tmp_path, "audit", "verify")
    assert (good.returncode, good.stdout) == (
        0,
        f"{total} entries, hash chain intact\nhead {total}:{entries[-1].hash}\n",
    )

    with Ledger(populated.path) as ledger:
        with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
            ledger.db.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 1")
        ledger.db.execute("DROP TRIGGER audit_log_no_update")
        ledger.db.execute(
            "UPDATE audit_log SET detail = replace(detail, '404', '500') WHERE seq = ?",
            [victim.seq],
        )
    bad = cli(tmp_path, "audit", "verify")
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert f"entry {victim.seq} (job.dead) was altered" in bad.stderr


def _delete_tail(ledger: Ledger, keep: int) -> None:
    """Drop the trigger, delete every entry after ``keep``, put the trigger back."""
    ledger.db.execute("DROP TRIGGER audit_log_no_delete")
    ledger.db.execute("DELETE FROM audit_log WHERE seq > ?", [keep])
    ledger.db.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit log entries cannot be deleted'); END"
    )


def _more_entries(ledger: Ledger) -> int:
    """Five more entries, so that ten can go at the end; the number there are now."""
    for n in range(5):
        ledger_audit.append(ledger, "admin.test", None, n=n)
    return len(ledger_audit.audit_entries(ledger))


def _recorded_head(tmp_path: Path) -> str:
    """The head a verify prints, as an operator would copy it out of the ledger."""
    good = cli(tmp_path, "audit", "verify")
    assert good.returncode == 0, good.stderr
    (line,) = [line for line in good.stdout.splitlines() if line.startswith("head ")]
    return line.removeprefix("head ")


def test_audit_verify_finds_entries_removed_at_the_end(
    tmp_path: Path, populated: Populated
) -> None:
    with Ledger(populated.path) as ledger:
        total = _more_entries(ledger)
        _delete_tail(ledger, total - 10)
    expected = (
        f"archiver: audit log broken: entries {total - 9} to {total} are missing at the end"
        f" (the audit head records entry {total})\n"
    )
    bad = cli(tmp_path, "audit", "verify")
    assert (bad.returncode, bad.stdout, bad.stderr) == (1, "", expected)

    # SQLite's counter wound back as well: the anchor still knows
    with Ledger(populated.path) as ledger:
        ledger.db.execute(
            "UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_log'", [total - 10]
        )
    still = cli(tmp_path, "audit", "verify")
    assert (still.returncode, still.stdout, still.stderr) == (1, "", expected)


def test_audit_verify_expect_head_catches_a_consistent_rewind(
    tmp_path: Path, populated: Populated
) -> None:
    with Ledger(populated.path) as ledger:
        total = _more_entries(ledger)
    recorded = _recorded_head(tmp_path)
    with Ledger(populated.path) as ledger:
        _delete_tail(ledger, total - 10)
        ledger.db.execute(
            "UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_log'", [total - 10]
        )
        ledger.db.execute("DROP TRIGGER audit_head_forward_only")
        ledger.db.execute(
            "UPDATE audit_head SET seq = seq - 10,"
            " hash = (SELECT hash FROM audit_log WHERE seq = ?)",
            [total - 10],
        )
    # what the ledger alone cannot prove: it is consistent with itself again
    rewound = cli(tmp_path, "audit", "verify")
    assert (rewound.returncode, rewound.stdout.splitlines()[0]) == (
        0,
        f"{total - 10} entries, hash chain intact",
    )
    caught = cli(tmp_path, "audit", "verify", "--expect-head", recorded)
    assert (caught.returncode, caught.stdout) == (1, "")
    assert caught.stderr == (
        f"archiver: audit log broken: the recorded head {recorded} is not in the log:"
        f" it ends at entry {total - 10}\n"
    )
    current = _recorded_head(tmp_path)
    kept = cli(tmp_path, "audit", "verify", "--expect-head", current.upper())
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.splitlines()[1:] == [
        f"recorded head {total - 10} found unchanged",
        f"head {current}",
    ]


@pytest.mark.parametrize(
    "head", ["12", "x:" + "a" * 64, "12:abc", "1e3:" + "a" * 64, "1:" + "g" * 64, ""]
)
def test_audit_verify_refuses_a_malformed_head(
    tmp_path: Path, populated: Populated, head: str
) -> None:
    result = cli(tmp_path, "audit", "verify", "--expect-head", head)
    assert (result.returncode, result.stdout) == (2, "")
    assert "'--expect-head': must be SEQ:HASH" in result.stderr


def test_outbox_redeliver_one_or_every_dead_delivery(tmp_path: Path, populated: Populated) -> None:
    for delivery_id, state in (
        (populated.delivered, "delivered"),
        (populated.pending_delivery, "pending"),
    ):
        refused = cli(tmp_path, "outbox", "redeliver", "--id", delivery_id)
        assert refused.returncode == 1
        assert refused.stderr == (
            f"archiver: delivery {delivery_id} is {state}, not dead: nothing to send again\n"
        )
    unknown = "00000000-0000-4000-8000-000000000000"
    missing = cli(tmp_path, "outbox", "redeliver", "--id", unknown)
    assert (missing.returncode, missing.stderr) == (1, f"archiver: no delivery {unknown}\n")

    one = cli(tmp_path, "outbox", "redeliver", "--id", populated.dead_delivery)
    assert (one.returncode, one.stdout) == (0, "1 dead delivery(ies) pending again, due now\n")
    with Ledger(populated.path) as ledger:
        again = outbox.get_delivery(ledger, populated.dead_delivery)
        assert again is not None
        assert (again.state, again.attempts) == (DeliveryState.PENDING, 0)
        (entry,) = [e for e in ledger_audit.audit_entries(ledger) if e.action == "admin.redeliver"]
        assert entry.subject == populated.dead_delivery
        # dead again, with the failed event's delivery too
        for _ in range(2):
            claimed = outbox.claim_delivery(ledger, "setup", lease_seconds=60, targets=["gh", HOOK])
            assert claimed is not None
            outbox.record_attempt(
                ledger, claimed.id, "setup", outcome=DeliveryState.DEAD, status=None, detail="gone"
            )
    every = cli(tmp_path, "outbox", "redeliver", "--dead")
    assert (every.returncode, every.stdout) == (0, "2 dead delivery(ies) pending again, due now\n")
    assert json_rows(tmp_path, "deliveries", "--status", "dead") == []
    none = cli(tmp_path, "outbox", "redeliver", "--dead")
    assert (none.returncode, none.stdout) == (0, "0 dead delivery(ies) pending again, due now\n")


@pytest.mark.parametrize(
    "args",
    [[], ["--dead", "--id", "00000000-0000-4000-8000-000000000000"], ["--id", "nope"]],
    ids=["neither", "both", "bad-id"],
)
def test_outbox_redeliver_usage_errors_exit_2(
    tmp_path: Path, populated: Populated, args: list[str]
) -> None:
    result = cli(tmp_path, "outbox", "redeliver", *args)
    assert result.returncode == 2
    assert "usage: archiver outbox redeliver" in result.stderr
    with Ledger(populated.path) as ledger:
        assert len(outbox.list_deliveries(ledger, state="dead")) == 1
