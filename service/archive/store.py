"""Cold storage: archive documents written once, atomically, never overwritten.

A document goes to a temporary file in its final folder, is fsynced, then linked
to its final name (``link`` fails if the name exists, unlike ``rename``), and the
folder is fsynced. A crash leaves either no document or the whole one.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StorageError


@dataclass(frozen=True)
class StoredDocument:
    location: str  # relative to the archive folder, so the folder can move
    sha256: str
    size: int
    created: bool  # False: the document was already there


def document_location(source_type: str, strategy_id: str, idempotency_key: str) -> str:
    """Where the archive under ``idempotency_key`` lives, relative to the archive folder."""
    return f"{source_type}/{strategy_id}/{idempotency_key}.json"


def write_once(archive_dir: Path, location: str, data: bytes) -> StoredDocument:
    """Store ``data`` at ``location`` unless a document is already there; return what is there."""
    final = archive_dir / location
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            return _describe(location, final.read_bytes(), created=False)
        temp = final.parent / f".{final.name}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, final)
                created = True
            except FileExistsError:
                created = False  # another process stored it first: theirs stands
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        stored = data if created else final.read_bytes()
        return _describe(location, stored, created=created)
    except OSError as exc:
        raise StorageError(f"cannot store archive document {location}: {exc.strerror}") from exc


def read_document(archive_dir: Path, location: str, sha256: str | None = None) -> bytes:
    """The stored bytes at ``location``; checked against ``sha256`` when given.

    A missing archive folder is named as such (absolute): every document would be missing,
    and the cause is the setting, not the documents."""
    try:
        data = (archive_dir / location).read_bytes()
    except OSError as exc:
        require_folder(archive_dir)
        raise StorageError(
            f"cannot read archive document {location} in {Path(archive_dir).absolute()}:"
            f" {exc.strerror}"
        ) from exc
    if sha256 is not None and digest(data) != sha256:
        raise StorageError(f"archive document {location} does not match its recorded SHA-256")
    return data


def read_payload(archive_dir: Path, location: str, sha256: str | None = None) -> dict[str, Any]:
    """The archive document at ``location`` as a JSON object (checked as ``read_document``
    checks it); ``StorageError`` when it is not one."""
    data = read_document(archive_dir, location, sha256)
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise StorageError(f"archive document {location} is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise StorageError(f"archive document {location} is not a JSON object")
    return payload


def require_folder(archive_dir: Path) -> None:
    """Raise ``StorageError`` naming the archive folder (absolute) when it is not there."""
    folder = Path(archive_dir).absolute()
    if not folder.is_dir():
        raise StorageError(f"the archive folder {folder} (ARCHIVE_DIR) does not exist")


def documents_of(archive_dir: Path, source_type: str, strategy_id: str) -> list[str]:
    """Locations of every stored document of one strategy."""
    folder = archive_dir / source_type / strategy_id
    if not folder.is_dir():
        return []
    return sorted(
        f"{source_type}/{strategy_id}/{p.name}" for p in folder.glob("*.json") if p.is_file()
    )


def digest(data: bytes) -> str:
    """The SHA-256 the ledger records for a document's bytes."""
    return hashlib.sha256(data).hexdigest()


def _describe(location: str, data: bytes, *, created: bool) -> StoredDocument:
    return StoredDocument(location, digest(data), len(data), created)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
