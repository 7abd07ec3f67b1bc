"""The durable job queue: coalescing enqueue, leased claims, retries, dead jobs.

All state lives in the ``jobs`` table so that any number of worker processes can
share it. Claims take SQLite's write lock first (``BEGIN IMMEDIATE``), so that the
count of running jobs, the choice of a job and its update are one atomic step:
``MAX_CONCURRENT_ARCHIVES`` holds across processes, and a job whose worker died
is taken over once its lease runs out, or buried once it has used its tries.

A job is for one (strategy id, source type): a flow and a routing strategy that share
an id are archived by separate jobs. Lease expiry is a number, Unix seconds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from ..ops.logs import redact
from . import audit, deletions, outbox
from .db import transaction
from .listing import listing

if TYPE_CHECKING:
    from ..backoff import Backoff
    from .handle import Ledger


class JobState(StrEnum):
    WAITING = "waiting"  # queued, or waiting for its next try
    RUNNING = "running"  # claimed by a worker holding a lease
    DONE = "done"
    DEAD = "dead"  # failed for good
    SUPERSEDED = "superseded"  # failed, but a newer waiting job will do the same work
    DELETED = "deleted"  # its object is deleted in Genesys: nothing to archive, no failure


@dataclass(frozen=True)
class Job:
    id: str
    strategy_id: str
    source_type: str
    state: JobState
    full: bool
    reason: str
    events: int
    tries: int
    run_at: str
    lease_owner: str | None
    lease_until: float | None  # Unix seconds
    last_error: str | None
    result: dict[str, Any] | None
    created_at: str
    started_at: str | None
    finished_at: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        values = dict(row)
        values["state"] = JobState(values["state"])
        values["full"] = bool(values["full"])
        values["result"] = json.loads(values["result"]) if values["result"] else None
        return cls(**values)


class LeaseLost(Exception):
    """The job's lease ran out and another worker holds it now: drop the result."""


def enqueue(
    ledger: Ledger,
    strategy_id: str,
    source_type: str,
    *,
    reason: str,
    full: bool = False,
    events: int = 0,
) -> tuple[str, bool]:
    """Queue a job for the strategy and source type, or join the one waiting for the same
    pair; return (job id, joined)."""
    with transaction(ledger.db):
        now = iso(utcnow())
        waiting = ledger.db.execute(
            "SELECT id FROM jobs WHERE strategy_id = ? AND source_type = ? AND state = 'waiting'",
            [strategy_id, source_type],
        ).fetchone()
        if waiting:
            if events or full:
                ledger.db.execute(
                    "UPDATE jobs SET events = events + ?, full = max(full, ?) WHERE id = ?",
                    [events, int(full), waiting[0]],
                )
            return waiting[0], True
        # strategies has one row per id; strategy_sources keeps every source type queued.
        deletions.ensure_rows(ledger, strategy_id, source_type, now)
        job_id = str(uuid.uuid4())
        ledger.db.execute(
            "INSERT INTO jobs (id, strategy_id, source_type, state, full, reason, events,"
            " run_at, created_at) VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?, ?)",
            [job_id, strategy_id, source_type, int(full), reason, events, now, now],
        )
        audit.append(ledger, "job.queued", strategy_id, jobId=job_id, reason=reason)
        return job_id, False


def claim(
    ledger: Ledger,
    owner: str,
    *,
    lease_seconds: float,
    max_running: int,
    max_tries: int | None = None,
    notify: Sequence[str] = (),
) -> Job | None:
    """Take the next due job (or one whose worker's lease ran out), if under the limit.

    A job whose lease ran out after its ``max_tries``-th try is not taken over: it dies
    (its worker kept stopping while running it), announced to ``notify`` as ``fail``
    does, in this transaction, and the next job is taken instead.
    """
    with transaction(ledger.db):
        # The clock is read under the write lock: a wait for the lock must not shorten
        # the lease or make two jobs' times look interleaved.
        now = utcnow()
        now_text, clock = iso(now), now.timestamp()
        running = ledger.db.execute(
            "SELECT count(*) FROM jobs WHERE state = 'running' AND lease_until > ?",
            [clock],
        ).fetchone()[0]
        if running >= max_running:
            return None
        job_id = _expired(ledger, now, max_tries, notify)
        if job_id is None:
            row = ledger.db.execute(
                "SELECT id FROM jobs w WHERE state = 'waiting' AND run_at <= ?"
                " AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running'"
                " AND r.strategy_id = w.strategy_id AND r.source_type = w.source_type)"
                " ORDER BY run_at, created_at LIMIT 1",
                [now_text],
            ).fetchone()
            job_id = row[0] if row else None
        if job_id is None:
            return None
        ledger.db.execute(
            "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?,"
            " tries = tries + 1, started_at = ? WHERE id = ?",
            [owner, clock + lease_seconds, now_text, job_id],
        )
        job = get_job(ledger, job_id)
        assert job is not None
        audit.append(
            ledger, "job.started", job.strategy_id, jobId=job.id, tries=job.tries, worker=owner
        )
        return job


