"""The worker's history step: commit the ledger's pending history items, exactly once.

Under the repository's lock (one writer across processes), a run first takes in what a
killed run left behind: commits on the branch beyond the last one the ledger recorded
(the branch moved, the record did not happen) are matched against the pending items by
their trailers and recorded as they are. Then the pending items are committed in the
order the ledger recorded them, the branch moved by compare-and-swap, and their commits,
their archives' completion events and a push of the branch recorded in one transaction.
Commit ids are a function of the ledger and cold storage alone, so a run that dies at any
point is finished by the next one with the very commits it would have made.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ..backoff import HISTORY
from ..errors import HistoryError
from ..ledger import history
from ..ledger.history import CommitRow, HistoryItem
from ..ops.metrics import count_history
from .commits import ID_TRAILER, SOURCE_TRAILER, VERSION_TRAILER, Change
from .replay import Replay, commit_row
from .repo import HistoryRepo

if TYPE_CHECKING:
    from ..config import Settings
    from ..ledger import Ledger
    from ..outbound.targets import Target

log = logging.getLogger("service.history")

BATCH = 200  # items per commit of the branch: a backlog moves in a few large steps


class HistoryDiverged(HistoryError):
    """The branch holds commits the ledger cannot account for, or lacks some it recorded:
    an operator's matter (``archiver history rebuild``), never overwritten here."""


@dataclass(frozen=True)
class HistoryConfig:
    """Where the history is and whom its steps are announced to."""

    repo: Path
    branch: str
    archive_dir: Path
    notify: tuple[str, ...] = ()  # targets of the completion events the lane writes
    push: tuple[str, ...] = ()  # the ``git`` targets the branch is pushed to

    @classmethod
    def from_settings(cls, settings: Settings, targets: Sequence[Target]) -> HistoryConfig | None:
        """The history of ``settings`` announced to ``targets`` (the settings' delivery
        targets), or None when ``HISTORY_REPO`` is empty (off)."""
        if settings.history_repo is None:
            return None
        return cls(
            repo=settings.history_repo,
            branch=settings.history_branch,
            archive_dir=settings.archive_dir,
            notify=tuple(t.name for t in targets if t.kind != "git"),
            push=tuple(t.name for t in targets if t.kind == "git"),
        )


class HistoryStep:
    """The lane as the worker runs it, after each archive job and on each tick: a failure
    (the repository unwritable, a document unreadable) is logged and counted, and its
    items wait in the ledger for the next run: none is lost. After failures in a row the
    worker's calls pause on ``backoff.HISTORY`` (1 s, doubling, at most a minute), so that
    a lasting fault writes a line a minute, not one a tick."""

    def __init__(self, config: HistoryConfig) -> None:
        self.config = config
        self._failures = 0
        self._paused_until = 0.0  # monotonic

    def __call__(self, ledger: Ledger) -> None:
        """Run the lane once unless it is pausing after failures (the worker's call)."""
        if time.monotonic() >= self._paused_until:
            self.run(ledger)

    def run(self, ledger: Ledger) -> int:
        """Run the lane once now; how many commits it recorded (0 when it failed)."""
        try:
            made = run_history(ledger, self.config)
        except Exception as exc:  # an operator's matter or a passing one: tried again later
            self._failures += 1
            pause = HISTORY.delay(min(self._failures, len(HISTORY.delays))) or 0.0
            self._paused_until = time.monotonic() + pause
            count_history(0, failed=True)
            log.error("history: %s (its items wait; tried again in %g s)", exc, pause)
            return 0
        self._failures, self._paused_until = 0, 0.0
        count_history(made)
        return made


def open_repo(config: HistoryConfig) -> HistoryRepo:
    """The history repository, created (bare, with its folders) when missing."""
    return HistoryRepo.open(config.repo, config.branch)


