"""The ledger handle: one process's connection to the ledger file, and nothing else.

The verbs are functions in the module that owns their table (``jobs.claim(ledger, ...)``):
each takes this handle first, so what calls what is an explicit, typed import.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from .db import LOCK_TIMEOUT_SECONDS, close, connect, probe, transaction

if TYPE_CHECKING:
    from ..config import Settings


class Ledger:
    """One process's handle on the ledger file. Open it after any fork, never before.

    Every error text the verbs store (a job's last error, a delivery's, an endpoint's
    answer) goes through the logs' ``redact`` with ``secrets`` first: whoever reads the
    ledger, the admin API or a backup never sees a credential.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        give_way: float = 0.0,
        secrets: Iterable[str] = (),
    ) -> None:
        self.path = Path(path)
        self.secrets = tuple(s for s in secrets if s)
        self.db: Database = connect(self.path, lock_timeout=lock_timeout, give_way=give_way)

    @classmethod
    def from_settings(cls, settings: Settings, *, give_way: float = 0.0) -> Ledger:
        """The ledger ``ARCHIVER_DB`` names, waiting at most ``LEDGER_LOCK_TIMEOUT_SECONDS``,
        masking the settings' secrets in the error texts it stores. ``give_way``: seconds
        each write lets the writers queued for the lock go first (the worker's)."""
        return cls(
            settings.archiver_db,
            lock_timeout=settings.ledger_lock_timeout_seconds,
            give_way=give_way,
            secrets=settings.secrets(),
        )

    def transaction(self, *, wait: float | None = None) -> AbstractContextManager[Database]:
        """One atomic write spanning several verbs (``wait``: a shorter lock wait, seconds)."""
        return transaction(self.db, wait=wait)

    def probe(self, *, wait: float) -> None:
        """Commit a small real write within ``wait`` seconds (readiness), else raise."""
        probe(self.db, wait=wait)

    def close(self) -> None:
        close(self.db)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