def extend_lease(ledger: Ledger, job_id: str, owner: str, *, lease_seconds: float) -> bool:
    """Push the lease forward; False when another worker has taken the job over."""
    with transaction(ledger.db):
        expires = utcnow().timestamp() + lease_seconds
        cursor = ledger.db.execute(
            "UPDATE jobs SET lease_until = ?"
            " WHERE id = ? AND lease_owner = ? AND state = 'running'",
            [expires, job_id, owner],
        )
        return cursor.rowcount == 1


def complete(ledger: Ledger, job_id: str, owner: str, result: dict[str, Any]) -> Job:
    """Mark the job done; ``LeaseLost`` when this worker no longer holds it."""
    with transaction(ledger.db):
        now = iso(utcnow())
        _finish(ledger, job_id, owner, "state = 'done', result = ?", [json.dumps(result), now])
        job = get_job(ledger, job_id)
        assert job is not None
        audit.append(ledger, "job.done", job.strategy_id, jobId=job_id, **result)
    return job


def finish_deleted(
    ledger: Ledger,
    job_id: str,
    owner: str,
    *,
    reason: str,
    notify: Sequence[str] = (),
) -> Job:
    """End the job as ``deleted`` (its object is gone: no failure, no retry) and mark the
    object deleted now, by someone unknown (a 404 or 410 says neither), in one transaction:
    ``strategy.deleted`` goes to ``notify`` when the object was live until now.
    ``LeaseLost`` when this worker no longer holds the job."""
    reason = redact(reason, ledger.secrets)  # Genesys's words, stored and announced
    with transaction(ledger.db):
        job = get_job(ledger, job_id)
        if job is None or job.lease_owner != owner or job.state is not JobState.RUNNING:
            raise LeaseLost(job_id)
        announced = deletions.mark_deleted(
            ledger, job.strategy_id, job.source_type, reason=reason, notify=notify
        )
        result = {"deleted": True, "reason": reason, "announced": announced}
        _finish(
            ledger,
            job_id,
            owner,
            "state = 'deleted', result = ?",
            [json.dumps(result), iso(utcnow())],
        )
        audit.append(ledger, "job.deleted", job.strategy_id, jobId=job_id, reason=reason)
        updated = get_job(ledger, job_id)
        assert updated is not None
        return updated


def fail(
    ledger: Ledger,
    job_id: str,
    owner: str,
    error: str,
    *,
    retryable: bool,
    retry: Backoff,
    notify: Sequence[str] = (),
) -> Job:
    """Record a failed try: wait as ``retry`` says (``backoff.jobs``) and try again, hand
    over to a newer waiting job, or die once ``retry`` has no try left.

    A job that dies sends ``strategy.archive.failed`` to each target in ``notify``,
    written in the same transaction. ``error`` is stored redacted.
    """
    error = redact(error, ledger.secrets)  # a server may have echoed a credential
    with transaction(ledger.db):
        now = utcnow()
        job = get_job(ledger, job_id)
        if job is None or job.lease_owner != owner or job.state is not JobState.RUNNING:
            raise LeaseLost(job_id)
        newer = ledger.db.execute(
            "SELECT 1 FROM jobs WHERE strategy_id = ? AND source_type = ? AND state = 'waiting'",
            [job.strategy_id, job.source_type],
        ).fetchone()
        delay = retry.delay(max(job.tries, 1)) if retryable else None
        if delay is not None and newer:
            state, run_at = JobState.SUPERSEDED, job.run_at
        elif delay is not None:
            state = JobState.WAITING
            run_at = iso(now + timedelta(seconds=delay))
        else:
            state, run_at = JobState.DEAD, job.run_at
        finished = None if state is JobState.WAITING else iso(now)
        ledger.db.execute(
            "UPDATE jobs SET state = ?, run_at = ?, last_error = ?, lease_owner = NULL,"
            " lease_until = NULL, finished_at = ? WHERE id = ?",
            [str(state), run_at, error, finished, job_id],
        )
        if state is JobState.DEAD:
            _announce_dead(ledger, job, error, notify)
        else:
            audit.append(
                ledger, "job.failed", job.strategy_id, jobId=job_id, tries=job.tries, error=error
            )
        updated = get_job(ledger, job_id)
        assert updated is not None
        return updated


