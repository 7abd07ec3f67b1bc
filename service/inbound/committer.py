"""Group commit: the webhook requests of one process share one durable transaction.

Each accepted request must be on disk before its 202 (one fsync). Instead of one
transaction and one fsync per request, request threads hand their events to this
process's writer thread, which records everything that has gathered meanwhile in
one transaction and wakes each request with its own result. Under load the cost of
the fsync and of taking the write lock is shared by the whole batch; alone, a
request waits for nothing but its own commit.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LedgerError
from ..ledger import Accepted, IncomingEvent, Ledger

MAX_BATCH = 64


@dataclass
class _Pending:
    events: Sequence[IncomingEvent]
    done: threading.Event = field(default_factory=threading.Event)
    result: Accepted | None = None
    error: BaseException | None = None


class GroupCommit:
    """One writer thread per process (started after any fork, on first use)."""

    def __init__(self, path: Path, *, timeout: float = 4.0) -> None:
        self.path = path
        self.timeout = timeout
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._pid: int | None = None

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
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.SimpleQueue()  # a queue inherited through fork is not ours
            thread = threading.Thread(target=self._write, name="ledger-group-commit", daemon=True)
            thread.start()
            self._pid = os.getpid()

    def _write(self) -> None:
        ledger = Ledger(self.path)
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = ledger.accept_batches([p.events for p in batch])
                for pending, result in zip(batch, results, strict=True):
                    pending.result = result
            except Exception:
                # The batch rolled back as one; record each request alone so that one
                # request's failure is that request's alone.
                for pending in batch:
                    try:
                        pending.result = ledger.accept_events(pending.events)
                    except Exception as exc:
                        pending.error = exc
            for pending in batch:
                pending.done.set()
