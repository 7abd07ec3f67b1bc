"""What each history commit says (contract section 10): path, content, author, date, message.

Pure functions of an archive document or a deletion, so that the live history and a
rebuild from the ledger and cold storage produce the same commits, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .layout import normalise, tree_path


@dataclass(frozen=True)
class Person:
    """An author or committer as git writes it: ``name <email>``."""

    name: str
    email: str

    def ident(self) -> bytes:
        """The identity line git stores (``Name <email>``), UTF-8."""
        return f"{self.name} <{self.email}>".encode()


@dataclass(frozen=True)
class Change:
    """One commit to make: the object's file set to ``content`` (None: removed)."""

    source_type: str
    object_id: str
    name: str  # the object's name with this version: tree_path(source_type, object_id, name)
    content: bytes | None  # normalised document; None for a deletion
    author: Person
    when: int  # Unix seconds, UTC, truncated: author date and committer date
    message: str  # the whole message, trailers included
    version_id: str | None  # None for a deletion
    archive_key: str | None

    @property
    def path(self) -> str:
        """Where the object's file lives in the tree of this commit."""
        return tree_path(self.source_type, self.object_id, self.name)


COMMITTER = Person("genesys-strategy-archiver", "archiver@genesys-cloud.invalid")
GENESYS = "Genesys Cloud"
EMAIL_DOMAIN = "users.genesys-cloud.invalid"

SOURCE_TRAILER = "Genesys-Source"
ID_TRAILER = "Genesys-Id"
VERSION_TRAILER = "Genesys-Version"
KEY_TRAILER = "Archive-Key"

# git's identity line cannot hold these; a name or id carrying one would fail `git fsck`.
_IDENT_UNSAFE = re.compile(r"[<>\x00-\x1f\x7f]+")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def person(name: Any, user_id: Any) -> Person:
    """The contract's author: the name, else the id, else ``Genesys Cloud``; the e-mail
    ``<id or unknown>@users.genesys-cloud.invalid``."""
    name = _clean(name)
    user_id = _clean(user_id)
    email_local = re.sub(r"[^A-Za-z0-9._+-]+", "-", user_id).strip("-.") if user_id else ""
    return Person(name or user_id or GENESYS, f"{email_local or 'unknown'}@{EMAIL_DOMAIN}")


def version_changes(archive: Mapping[str, Any]) -> list[Change]:
    """One change per version of an archive document, oldest first (number, then date)."""
    source_type = _text(archive, "sourceType")
    object_id = _text(archive, "strategyId")
    strategy_name = archive.get("strategyName")
    key = archive.get("idempotencyKey")
    documents = archive.get("versions")
    if not isinstance(documents, list) or not documents:
        raise ValueError("archive document: 'versions' must be a non-empty list")
    # The payload lists its matrix rows and its documents in one order (newest first), so a
    # document's row is the one in its place: a snapshot's document carries the object's
    # id, not its version's.
    matrix = list(archive.get("versionMatrix") or ())
    changes = []
    for position, version in enumerate(documents):
        if not isinstance(version, Mapping):
            raise ValueError(f"archive document: versions[{position}] is not an object")
        if position >= len(matrix):
            raise ValueError(
                f"archive document: versions[{position}] (id {version.get('id')!r}) has no "
                "versionMatrix row"
            )
        row = matrix[position]
        version_id = row.get("versionId")
        configuration = version.get("configuration")
        doc = configuration if isinstance(configuration, Mapping) else version
        name = doc.get("name")
        if not isinstance(name, str) or not name.strip():
            name = strategy_name if isinstance(strategy_name, str) else ""
        when = to_seconds(row["createdDate"])
        creator = version.get("createdBy")
        if not isinstance(creator, Mapping):
            creator = _snapshot_author(version, row)
        changes.append(
            (
                (row.get("versionNumber", 0), when, position),
                Change(
                    source_type=source_type,
                    object_id=object_id,
                    name=name,
                    content=normalise(doc),
                    author=person(creator.get("name"), creator.get("id")),
                    when=when,
                    message=_message(
                        f"{name}: version {version_id}",
                        [
                            (SOURCE_TRAILER, source_type),
                            (ID_TRAILER, object_id),
                            (VERSION_TRAILER, str(version_id)),
                            (KEY_TRAILER, str(key or "")),
                        ],
                    ),
                    version_id=str(version_id),
                    archive_key=str(key) if key else None,
                ),
            )
        )
    # Ties on number and date keep the archive's own order reversed (it lists newest first).
    changes.sort(key=lambda pair: (pair[0][0], pair[0][1], -pair[0][2]))
    return [change for _, change in changes]


def _snapshot_author(version: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot's author: the version's own creator is the object's (a bare id, who made
    the queue years ago), so the commit names who made this change, as the archive does:
    its ``originalAuthor`` and, for the e-mail, the snapshot's ``modifiedBy`` id."""
    tags = row.get("metadataTags")
    named = tags.get("originalAuthor") if isinstance(tags, Mapping) else None
    modifier = version.get("modifiedBy")
    user_id = modifier if isinstance(modifier, str) else None
    if named == "unknown":
        named = None
    return {"name": named, "id": user_id}


def deletion_change(
    source_type: str,
    object_id: str,
    name: str | None,
    when: datetime | str | int,
    by_name: str | None,
    by_id: str | None,
) -> Change:
    """The commit removing a deleted object's file (contract sections 10 and 11)."""
    shown = name if name and name.strip() else object_id
    return Change(
        source_type=source_type,
        object_id=object_id,
        name=name or "",
        content=None,
        author=person(by_name, by_id),
        when=to_seconds(when),
        message=_message(
            f"{shown}: deleted", [(SOURCE_TRAILER, source_type), (ID_TRAILER, object_id)]
        ),
        version_id=None,
        archive_key=None,
    )


def to_seconds(when: datetime | str | int) -> int:
    """Unix seconds, truncated, of an aware datetime, an ISO-8601 string with a zone or
    already seconds; a naive time is refused (its zone would be a guess)."""
    if isinstance(when, bool):
        raise ValueError(f"a date is needed, not {when!r}")
    if isinstance(when, int):
        return when
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            raise ValueError(f"date {when!r} is not ISO-8601") from None
    if when.tzinfo is None:
        raise ValueError(f"date {when.isoformat()} has no time zone")
    return (when - _EPOCH) // timedelta(seconds=1)


def parse_trailers(message: str) -> dict[str, str]:
    """The ``Key: value`` lines of the message's last paragraph (its trailers)."""
    paragraphs = message.strip().split("\n\n")
    if len(paragraphs) < 2:
        return {}
    trailers = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            return {}
        trailers[key] = value.strip()
    return trailers


def _message(subject: str, trailers: list[tuple[str, str]]) -> str:
    subject = _LINE_BREAKS.sub(" ", subject).strip()
    body = "".join(f"{key}: {_LINE_BREAKS.sub(' ', value)}\n" for key, value in trailers)
    return f"{subject}\n\n{body}"


def _clean(value: Any) -> str:
    return _IDENT_UNSAFE.sub(" ", value).strip() if isinstance(value, str) else ""


def _text(archive: Mapping[str, Any], key: str) -> str:
    value = archive.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"archive document: {key!r} must be a non-empty string")
    return value
