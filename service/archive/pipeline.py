"""Archive one strategy: fetch → select → build → store → record → submit.

Exactly once whatever crashes: the document is stored before it is recorded,
recorded before it is submitted, and every run first finishes what an earlier
run left half done (documents stored but not recorded, archives recorded but
not yet accepted by the endpoint). The same versions always give the same key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import utcnow
from ..config import Settings
from ..errors import UpstreamError, UsageError, ValidationFailed
from ..genesys.client import GenesysClient
from ..genesys.sources import (
    Known,
    Listing,
    ProgressFn,
    SkippedVersion,
    Source,
    enabled_types,
    source_for,
    version_number,
)
from ..ids import idempotency_key, require_uuid
from ..ledger import ArchiveRecord, Ledger, Submission, archives, deletions
from ..ledger import skipped as ledger_skipped
from ..ops.metrics import count_skipped_versions
from ..outbound.settings import outbound_from
from . import store
from .gone import ObjectDeleted, ask_object, watching
from .payload import Retention, build_payload, encode, select_versions, validate_payload
from .submit import ArchivalClient

log = logging.getLogger("service.archive")


@dataclass
class ArchiveRun:
    """What one run did, for the summary line and the job record."""

    strategy_id: str
    source_type: str
    strategy_name: str | None = None
    archive: ArchiveRecord | None = None  # the archive of this run's versions, if any
    created: bool = False  # False: that archive already existed (same versions, same key)
    finished: list[ArchiveRecord] = field(default_factory=list)  # earlier archives completed now
    skipped: list[SkippedVersion] = field(default_factory=list)  # bad entries left out

    @property
    def version_count(self) -> int:
        return len(self.archive.version_ids) if self.archive else 0


class Archiver:
    """Archives strategies with one ledger, one Genesys client and one archival client."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        genesys: GenesysClient,
        archival: ArchivalClient | None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.genesys = genesys
        self.archival = archival
        self.clock = clock
        self.retention = Retention(settings.retention_days, settings.retention_max_versions)

    def run(
        self,
        strategy_id: str,
        source_type: str,
        *,
        full: bool = False,
        progress: ProgressFn | None = None,
        author: str | None = None,
    ) -> ArchiveRun:
        """Archive the versions of one strategy that the ledger has not archived yet.

        ``author``: the user the event that asked for this run names, which a source
        without authors of its own (a snapshot) records as the version's author.

        ``ObjectDeleted`` when Genesys says the object is deleted (``gone.py``); the caller
        records that. Its archives stay, and those still pending are submitted first.
        """
        strategy_id = require_uuid(strategy_id)
        source = source_for(source_type)
        if source_type not in enabled_types(self.settings.sources):
            raise UsageError(f"source type {source_type} is not among those SOURCES enables")
        run = ArchiveRun(strategy_id, source_type)
        self._adopt_stored(strategy_id, source_type)
        sent: set[str] = set()
        for pending in archives.pending_submissions(self.ledger, strategy_id):
            run.finished.append(self._submit(pending, progress))
            sent.add(pending.id)
        self._check_deleted(source, strategy_id)

        known = self._known(strategy_id, source_type, full=full, author=author)
        with watching(self.ledger, source, self.genesys, strategy_id):
            listing = source.list_versions(
                self.genesys, strategy_id, known=known, progress=progress
            )
        if not deletions.knows(self.ledger, strategy_id, source_type):
            deletions.mark_seen(
                self.ledger, [(strategy_id, source_type)], reason="its versions were listed"
            )
        run.skipped = self._note_skipped(strategy_id, source_type, listing)
        listed = listing.versions
        now = self.clock()
        selected = select_versions(listed, self.retention, now)
        if not selected:
            return run
        key = idempotency_key(source_type, strategy_id, [v.version_id for v in selected])
        existing = archives.find_archive(self.ledger, key)
        if existing is not None:
            run.archive, run.strategy_name = existing, existing.strategy_name
            if self.archival and existing.id not in sent:
                run.archive = self._submit(existing, progress)
            return run

        location = store.document_location(source_type, strategy_id, key)
        if not (self.settings.archive_dir / location).exists():
            complete = []
            with watching(self.ledger, source, self.genesys, strategy_id):
                for done, version in enumerate(selected, start=1):
                    complete.append(source.complete(self.genesys, strategy_id, version))
                    if progress:
                        progress("fetching versions", done, len(selected))
                strategy = source.describe(self.genesys, strategy_id, complete)
            total = max(v.number for v in listed)
            payload = build_payload(
                strategy, complete, retention=self.retention, total_versions=total, now=now
            )
            store.write_once(self.settings.archive_dir, location, encode(payload))
        run.archive = self._record(location)
        run.strategy_name = run.archive.strategy_name
        run.created = True
        if self.archival:
            run.archive = self._submit(run.archive, progress)
        return run

    def _known(
        self, strategy_id: str, source_type: str, *, full: bool, author: str | None
    ) -> Known:
        """What the ledger and cold storage know of the object, for its source to read
        what is new. ``full``: as if no version were archived, but the numbers go on and
        a snapshot is still compared with the last one (unchanged, it is no new version)."""
        archived = archives.archived_version_ids(self.ledger, strategy_id)
        numbers = [n for n in map(version_number, archived) if n is not None]

        def last_document() -> dict[str, Any] | None:
            """The newest archived version's document, as cold storage keeps it."""
            for record in archives.list_archives(self.ledger, strategy_id=strategy_id):
                if record.source_type == source_type:
                    payload = store.read_payload(
                        self.settings.archive_dir, record.location, record.sha256
                    )
                    versions = payload["versions"]
                    return dict(versions[0]) if versions else None
            return None

        return Known(
            archived=frozenset() if full else frozenset(archived),
            last_number=max(numbers, default=None),
            last_document=last_document,
            author=author,
            now=self.clock(),
        )

    def _note_skipped(
        self, strategy_id: str, source_type: str, listing: Listing
    ) -> list[SkippedVersion]:
        """Record, count and log the entries left out; all of them bad fails the run."""
        ledger_skipped.record_skipped(
            self.ledger,
            strategy_id,
            source_type,
            [(s.version_id, s.reason) for s in listing.skipped],
            complete=listing.complete,
            passed=[v.version_id for v in listing.versions],
        )
        count_skipped_versions(source_type, len(listing.skipped))
        for entry in listing.skipped:  # INFO: the command line prints its own line for each
            log.info(
                "version %s of %s %s left out of the archive: %s",
                entry.version_id,
                source_type,
                strategy_id,
                entry.reason,
                extra={"strategy_id": strategy_id, "version_id": entry.version_id},
            )
        if listing.all_bad:
            raise ValidationFailed(
                f"every version entry of {source_type} {strategy_id}",
                {s.version_id: [s.reason] for s in listing.skipped},
            )
        return list(listing.skipped)

    def _check_deleted(self, source: Source, strategy_id: str) -> None:
        """An object marked deleted is read again only once its own GET answers for it: a
        stale event must not archive (or revive) a deleted object, a new one revives it."""
        if deletions.deletion(self.ledger, strategy_id, source.source_type) is None:
            return
        gone = ask_object(source, self.genesys, strategy_id)
        if gone is not None:
            raise ObjectDeleted(gone)
        deletions.mark_live(
            self.ledger,
            strategy_id,
            source.source_type,
            reason="Genesys Cloud answers for it again",
        )

    def _record(self, location: str) -> ArchiveRecord:
        """Record the stored document at ``location`` in the ledger (once)."""
        data = store.read_document(self.settings.archive_dir, location)
        payload = json.loads(data)
        validate_payload(payload)
        existing = archives.find_archive(self.ledger, payload["idempotencyKey"])
        if existing is not None:
            return existing
        record = archives.record_archive(
            self.ledger,
            idempotency_key=payload["idempotencyKey"],
            strategy_id=payload["strategyId"],
            source_type=payload["sourceType"],
            strategy_name=payload["strategyName"],
            version_ids=[row["versionId"] for row in payload["versionMatrix"]],
            archive_timestamp=payload["archiveTimestamp"],
            sha256=store.digest(data),
            size=len(data),
            location=location,
            submission=Submission.PENDING if self.archival else Submission.LOCAL,
            notify=outbound_from(self.settings).names,
            history=self.settings.history_repo is not None,  # the history lane announces it
        )
        log.info(
            "archive %s stored: %d version(s) of %s %s at %s",
            record.id,
            len(record.version_ids),
            record.source_type,
            record.strategy_id,
            location,
            extra=_fields(record),
        )
        return record

    def _adopt_stored(self, strategy_id: str, source_type: str) -> None:
        """Record documents a crashed run stored but did not record."""
        for location in store.documents_of(self.settings.archive_dir, source_type, strategy_id):
            key = location.rsplit("/", 1)[-1].removesuffix(".json")
            if archives.find_archive(self.ledger, key) is None:
                try:
                    self._record(location)
                except (ValueError, ValidationFailed):
                    continue  # not one of ours; left alone for an operator to look at

    def _submit(self, archive: ArchiveRecord, progress: ProgressFn | None) -> ArchiveRecord:
        """Send the stored bytes of ``archive``; record and return the outcome."""
        assert self.archival is not None
        if progress:
            progress("submitting", 0, 1)
        data = store.read_document(self.settings.archive_dir, archive.location, archive.sha256)
        result = self.archival.submit(archive.idempotency_key, data)
        # The endpoint's own words, which may echo the token: the ledger stores them
        # redacted, and the refusal below is masked wherever it is written.
        detail = result.detail
        record = archives.record_submission(self.ledger, archive.id, result.outcome, detail)
        log.info(
            "archive %s %s by the archival endpoint: %s",
            archive.id,
            "accepted" if result.outcome is Submission.SUBMITTED else "refused",
            detail,
            extra=_fields(archive) | {"status": result.status},
        )
        if progress:
            progress("submitting", 1, 1)
        if result.outcome is Submission.REJECTED:
            raise UpstreamError(
                f"archival endpoint refused archive {archive.idempotency_key}: {detail}",
                status=result.status,
            )
        return record


def _fields(archive: ArchiveRecord) -> dict[str, str]:
    """The ids of an archive, as fields of its log lines."""
    return {
        "strategy_id": archive.strategy_id,
        "archive_id": archive.id,
        "idempotency_key": archive.idempotency_key,
    }
