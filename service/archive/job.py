"""Archive job code: run one archive job and say how it went, as a value.

It knows the archive pipeline and the project's errors, not the queue: the
worker loop turns a ``JobOutcome`` into ``complete`` or ``fail`` on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ArchiverError
from .gone import ObjectDeleted
from .pipeline import Archiver, ArchiveRun


@dataclass(frozen=True)
class JobOutcome:
    """How one try of a job ended: a result to record, an error and whether to retry, or
    the object's deletion (``deleted``: how Genesys said so), which is no failure."""

    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retryable: bool = False
    deleted: str | None = None

    @classmethod
    def failed(cls, exc: BaseException) -> JobOutcome:
        """The outcome of a try that raised ``exc``."""
        return cls(ok=False, error=describe(exc), retryable=is_retryable(exc))


def run_archive_job(
    archiver: Archiver,
    strategy_id: str,
    source_type: str,
    *,
    full: bool = False,
    author: str | None = None,
) -> JobOutcome:
    """Archive one strategy; every failure becomes a ``JobOutcome``, none escapes.
    ``author``: the user the job's events name (``Archiver.run`` says what it is for)."""
    try:
        run = archiver.run(strategy_id, source_type, full=full, author=author)
    except ObjectDeleted as gone:
        return JobOutcome(ok=False, deleted=gone.gone.reason)
    except Exception as exc:
        return JobOutcome.failed(exc)
    return JobOutcome(ok=True, result=job_result(run))


def job_result(run: ArchiveRun) -> dict[str, Any]:
    """What a done job records: the archive it made or found, and earlier ones finished."""
    archive = run.archive
    return {
        "archiveId": archive.id if archive else None,
        "idempotencyKey": archive.idempotency_key if archive else None,
        "versionCount": run.version_count,
        "created": run.created,
        "finishedEarlier": [a.id for a in run.finished],
    }


def is_retryable(exc: BaseException) -> bool:
    """Whether a later try may succeed: ours say so themselves (``ArchiverError.retryable``:
    an upstream 429, 5xx or network failure yes, a 404, a malformed document, a bad id or a
    missing setting no); anything unforeseen may recover, and tries are bounded anyway."""
    return exc.retryable if isinstance(exc, ArchiverError) else True


def describe(exc: BaseException) -> str:
    """One line for the job's ``last_error``: ours as they are, others with their type."""
    text = " ".join(str(exc).split())
    if isinstance(exc, ArchiverError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