def run_history(ledger: Ledger, config: HistoryConfig, *, batch: int = BATCH) -> int:
    """Commit every pending item (finishing what a killed run left); how many commits."""
    repo = open_repo(config)
    made = 0
    try:
        with repo.lock():
            while True:
                items = history.pending_items(ledger, limit=batch)
                made += _step(ledger, repo, config, items, more=len(items) == batch)
                if len(items) < batch:
                    return made
    finally:
        repo.close()


def _step(
    ledger: Ledger,
    repo: HistoryRepo,
    config: HistoryConfig,
    items: list[HistoryItem],
    *,
    more: bool = False,
) -> int:
    """One batch: recover what is on the branch beyond the ledger, commit the rest, record.

    ``more``: items wait beyond this batch (the branch may hold their commits too)."""
    head, last = repo.head(), history.last_commit(ledger)
    if not items:
        if head != last:
            _unaccounted(config, head, last, "no pending item")
        return 0
    replay = Replay(config.archive_dir)
    replay.learn(history.object_commits(ledger, {(i.source_type, i.object_id) for i in items}))
    planned = [(item, replay.changes(item)) for item in items]
    recovered = _recover(repo, config, head, last, planned, more=more)
    waiting = [change for _, changes in planned for change in changes][len(recovered) :]
    made = repo.commit(waiting, parent=head) if waiting else []
    ids = iter([*recovered, *made])
    done: list[tuple[HistoryItem, Sequence[CommitRow]]] = [
        (item, [commit_row(change, next(ids)) for change in changes]) for item, changes in planned
    ]
    history.record_commits(
        ledger, done, notify=config.notify, push=config.push, branch=config.branch
    )
    if recovered:
        log.warning(
            "history: recorded %d commit(s) a stopped run had made on %s",
            len(recovered),
            config.branch,
        )
    if made:
        log.info(
            "history: %d commit(s) for %d item(s), %s at %s",
            len(made),
            len(items),
            config.branch,
            made[-1],
        )
    return len(recovered) + len(made)


def _recover(
    repo: HistoryRepo,
    config: HistoryConfig,
    head: str | None,
    last: str | None,
    planned: list[tuple[HistoryItem, list[Change]]],
    *,
    more: bool,
) -> list[str]:
    """The commits on the branch beyond ``last`` (the ledger's), checked against the first
    planned changes: each must be the very change planned, and they end with an item
    (those beyond this batch, when ``more`` items wait, are the next batch's)."""
    if head == last:
        return []
    if head is None:
        _unaccounted(config, head, last, "the branch is empty")
    try:
        found = repo.walk_back(head, last)
    except HistoryError:
        _unaccounted(config, head, last, "its branch does not hold that commit")
    changes = [change for _, made in planned for change in made]
    if len(found) > len(changes):
        if not more:
            _unaccounted(config, head, last, f"{len(found)} commit(s) beyond the ledger's")
        found = found[: len(changes)]
    for (commit, trailers), change in zip(found, changes, strict=False):
        if not _same(trailers, change):
            _unaccounted(config, head, last, f"commit {commit} is not the one planned")
    ends = {0}
    total = 0
    for _, made in planned:
        total += len(made)
        ends.add(total)
    if len(found) not in ends:
        _unaccounted(config, head, last, "its commits end inside an item")
    return [commit for commit, _ in found]


def _same(trailers: dict[str, str], change: Change) -> bool:
    return (
        trailers.get(SOURCE_TRAILER) == change.source_type
        and trailers.get(ID_TRAILER) == change.object_id
        and trailers.get(VERSION_TRAILER) == change.version_id
    )


def _unaccounted(config: HistoryConfig, head: str | None, last: str | None, why: str) -> NoReturn:
    raise HistoryDiverged(
        f"the history repository {config.repo.absolute()} (branch {config.branch}, at"
        f" {head or 'nothing'}) does not follow the ledger (last recorded commit"
        f" {last or 'none'}): {why}; `archiver history rebuild` builds it anew"
    )
