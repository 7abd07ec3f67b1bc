"""Admin queries over the ledger, as plain dicts: what ``archiver ledger`` prints.

One function per kind of record, all with the same filters, all built on ledger
verbs (no SQL here), newest first. Command line and scripts share them, and
``render_table`` turns their rows into aligned columns for people.

``strategy_history`` and ``daily_summary`` are the reports of ``scripts/``: one dict
each, built on the same verbs, with ``markdown_table`` for their human form.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .clock import iso, parse_iso, utcnow
from .errors import LedgerError, StorageError, UsageError
from .ledger import AuditEntry, DeliveryState, JobState, Ledger, Submission

Row = dict[str, Any]

DEFAULT_LIMIT = 100


def parse_since(text: str) -> str:
    """An ISO-8601 time (a date alone means its midnight UTC) in the ledger's own form.

    Raises ``ValueError`` when ``text`` is not one.
    """
    return iso(parse_iso(text.strip()))


def strategies(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Known strategies with their counts; ``since``: first seen or last archived since."""
    _check_status("strategies", status)
    return [
        {
            "strategyId": r["id"],
            "sourceType": r["source_type"],
            "name": r["name"],
            "archives": r["archives"],
            "jobs": r["jobs"],
            "deadJobs": r["dead_jobs"],
            "firstSeenAt": r["first_seen_at"],
            "lastArchivedAt": r["last_archived_at"],
        }
        for r in ledger.list_strategies(strategy_id=strategy_id, since=since, limit=limit)
    ]


def archives(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Archives; ``status`` is the submission state (pending, submitted, rejected, local)."""
    _check_status("archives", status)
    found = ledger.list_archives(
        strategy_id=strategy_id,
        submission=Submission(status) if status else None,
        since=since,
        limit=limit,
    )
    return [a.as_dict() for a in found]


def jobs(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Archive jobs; ``status`` is the job state."""
    _check_status("jobs", status)
    found = ledger.list_jobs(strategy_id=strategy_id, state=status, since=since, limit=limit)
    return [j.as_dict() for j in found]


def events(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Inbound notifications as recorded (without their bodies)."""
    _check_status("events", status)
    return [
        {
            "eventId": r["id"],
            "receivedAt": r["received_at"],
            "topic": r["topic"],
            "sourceType": r["source_type"],
            "strategyId": r["strategy_id"],
            "outcome": r["outcome"],
            "reason": r["reason"],
            "jobId": r["job_id"],
            "correlationId": r["correlation_id"],
            "eventbridgeId": r["eventbridge_id"],
        }
        for r in ledger.list_events(strategy_id=strategy_id, since=since, limit=limit)
    ]


def deliveries(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Outbound deliveries, one per event and target; ``status`` is the delivery state."""
    _check_status("deliveries", status)
    found = ledger.list_deliveries(state=status, strategy_id=strategy_id, since=since, limit=limit)
    return [d.as_dict() for d in found]


def audit(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Row]:
    """Audit log entries; ``strategy_id`` keeps the entries whose subject it is."""
    _check_status("audit", status)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "action": e.action,
            "subject": e.subject,
            "detail": e.detail,
            "prevHash": e.prev_hash,
            "hash": e.hash,
        }
        for e in ledger.list_audit(subject=strategy_id, since=since, limit=limit)
    ]


QUERIES: dict[str, Callable[..., list[Row]]] = {
    "strategies": strategies,
    "archives": archives,
    "jobs": jobs,
    "events": events,
    "deliveries": deliveries,
    "audit": audit,
}

# The values ``status`` may take, for the kinds that have a state column.
STATUSES: dict[str, tuple[str, ...]] = {
    "archives": tuple(str(s) for s in Submission),
    "jobs": tuple(str(s) for s in JobState),
    "deliveries": tuple(str(s) for s in DeliveryState),
}