def get_job(ledger: Ledger, job_id: str) -> Job | None:
    """One job, or None."""
    rows = list(ledger.db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    return Job.from_row(rows[0]) if rows else None


def list_jobs(
    ledger: Ledger,
    *,
    strategy_id: str | None = None,
    state: str | None = None,
    since: str | None = None,
    limit: int | None = 100,
) -> list[Job]:
    """Jobs, newest first."""
    sql, params = listing(
        "SELECT * FROM jobs",
        equal=[("strategy_id", strategy_id), ("state", state)],
        since=since,
        since_columns=["created_at"],
        order="created_at DESC, rowid DESC",
        limit=limit,
    )
    return [Job.from_row(r) for r in ledger.db.query(sql, params)]


def job_counts(ledger: Ledger) -> dict[str, int]:
    """How many jobs are in each state."""
    rows = ledger.db.execute("SELECT state, count(*) FROM jobs GROUP BY state")
    return {state: count for state, count in rows}


def known_strategies(ledger: Ledger) -> list[tuple[str, str]]:
    """(id, source type) of every strategy the ledger knows, each source type of an id,
    but those marked deleted (the sweep passes them over)."""
    rows = ledger.db.execute(
        "SELECT id, source_type FROM ("
        " SELECT strategy_id AS id, source_type, first_seen_at FROM strategy_sources"
        " UNION ALL SELECT id, source_type, first_seen_at FROM strategies) k"
        " WHERE NOT EXISTS (SELECT 1 FROM strategy_sources d WHERE d.strategy_id = k.id"
        " AND d.source_type = k.source_type AND d.deleted_at IS NOT NULL)"
        " GROUP BY id, source_type ORDER BY min(first_seen_at), id, source_type"
    )
    return [(r[0], r[1]) for r in rows]


def claim_sweep(ledger: Ledger, interval_seconds: float) -> bool:
    """True for exactly one caller per interval, across processes: that caller sweeps."""
    now = utcnow()
    with transaction(ledger.db):
        row = ledger.db.execute("SELECT value FROM meta WHERE key = 'last_sweep_at'").fetchone()
        if row and row[0] > iso(now - timedelta(seconds=interval_seconds)):
            return False
        ledger.db.execute(
            "INSERT INTO meta (key, value) VALUES ('last_sweep_at', ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [iso(now)],
        )
        return True


def _expired(
    ledger: Ledger, now: datetime, max_tries: int | None, notify: Sequence[str]
) -> str | None:
    """The oldest job whose lease ran out and that may be tried again; those that have
    used their tries are buried on the way. Inside the claim's transaction."""
    while True:
        row = ledger.db.execute(
            "SELECT id FROM jobs WHERE state = 'running' AND lease_until <= ?"
            " ORDER BY lease_until LIMIT 1",
            [now.timestamp()],
        ).fetchone()
        if row is None:
            return None
        job = get_job(ledger, row[0])
        assert job is not None
        if max_tries is None or job.tries < max_tries:
            return job.id
        error = f"the worker running it stopped (lease expired) on try {job.tries} of {max_tries}"
        ledger.db.execute(
            "UPDATE jobs SET state = 'dead', last_error = ?, lease_owner = NULL,"
            " lease_until = NULL, finished_at = ? WHERE id = ?",
            [error, iso(now), job.id],
        )
        _announce_dead(ledger, job, error, notify)


def _announce_dead(ledger: Ledger, job: Job, error: str, notify: Sequence[str]) -> None:
    """Audit a job's death and send ``strategy.archive.failed`` to ``notify``."""
    audit.append(ledger, "job.dead", job.strategy_id, jobId=job.id, tries=job.tries, error=error)
    outbox.add_event(
        ledger,
        "strategy.archive.failed",
        job.strategy_id,
        {
            "strategyId": job.strategy_id,
            "sourceType": job.source_type,
            "jobId": job.id,
            "tries": job.tries,
            "error": error,
        },
        notify,
    )


def _finish(ledger: Ledger, job_id: str, owner: str, assignments: str, params: list[Any]) -> None:
    cursor = ledger.db.execute(
        f"UPDATE jobs SET {assignments}, finished_at = ?, lease_owner = NULL,"
        " lease_until = NULL WHERE id = ? AND lease_owner = ? AND state = 'running'",
        [*params, job_id, owner],
    )
    if cursor.rowcount != 1:
        raise LeaseLost(job_id)
