"""Whether a failed job is tried again is a property of its error, as the worker reads it."""

from __future__ import annotations

import pytest

from service.archive.job import JobOutcome, is_retryable
from service.errors import (
    ArchiverError,
    ConfigError,
    LedgerError,
    StorageError,
    UpstreamError,
    UsageError,
    ValidationFailed,
)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ArchiverError("something of ours"), True),
        (LedgerError("the ledger is locked by another process"), True),
        (StorageError("disk full"), True),
        (UpstreamError("503", status=503, retryable=True), True),
        (UpstreamError("404", status=404), False),
        (ConfigError("GENESYS_CLIENT_ID is required"), False),
        (UsageError("strategy id must be a UUID"), False),
        (ValidationFailed("Genesys flow", {"id": ["required field"]}), False),
    ],
)
def test_each_error_says_whether_a_retry_may_succeed(error: ArchiverError, retryable: bool) -> None:
    assert error.retryable is retryable
    assert is_retryable(error) is retryable
    assert JobOutcome.failed(error).retryable is retryable


def test_a_new_kind_of_error_decides_by_its_class_alone() -> None:
    class Permanent(LedgerError):
        retryable = False

    assert is_retryable(Permanent("the archive folder is gone")) is False
    expected = JobOutcome(ok=False, error="gone", retryable=False)
    assert JobOutcome.failed(Permanent("gone")) == expected


def test_an_unforeseen_exception_is_retried_and_named_by_its_type() -> None:
    assert is_retryable(RuntimeError("boom")) is True
    assert JobOutcome.failed(KeyError("id")) == JobOutcome(
        ok=False, error="KeyError: 'id'", retryable=True
    )
