"""The ``flock`` beside the ledger that queues writers, with a bounded wait.

Writers of all processes queue in the kernel on an exclusive ``flock`` and wake the
moment it is free; polling instead would lose the lock, under load, to a process
that takes it again at once (a measured p99 three times worse). A blocking ``flock``
cannot time out, so a contended wait runs in a thread of the lock's own while the
caller waits at most its timeout; a lock granted after the caller gave up is let go.

A lock file opened with ``give_way`` (the worker's) lets the webhooks' writers go first:
for up to that many seconds it takes the lock only at a moment when it is free, polling,
without joining the kernel's queue, where it would be woken with every waiter at each
release and could take the lock ahead of them. Only then does it queue like the others,
so that it is never starved for longer.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LedgerError

GIVE_WAY_POLL_SECONDS = 0.002  # how often a lock file giving way looks for a free moment


@dataclass
class _Request:
    granted: threading.Event = field(default_factory=threading.Event)
    decided: threading.Lock = field(default_factory=threading.Lock)
    abandoned: bool = False


class LockFile:
    """One connection's descriptor on the lock file; ``acquire`` waits at most ``timeout``."""

    def __init__(self, path: Path, timeout: float, *, give_way: float = 0.0) -> None:
        self.path = path
        self.timeout = timeout
        self.give_way = give_way
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._state = threading.Lock()
        self._waiting = 0  # requests handed to the waiter thread and not yet settled
        self._requests: queue.SimpleQueue[_Request | None] | None = None

    def acquire(self, timeout: float | None = None) -> None:
        """Take the exclusive lock, or raise ``LedgerError`` after ``timeout`` seconds."""
        timeout = self.timeout if timeout is None else timeout
        started = time.monotonic()
        if self.give_way > 0 and self._take_when_free(started + min(self.give_way, timeout)):
            return
        remaining = max(0.0, timeout - (time.monotonic() - started))
        with self._state:
            if self._take_now():
                return
            request = _Request()
            self._waiting += 1
            self._waiter().put(request)
        if request.granted.wait(remaining):
            return
        with request.decided:
            if request.granted.is_set():
                return
            request.abandoned = True
        raise LedgerError(
            f"the ledger is locked by another process: waited {timeout:g} s for the lock on "
            f"{self.path}"
        )

    def _take_now(self) -> bool:
        """Take the lock if it is free this instant (the caller holds ``_state``)."""
        if self._waiting:  # with a wait in flight, only the waiter may take the lock
            return False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _take_when_free(self, deadline: float) -> bool:
        """Take the lock at a moment it is free, looking until ``deadline`` (monotonic)."""
        while True:
            with self._state:
                if self._take_now():
                    return True
            if time.monotonic() + GIVE_WAY_POLL_SECONDS > deadline:
                return False
            time.sleep(GIVE_WAY_POLL_SECONDS)

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the descriptor; a waiter thread ends once its wait in flight is over."""
        with self._state:
            if self._requests is not None:
                self._requests.put(None)
                self._requests = None
        os.close(self.fd)

    def _waiter(self) -> queue.SimpleQueue[_Request | None]:
        """The queue of the thread that waits for the lock (started on first contention)."""
        if self._requests is None:
            self._requests = queue.SimpleQueue()
            # A descriptor of its own on the same open file (the same lock): it stays
            # valid, and is never a reused number, even if the connection closes meanwhile.
            own = os.dup(self.fd)
            threading.Thread(
                target=self._wait, args=(own, self._requests), name="ledger-lock", daemon=True
            ).start()
        return self._requests

    def _wait(self, fd: int, requests: queue.SimpleQueue[_Request | None]) -> None:
        try:
            while (request := requests.get()) is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                with request.decided:
                    if request.abandoned:  # the caller gave up: let the lock go at once
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    with self._state:
                        self._waiting -= 1
                    if not request.abandoned:
                        request.granted.set()
        finally:
            os.close(fd)
