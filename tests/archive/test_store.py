"""Cold storage: written once, atomically, never overwritten, checked on read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from service.archive import store
from service.errors import StorageError

KEY = "0b0d7a6e-3f5c-5a3e-8c1e-2b9f4a6d8e10"
STRATEGY = "38426578-d900-459f-a7e7-3260397f7ca3"


def test_location_is_grouped_by_source_and_strategy() -> None:
    location = store.document_location("flow", STRATEGY, KEY)
    assert location == f"flow/{STRATEGY}/{KEY}.json"


def test_write_once_stores_bytes_and_their_digest(tmp_path: Path) -> None:
    location = store.document_location("flow", STRATEGY, KEY)
    stored = store.write_once(tmp_path, location, b'{"a": 1}\n')
    assert stored.created
    assert (tmp_path / location).read_bytes() == b'{"a": 1}\n'
    assert stored.sha256 == hashlib.sha256(b'{"a": 1}\n').hexdigest()
    assert stored.size == 9
    assert list((tmp_path / "flow" / STRATEGY).iterdir()) == [tmp_path / location]


def test_existing_document_is_never_overwritten(tmp_path: Path) -> None:
    location = store.document_location("flow", STRATEGY, KEY)
    first = store.write_once(tmp_path, location, b"first")
    second = store.write_once(tmp_path, location, b"second")
    assert not second.created
    assert second.sha256 == first.sha256
    assert (tmp_path / location).read_bytes() == b"first"
    leftovers = [p.name for p in (tmp_path / "flow" / STRATEGY).iterdir()]
    assert leftovers == [f"{KEY}.json"]


def test_read_checks_the_recorded_digest(tmp_path: Path) -> None:
    location = store.document_location("routing-strategy", STRATEGY, KEY)
    stored = store.write_once(tmp_path, location, b"original")
    assert store.read_document(tmp_path, location, stored.sha256) == b"original"
    (tmp_path / location).write_bytes(b"tampered")
    with pytest.raises(StorageError, match="does not match its recorded SHA-256"):
        store.read_document(tmp_path, location, stored.sha256)


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "flow").write_text("a file where a folder should be")
    with pytest.raises(StorageError, match="cannot store archive document"):
        store.write_once(tmp_path, store.document_location("flow", STRATEGY, KEY), b"x")


def test_documents_of_lists_one_strategy(tmp_path: Path) -> None:
    assert store.documents_of(tmp_path, "flow", STRATEGY) == []
    location = store.document_location("flow", STRATEGY, KEY)
    store.write_once(tmp_path, location, b"x")
    assert store.documents_of(tmp_path, "flow", STRATEGY) == [location]
