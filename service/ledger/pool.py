"""One ledger connection per process and thread, opened on first use.

gunicorn forks workers after loading the app: a connection opened before the
fork must never be used after it, so connections are keyed by process id too.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from . import LOCK_TIMEOUT_SECONDS, Ledger


class LedgerPool:
    """Hands each thread of each process its own ``Ledger`` on the same file."""

    def __init__(self, path: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self._local = threading.local()

    def get(self) -> Ledger:
        """This thread's ledger, opened now if this thread (or process) has none.

        A failed open raises ``LedgerError`` and caches nothing: the next call tries again.
        """
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None or getattr(self._local, "pid", None) != os.getpid():
            ledger = Ledger(self.path, lock_timeout=self.lock_timeout)
            self._local.ledger, self._local.pid = ledger, os.getpid()
        return ledger
