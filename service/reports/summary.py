"""One UTC day's summary, and what needs attention, for ``scripts/daily_summary.py``.

One plain dict (JSON-ready); ``render.markdown_table`` renders its lists for people.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..clock import iso, utcnow
from ..ledger import DeliveryState, Ledger, Submission, archives, jobs, outbox, present, queries
from . import Row
from .verify import audit_chain, verified_matrix

PENDING_TOO_LONG = timedelta(hours=1)  # a submission still pending after this needs attention


def daily_summary(
    ledger: Ledger, archive_dir: Path, day: date, *, now: datetime | None = None
) -> Row:
    """What happened on the UTC day ``day``, and what needs attention.

    Archives made, events received and jobs queued that day; jobs that finished, died or
    failed a try that day (from the audit log, so a job queued the day before counts on the
    day it ended); deliveries made or settled that day, by target, in their state now.

    ``attention`` lists: jobs that died that day, those deliveries that are dead now, the
    day's archive documents that fail their SHA-256 check, a broken audit chain, and, as of
    ``now`` whatever day they were made, every archive whose submission was rejected or has
    been pending for more than an hour (they stay listed until resolved: the archival
    service does not hold them).
    """
    now = now or utcnow()
    start_at = datetime.combine(day, time(), tzinfo=UTC)
    start, end = iso(start_at), iso(start_at + timedelta(days=1))
    attention: list[Row] = []

    made = [a for a in reversed(archives.list_archives(ledger, since=start)) if a.created_at < end]
    archive_rows = []
    for record in made:
        _, problem = verified_matrix(archive_dir, record.location, record.sha256)
        archive_rows.append(
            {
                "archiveId": record.id,
                "createdAt": record.created_at,
                "strategyId": record.strategy_id,
                "strategyName": record.strategy_name,
                "sourceType": record.source_type,
                "versionCount": len(record.version_ids),
                "idempotencyKey": record.idempotency_key,
                "submission": str(record.submission),
                "documentVerified": problem is None,
            }
        )
        if problem is not None:
            attention.append(
                _attention("document-mismatch", record.id, f"archive {record.id}: {problem}")
            )
    by_source: dict[str, Row] = {}
    for record in made:
        counts = by_source.setdefault(record.source_type, {"archives": 0, "versions": 0})
        counts["archives"] += 1
        counts["versions"] += len(record.version_ids)

    entries = queries.audit_between(ledger, start, end)
    actions: dict[str, list[Any]] = {}
    for entry in entries:
        actions.setdefault(entry.action, []).append(entry)
    dead_jobs = []
    for entry in actions.get("job.dead", []):
        job = jobs.get_job(ledger, entry.detail["jobId"])
        dead_jobs.append(
            {
                "jobId": entry.detail["jobId"],
                "strategyId": entry.subject,
                "sourceType": job.source_type if job else None,
                "tries": entry.detail.get("tries"),
                "diedAt": entry.at,
                "error": entry.detail.get("error"),
            }
        )
        attention.append(
            _attention(
                "dead-job",
                entry.detail["jobId"],
                f"job {entry.detail['jobId']} for strategy {entry.subject} died after "
                f"{entry.detail.get('tries')} tries: {entry.detail.get('error')}",
            )
        )
    retried: dict[str, Row] = {}
    for entry in actions.get("job.failed", []):
        row = retried.setdefault(
            entry.detail["jobId"],
            {"jobId": entry.detail["jobId"], "strategyId": entry.subject, "failedTries": 0},
        )
        row["failedTries"] += 1
        row["lastError"] = entry.detail.get("error")
    for job_id, row in retried.items():
        job = jobs.get_job(ledger, job_id)
        row["state"] = str(job.state) if job else None

    received = queries.events_between(ledger, start, end)
    ignored_reasons: dict[str, int] = {}
    for event in received:
        if event["outcome"] == "ignored":  # queued and deleted were accepted
            reason = event["reason"] or "no strategy"
            ignored_reasons[reason] = ignored_reasons.get(reason, 0) + 1

    touched = {
        d.id: d
        for d in outbox.list_deliveries(ledger, since=start, limit=None)
        if d.created_at < end
    }
    for entry in entries:
        delivery_id = (
            entry.detail.get("deliveryId") if entry.action.startswith("delivery.") else None
        )
        if delivery_id and delivery_id not in touched:
            found = outbox.get_delivery(ledger, delivery_id)
            if found is not None:
                touched[delivery_id] = found
    by_target: dict[str, dict[str, int]] = {}
    dead_deliveries = []
    for delivery in sorted(touched.values(), key=lambda d: (d.created_at, d.id)):
        counts = by_target.setdefault(delivery.target, {str(s): 0 for s in DeliveryState})
        counts[str(delivery.state)] += 1
        if delivery.state is DeliveryState.DEAD:
            dead_deliveries.append(present.delivery(delivery))
            attention.append(
                _attention(
                    "dead-delivery",
                    delivery.id,
                    f"delivery {delivery.id} ({delivery.event_type}) to {delivery.target} is "
                    f"dead after {delivery.attempts} attempt(s): {delivery.last_error}",
                )
            )

    overdue = iso(now - PENDING_TOO_LONG)
    outstanding = archives.list_archives(ledger, submission=Submission.REJECTED) + [
        a
        for a in archives.list_archives(ledger, submission=Submission.PENDING)
        if a.created_at < overdue
    ]
    for record in sorted(outstanding, key=lambda a: (a.created_at, a.id)):
        attention.append(
            _attention(
                f"submission-{record.submission}",
                record.id,
                f"archive {record.id} of {record.strategy_id} ({record.strategy_name}), made "
                f"{record.created_at}, is {record.submission} at the archival endpoint"
                + (f": {record.submission_detail}" if record.submission_detail else ""),
            )
        )
    chain = audit_chain(ledger)
    if not chain["intact"]:
        attention.append(_attention("audit-chain", None, f"audit chain broken: {chain['problem']}"))

    return {
        "date": day.isoformat(),
        "from": start,
        "until": end,
        "generatedAt": iso(now),
        "complete": end <= iso(now),
        "archives": {
            "count": len(made),
            "versions": sum(len(a.version_ids) for a in made),
            "bySourceType": by_source,
            "bySubmission": _count(str(a.submission) for a in made),
            "list": archive_rows,
        },
        "jobs": {
            "queued": len(actions.get("job.queued", [])),
            "done": len(actions.get("job.done", [])),
            "retried": len(retried),
            "failedTries": len(actions.get("job.failed", [])),
            "dead": len(dead_jobs),
            "deadList": dead_jobs,
            "retriedList": list(retried.values()),
        },
        "events": {
            "received": len(received),
            "accepted": sum(1 for e in received if e["outcome"] != "ignored"),
            "ignored": sum(1 for e in received if e["outcome"] == "ignored"),
            "ignoredReasons": ignored_reasons,
            # Duplicates are answered (202, counted in the response) but not stored.
            "duplicates": None,
        },
        "deliveries": {
            "count": len(touched),
            "byTarget": by_target,
            "deadList": dead_deliveries,
        },
        "auditChain": chain,
        "attention": attention,
    }


def _attention(kind: str, subject: str | None, message: str) -> Row:
    return {"kind": kind, "id": subject, "message": message}


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
