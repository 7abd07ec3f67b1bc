"""What the reports check: archive documents against their SHA-256, and the audit chain."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import StorageError
from ..ledger import Ledger, audit
from . import Row


def verified_matrix(
    archive_dir: Path, location: str, sha256: str
) -> tuple[list[Row] | None, str | None]:
    """(the document's versionMatrix, None), or (None, why it cannot be trusted)."""
    # Imported here: ``service.archive`` brings in the Genesys client and prometheus-client,
    # and cold storage is only needed once a report runs.
    from ..archive.store import read_document

    try:
        payload = json.loads(read_document(archive_dir, location, sha256))
        matrix = payload["versionMatrix"]
        if not isinstance(matrix, list):
            raise TypeError("versionMatrix is not a list")
        return matrix, None
    except StorageError as exc:
        return None, str(exc)
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"archive document {location} is not a readable archive payload: {exc}"


def audit_chain(ledger: Ledger) -> Row:
    """The same check as ``archiver audit verify``, with the head to record when intact."""
    check = audit.check_audit(ledger)
    intact = check.problem is None
    return {
        "entries": check.entries,
        "intact": intact,
        "problem": check.problem,
        "head": check.head if intact else None,
    }
