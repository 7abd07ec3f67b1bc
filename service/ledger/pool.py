"""One ledger connection per process and thread, opened on first use.

gunicorn forks workers after loading the app: a connection opened before the
fork must never be used after it, so connections are keyed by process id too.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from . import Ledger


class LedgerPool:
    """Hands each thread of each process its own ``Ledger`` on the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def get(self) -> Ledger:
        """This thread's ledger, opened now if this thread (or process) has none."""
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None or getattr(self._local, "pid", None) != os.getpid():
            ledger = Ledger(self.path)
            self._local.ledger, self._local.pid = ledger, os.getpid()
        return ledger
