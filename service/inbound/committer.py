"""Group commit: the webhook requests of one process share one durable transaction.

Each accepted request must be on disk before its 202 (one fsync). Instead of one
transaction and one fsync per request, request threads hand their events to this
process's writer thread, which records everything that has gathered meanwhile in
one transaction and wakes each request with its own result. Under load the cost of
the fsync and of taking the write lock is shared by the whole batch; alone, a
request waits for nothing but its own commit. The batch is closed only once the writer
holds the write lock: whoever came while another process (web or worker) committed
rides along, instead of waiting for that commit and then for one of their own.

The writer never dies of a ledger it cannot open (locked, read-only, a broken lock
path): the requests waiting then fail at once with the reason, ``failure`` tells
``/readyz``, and the writer tries again every ``REOPEN_SECONDS`` and on each request.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LedgerError
from ..ledger import LOCK_TIMEOUT_SECONDS, Accepted, IncomingEvent, Ledger
from ..ledger import events as ledger_events

log = logging.getLogger("service.inbound")

MAX_BATCH = 64
REOPEN_SECONDS = 1.0  # while the ledger cannot be opened, the writer tries again this often


@dataclass
class _Pending:
    events: Sequence[IncomingEvent]
    done: threading.Event = field(default_factory=threading.Event)
    result: Accepted | None = None
    error: BaseException | None = None


class GroupCommit:
    """One writer thread per process (started after any fork, on first use)."""

    def __init__(
        self,
        path: Path,
        *,
        timeout: float = 4.0,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        notify: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.notify = tuple(notify)  # targets of the strategy.deleted event of a deletion
        self.timeout = timeout
        self.lock_timeout = lock_timeout
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._failure: str | None = None

    @property
    def failure(self) -> str | None:
        """Why this process's writer could not open the ledger last time; None once it has."""
        return self._failure if self._pid == os.getpid() else None

    def accept(self, events: Sequence[IncomingEvent]) -> Accepted:
        """Record ``events`` durably, with whatever else is waiting; return this request's part."""
        self._ensure_writer()
        pending = _Pending(events)
        self._queue.put(pending)
        # EventBridge gives up after 5 s; answering an error before that lets it retry
        # (a later commit of this batch then makes the retry a duplicate, not a loss).
        if not pending.done.wait(self.timeout):
            raise LedgerError("the ledger did not commit the events in time")
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def _ensure_writer(self) -> None:
        """Start the writer in this process, or again should it ever have ended."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()  # a queue inherited through fork is not ours
                self._failure = None
            thread = threading.Thread(target=self._write, name="ledger-group-commit", daemon=True)
            thread.start()
            self._thread, self._pid = thread, os.getpid()

    def _write(self) -> None:
        ledger: Ledger | None = None
        waiting: list[_Pending] = []
        while True:
            if ledger is None:
                ledger = self._open()
                if ledger is None:
                    # Everyone asking now hears why at once, not after their timeout.
                    self._settle(waiting + self._drain(), LedgerError(self._failure))
                    waiting = self._take(timeout=REOPEN_SECONDS)
                    continue
            batch = waiting or self._take()
            waiting = []
            batch += self._drain(MAX_BATCH - len(batch))
            if not self._commit(ledger, batch):
                ledger.close()
                ledger = None

    def _open(self) -> Ledger | None:
        """The writer's connection, or None with ``failure`` saying why."""
        try:
            ledger = Ledger(self.path, lock_timeout=self.lock_timeout)
        except (LedgerError, OSError) as exc:
            if self._failure is None:
                log.warning("webhook ingest cannot open the ledger (will try again): %s", exc)
            self._failure = str(exc)
            return None
        if self._failure is not None:
            log.info("webhook ingest has opened the ledger again")
        self._failure = None
        return ledger

    def _take(self, timeout: float | None = None) -> list[_Pending]:
        """The next request (waiting at most ``timeout`` seconds), as a list; empty if none."""
        try:
            return [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []

    def _drain(self, limit: int | None = None) -> list[_Pending]:
        """Whatever requests are queued already (at most ``limit``), without waiting."""
        found: list[_Pending] = []
        while limit is None or len(found) < limit:
            try:
                found.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return found

    def _commit(self, ledger: Ledger, batch: list[_Pending]) -> bool:
        """Record ``batch``, waking each request; False when the connection should be reopened."""
        healthy = True
        try:
            with ledger.transaction():
                # Whoever asked while this writer waited for the write lock joins this
                # commit: under load that wait is another process's commit, and the next
                # lock would keep them waiting as long again (one fsync for them all).
                batch += self._drain(MAX_BATCH - len(batch))
                results = ledger_events.accept_batches(
                    ledger, [p.events for p in batch], notify=self.notify
                )
            for pending, result in zip(batch, results, strict=True):
                pending.result = result
        except (LedgerError, sqlite3.OperationalError) as exc:
            # The ledger refused the write as a whole (locked, disk full, read-only):
            # one request at a time would only wait as long again.
            for pending in batch:
                pending.error = exc
            healthy = not isinstance(exc, sqlite3.Error)
        except Exception:
            # The batch rolled back as one; record each request alone so that one
            # request's failure is that request's alone.
            for pending in batch:
                try:
                    pending.result = ledger_events.accept_events(
                        ledger, pending.events, notify=self.notify
                    )
                except Exception as exc:
                    pending.error = exc
        finally:
            self._settle(batch)
        return healthy

    @staticmethod
    def _settle(batch: list[_Pending], error: BaseException | None = None) -> None:
        """Wake each request of ``batch``, with ``error`` when one is given."""
        for pending in batch:
            if error is not None:
                pending.error = error
            pending.done.set()