# (heading, key) of the columns people see; the widest free text goes last.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "strategies": (
        ("LAST ARCHIVED", "lastArchivedAt"),
        ("STRATEGY", "strategyId"),
        ("SOURCE", "sourceType"),
        ("ARCHIVES", "archives"),
        ("JOBS", "jobs"),
        ("DEAD", "deadJobs"),
        ("FIRST SEEN", "firstSeenAt"),
        ("NAME", "name"),
    ),
    "archives": (
        ("CREATED", "createdAt"),
        ("ARCHIVE", "archiveId"),
        ("STRATEGY", "strategyId"),
        ("SOURCE", "sourceType"),
        ("VERSIONS", "versionCount"),
        ("SUBMISSION", "submission"),
        ("NAME", "strategyName"),
    ),
    "jobs": (
        ("CREATED", "createdAt"),
        ("JOB", "jobId"),
        ("STRATEGY", "strategyId"),
        ("SOURCE", "sourceType"),
        ("STATE", "state"),
        ("TRIES", "tries"),
        ("REASON", "reason"),
        ("LAST ERROR", "lastError"),
    ),
    "events": (
        ("RECEIVED", "receivedAt"),
        ("EVENT", "eventId"),
        ("STRATEGY", "strategyId"),
        ("OUTCOME", "outcome"),
        ("JOB", "jobId"),
        ("TOPIC", "topic"),
    ),
    "deliveries": (
        ("CREATED", "createdAt"),
        ("DELIVERY", "deliveryId"),
        ("TARGET", "target"),
        ("TYPE", "eventType"),
        ("STATE", "state"),
        ("ATTEMPTS", "attempts"),
        ("STATUS", "lastStatus"),
        ("NEXT ATTEMPT", "nextAttemptAt"),
        ("LAST ERROR", "lastError"),
    ),
    "audit": (
        ("SEQ", "seq"),
        ("AT", "at"),
        ("ACTION", "action"),
        ("SUBJECT", "subject"),
        ("DETAIL", "detail"),
    ),
}

MAX_CELL = 80  # longer free text is cut in tables; --json has it whole


