"""The project's errors: one root, a few meaningful kinds.

Callers catch ``ArchiverError`` to report any failure of ours in one line; the
subclasses say what kind of failure it was so that the CLI can pick an exit
status and the worker can decide whether a retry makes sense.
"""

from __future__ import annotations

from typing import Any


class ArchiverError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(ArchiverError):
    """A setting is missing or malformed; the message names the variable."""


class UsageError(ArchiverError):
    """A command was given an argument it cannot use (for example a non-UUID id)."""


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

    def __init__(self, what: str, fields: dict[str, list[str]]) -> None:
        self.what = what
        self.fields = fields
        listed = "; ".join(f"{path}: {', '.join(msgs)}" for path, msgs in sorted(fields.items()))
        super().__init__(f"{what} is malformed: {listed}")


class LedgerError(ArchiverError):
    """The ledger or the archive folder refused an operation."""


class StorageError(LedgerError):
    """Cold storage could not write or read an archive document."""
