"""One strategy's whole history, for ``scripts/strategy_history.py``.

One plain dict (JSON-ready); ``render.markdown_table`` renders its lists for people.
"""

from __future__ import annotations

from pathlib import Path

from ..ledger import Ledger, archives, events, jobs, outbox, present, queries
from . import Row
from .verify import audit_chain, verified_matrix

# What the history shows of each event, in order.
_EVENT_COLUMNS = ("id", "received_at", "topic", "outcome", "reason", "job_id", "correlation_id")


def strategy_history(ledger: Ledger, archive_dir: Path, strategy_id: str) -> Row | None:
    """Everything the ledger and cold storage hold about one strategy, oldest first; None
    when neither has heard of it.

    Each archive document is read back and checked against its recorded SHA-256; the
    versions (numbers, dates, original authors) come from the documents that pass. A
    document that fails, or that disagrees with the ledger, is listed in ``problems``, as
    is a broken audit chain.
    """
    known = queries.list_strategies(ledger, strategy_id=strategy_id, limit=1)
    events_found = events.list_events(ledger, strategy_id=strategy_id, limit=None)
    if not known and not events_found:
        return None
    records = list(reversed(archives.list_archives(ledger, strategy_id=strategy_id)))
    problems: list[str] = []
    versions: dict[str, Row] = {}
    archive_rows = []
    for record in records:
        row = {
            key: value
            for key, value in present.archive(record).items()
            if key not in ("strategyId", "sourceType", "strategyName")
        }
        matrix, problem = verified_matrix(archive_dir, record.location, record.sha256)
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
    jobs_found = list(reversed(jobs.list_jobs(ledger, strategy_id=strategy_id, limit=None)))
    deliveries_found = list(
        reversed(outbox.list_deliveries(ledger, strategy_id=strategy_id, limit=None))
    )
    subjects = {strategy_id}
    subjects |= {r.id for r in records}
    subjects |= {d.event_id for d in deliveries_found} | {d.id for d in deliveries_found}
    chain = audit_chain(ledger)
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
        "events": [present.event(e, _EVENT_COLUMNS) for e in reversed(events_found)],
        "jobs": [present.job(j) for j in jobs_found],
        "deliveries": [present.delivery(d) for d in deliveries_found],
        "audit": [
            present.audit_entry(e, hashes=False)
            for e in queries.audit_about(ledger, sorted(subjects))
        ],
        "auditChain": chain,
        "problems": problems,
    }


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
