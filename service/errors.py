"""The project's errors: one root, a few meaningful kinds.

Callers catch ``ArchiverError`` to report any failure of ours in one line; the
subclasses say what kind of failure it was so that the CLI can pick an exit
status, and each says through ``retryable`` whether a later try may succeed.
"""

from __future__ import annotations

from typing import Any


class ArchiverError(Exception):
    """Root of every error this project raises on purpose.

    ``retryable``: whether trying again later may succeed. By default yes (the ledger,
    cold storage and the network may recover; the number of tries is bounded anyway);
    kinds that waiting cannot mend say no.
    """

    retryable: bool = True


class ConfigError(ArchiverError):
    """A setting is missing or malformed; the message names the variable."""

    retryable = False


class UsageError(ArchiverError):
    """A command was given an argument it cannot use (for example a non-UUID id)."""

    retryable = False


class UpstreamError(ArchiverError):
    """A remote service (Genesys Cloud, the archival endpoint) answered with an error.

    ``retryable`` says whether trying again later may succeed (429, 5xx, network).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable
        self.body = body


class ValidationFailed(ArchiverError):
    """A document did not match its schema; ``fields`` maps each bad field to messages."""

    retryable = False

    def __init__(self, what: str, fields: dict[str, list[str]]) -> None:
        self.what = what
        self.fields = fields
        listed = "; ".join(f"{path}: {', '.join(msgs)}" for path, msgs in sorted(fields.items()))
        super().__init__(f"{what} is malformed: {listed}")


class LedgerError(ArchiverError):
    """The ledger or the archive folder refused an operation (locked, full, unwritable:
    retryable, as every ``ArchiverError`` is by default)."""


class StorageError(LedgerError):
    """Cold storage could not write or read an archive document."""


class HistoryError(ArchiverError):
    """The history repository refused an operation (not a repository, locked, a commit
    that is not where it should be)."""


class HistoryMoved(HistoryError):
    """The history branch is not at the commit the writer started from: another writer
    moved it; the writer recovers from the branch and tries again."""