def render_table(kind: str, rows: Sequence[Row]) -> str:
    """``rows`` of ``kind`` as aligned columns under a heading line, or a "no ..." line."""
    if not rows:
        return f"no {kind}"
    columns = COLUMNS[kind]
    cells = [[heading for heading, _ in columns]]
    cells += [[_cell(row.get(key)) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def _check_status(kind: str, status: str | None) -> None:
    if status is None:
        return
    allowed = STATUSES.get(kind)
    if allowed is None:
        kinds = ", ".join(STATUSES)
        raise UsageError(f"--status applies only to {kinds}, not to {kind}")
    if status not in allowed:
        raise UsageError(f"--status for {kind} must be one of {', '.join(allowed)}, got {status!r}")


# Reports: a strategy's whole history and one UTC day's summary, for the admin scripts.
# Each is one plain dict (JSON-ready); ``markdown_table`` renders their lists for people.

PENDING_TOO_LONG = timedelta(hours=1)  # a submission still pending after this needs attention


def open_existing_ledger(path: Path) -> Ledger:
    """The ledger at ``path``, which reports read but never create (``LedgerError`` if absent)."""
    if not Path(path).is_file():
        raise LedgerError(f"no ledger at {path} (ARCHIVER_DB)")
    return Ledger(Path(path))


def strategy_history(ledger: Ledger, archive_dir: Path, strategy_id: str) -> Row | None:
    """Everything the ledger and cold storage hold about one strategy, oldest first; None
    when neither has heard of it.

    Each archive document is read back and checked against its recorded SHA-256; the
    versions (numbers, dates, original authors) come from the documents that pass. A
    document that fails, or that disagrees with the ledger, is listed in ``problems``, as
    is a broken audit chain.
    """
    known = ledger.list_strategies(strategy_id=strategy_id, limit=1)
    events_found = ledger.list_events(strategy_id=strategy_id, limit=None)
    if not known and not events_found:
        return None
    records = list(reversed(ledger.list_archives(strategy_id=strategy_id)))
    problems: list[str] = []
    versions: dict[str, Row] = {}
    archive_rows = []
    for record in records:
        row = {
            key: value
            for key, value in record.as_dict().items()
            if key not in ("strategyId", "sourceType", "strategyName")
        }
        matrix, problem = _verified_matrix(archive_dir, record.location, record.sha256)
        listed = sorted(str(m.get("versionId")) for m in matrix or [] if isinstance(m, dict))
        if matrix is not None and listed != sorted(record.version_ids):
            problem = (
                f"archive document {record.location}: its versionMatrix does not list the "
                "versions the ledger recorded for it"
            )
        row["documentVerified"] = problem is None
        row["documentProblem"] = problem
        archive_rows.append(row)
        if problem is not None:
            problems.append(f"archive {record.id} (key {record.idempotency_key}): {problem}")
        for position, version_id in enumerate(reversed(record.version_ids)):
            # first held by this archive: ordered by it, then as its matrix lists them
            order = (len(archive_rows), position)
            entry = versions.setdefault(version_id, _unverified_version(version_id, order))
            entry["archives"].append(
                {"archiveId": record.id, "idempotencyKey": record.idempotency_key}
            )
        for item in matrix if problem is None and matrix is not None else []:
            entry = versions[item["versionId"]]
            if not entry["verified"]:
                tags = item.get("metadataTags") or {}
                entry.update(
                    versionNumber=item.get("versionNumber"),
                    createdDate=item.get("createdDate"),
                    modifiedDate=item.get("modifiedDate"),
                    originalAuthor=tags.get("originalAuthor"),
                    verified=True,
                )
    jobs_found = list(reversed(ledger.list_jobs(strategy_id=strategy_id, limit=None)))
    deliveries_found = list(reversed(ledger.list_deliveries(strategy_id=strategy_id, limit=None)))
    subjects = {strategy_id}
    subjects |= {r.id for r in records}
    subjects |= {d.event_id for d in deliveries_found} | {d.id for d in deliveries_found}
    chain = _audit_chain(ledger)
    if not chain["intact"]:
        problems.append(f"audit chain broken: {chain['problem']}")
    strategy = known[0] if known else None
    latest = records[-1] if records else None
    return {
        "strategy": {
            "strategyId": strategy_id,
            "name": (strategy and strategy["name"]) or (latest and latest.strategy_name),
            "sourceType": (strategy and strategy["source_type"])
            or (latest and latest.source_type)
            or events_found[0]["source_type"],
            "firstSeenAt": strategy["first_seen_at"] if strategy else None,
            "lastArchivedAt": strategy["last_archived_at"] if strategy else None,
        },
        "versions": [
            {k: v for k, v in entry.items() if k != "order"}
            for entry in sorted(
                versions.values(),
                key=lambda v: (v["order"][0], v["versionNumber"] or 0, v["order"][1]),
            )
        ],
        "archives": archive_rows,
        "events": [_event_row(e) for e in reversed(events_found)],
        "jobs": [j.as_dict() for j in jobs_found],
        "deliveries": [d.as_dict() for d in deliveries_found],
        "audit": [_audit_row(e) for e in ledger.audit_about(sorted(subjects))],
        "auditChain": chain,
        "problems": problems,
    }


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

    made = [a for a in reversed(ledger.list_archives(since=start)) if a.created_at < end]
    archive_rows = []
    for record in made:
        _, problem = _verified_matrix(archive_dir, record.location, record.sha256)
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

    entries = ledger.audit_between(start, end)
    actions: dict[str, list[Any]] = {}
    for entry in entries:
        actions.setdefault(entry.action, []).append(entry)
    dead_jobs = []
    for entry in actions.get("job.dead", []):
        job = ledger.get_job(entry.detail["jobId"])
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
        job = ledger.get_job(job_id)
        row["state"] = str(job.state) if job else None

    received = ledger.events_between(start, end)
    ignored_reasons: dict[str, int] = {}
    for event in received:
        if event["outcome"] != "queued":
            reason = event["reason"] or "no strategy"
            ignored_reasons[reason] = ignored_reasons.get(reason, 0) + 1

    touched = {
        d.id: d for d in ledger.list_deliveries(since=start, limit=None) if d.created_at < end
    }
    for entry in entries:
        delivery_id = (
            entry.detail.get("deliveryId") if entry.action.startswith("delivery.") else None
        )
        if delivery_id and delivery_id not in touched:
            found = ledger.get_delivery(delivery_id)
            if found is not None:
                touched[delivery_id] = found
    by_target: dict[str, dict[str, int]] = {}
    dead_deliveries = []
    for delivery in sorted(touched.values(), key=lambda d: (d.created_at, d.id)):
        counts = by_target.setdefault(delivery.target, {str(s): 0 for s in DeliveryState})
        counts[str(delivery.state)] += 1
        if delivery.state is DeliveryState.DEAD:
            dead_deliveries.append(delivery.as_dict())
            attention.append(
                _attention(
                    "dead-delivery",
                    delivery.id,
                    f"delivery {delivery.id} ({delivery.event_type}) to {delivery.target} is "
                    f"dead after {delivery.attempts} attempt(s): {delivery.last_error}",
                )
            )

    overdue = iso(now - PENDING_TOO_LONG)
    outstanding = ledger.list_archives(submission=Submission.REJECTED) + [
        a for a in ledger.list_archives(submission=Submission.PENDING) if a.created_at < overdue
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
    chain = _audit_chain(ledger)
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
            "accepted": sum(1 for e in received if e["outcome"] == "queued"),
            "ignored": sum(1 for e in received if e["outcome"] != "queued"),
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


def audit_chain_lines(chain: dict[str, Any]) -> list[str]:
    """The closing "Audit chain" section of a Markdown report."""
    if chain["intact"]:
        verdict = f"Audit chain verifies: {chain['entries']} entries, hash chain intact."
    else:
        verdict = f"**Audit chain does NOT verify: {chain['problem']}.**"
    return ["## Audit chain", "", verdict]


def markdown_table(columns: Sequence[tuple[str, str]], rows: Sequence[Row]) -> str:
    """``rows`` as a Markdown table with (heading, key) ``columns``; "(none)" when empty."""
    if not rows:
        return "(none)"
    lines = [
        "| " + " | ".join(heading for heading, _ in columns) + " |",
        "|" + "|".join(" --- " for _ in columns) + "|",
    ]
    for row in rows:
        cells = [_markdown_cell(row.get(key)) for _, key in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markdown_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return " ".join(str(value).split()).replace("|", "\\|")


def _verified_matrix(
    archive_dir: Path, location: str, sha256: str
) -> tuple[list[Row] | None, str | None]:
    """(the document's versionMatrix, None), or (None, why it cannot be trusted)."""
    # Imported here: the ``archiver`` command builds its parser from this module, and cold
    # storage is only needed by the reports.
    from .archive.store import read_document

    try:
        payload = json.loads(read_document(archive_dir, location, sha256))
        matrix = payload["versionMatrix"]
        if not isinstance(matrix, list):
            raise TypeError("versionMatrix is not a list")
        return matrix, None
    except StorageError as exc:
        return None, str(exc)
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"archive document {location} is not a readable archive payload: {exc}"


def _unverified_version(version_id: str, order: tuple[int, int]) -> Row:
    return {
        "order": order,  # (archive, position) where first held: sorts unverified versions
        "versionId": version_id,
        "versionNumber": None,
        "createdDate": None,
        "modifiedDate": None,
        "originalAuthor": None,
        "verified": False,  # True once a document that passes its SHA-256 check describes it
        "archives": [],
    }


def _audit_chain(ledger: Ledger) -> Row:
    count, broken = ledger.verify_audit()
    return {"entries": count, "intact": broken is None, "problem": broken}


def _audit_row(entry: AuditEntry) -> Row:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }


def _event_row(r: Row) -> Row:
    return {
        "eventId": r["id"],
        "receivedAt": r["received_at"],
        "topic": r["topic"],
        "outcome": r["outcome"],
        "reason": r["reason"],
        "jobId": r["job_id"],
        "correlationId": r["correlation_id"],
    }


def _attention(kind: str, subject: str | None, message: str) -> Row:
    return {"kind": kind, "id": subject, "message": message}


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
