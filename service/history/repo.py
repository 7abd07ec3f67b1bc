"""The bare history repository, written as git objects (STYLE 17, contract section 10).

Commits are built bottom-up (blobs, the changed directory's tree, the root tree, the
commit) from the parent's tree, which is kept in memory between calls so that one more
version costs one blob, two trees and a commit, whatever the size of the history. The
branch then moves by compare-and-swap from the parent the caller saw; a writer that lost
the race gets ``HistoryMoved`` and its objects stay unreferenced, which is harmless.

Commit ids are a function of (parent, changes) alone: fixed committer, ``+0000``, no
signature, no encoding header, so that a rebuild from the ledger gives the same ids.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from hashlib import sha1
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.file import FileLocked
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree, valid_hexsha
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

from ..errors import ConfigError, HistoryError, HistoryMoved, LedgerError
from ..ledger.lockfile import LockFile
from .commits import COMMITTER, Change, parse_trailers
from .compact import compact
from .pack import write_pack

log = logging.getLogger("service.history")

LOCK_NAME = "archiver.lock"
LOCK_TIMEOUT = 60.0
# Fewer objects than this are written loose (as git does for small writes, so that the
# live path does not leave one tiny pack per archive); more go into one pack.
PACK_THRESHOLD = 64
COMPACT_AFTER = 2000  # loose objects before they are packed (about 500 versions)

_DIR_MODE = 0o040000
_BLOB, _TREE, _COMMIT = Blob.type_num, Tree.type_num, Commit.type_num
_TYPE_NAMES = {_BLOB: b"blob", _TREE: b"tree"}

# The objects a build writes, by binary id: (type number, raw content, delta base or None).
_Objects = dict[bytes, tuple[int, bytes, bytes | None]]


class _Dir:
    """One directory of the tree: entries by git's sort key (name, ``/`` after a
    directory's), each already serialised, and which file holds which object id."""

    __slots__ = ("by_id", "changed", "entries", "sha")

    def __init__(self) -> None:
        self.entries: dict[bytes, bytes] = {}
        self.by_id: dict[str, bytes] = {}
        self.sha: bytes | None = None  # binary id of the tree last written for it
        self.changed = True  # entries differ from the tree ``sha`` names

    def raw(self) -> bytes:
        entries = self.entries
        return b"".join([entries[key] for key in sorted(entries)])


class _Snapshot:
    """The tree of one commit, in memory: the root's own entries and its directories."""

    __slots__ = ("commit", "dirs", "root")

    def __init__(self, commit: bytes | None) -> None:
        self.commit = commit  # hex id of the commit this is the tree of; None: no commit
        self.root = _Dir()  # entries of the root other than the directories below
        self.dirs: dict[bytes, _Dir] = {}


class HistoryRepo:
    """A bare repository and the branch the history is written to."""

    compact_after = COMPACT_AFTER  # loose objects on disk before commit() packs them

    def __init__(self, repo: Repo, branch: str) -> None:
        self.repo = repo
        self.path = Path(repo.path)
        self.branch = branch
        self.ref = Ref(b"refs/heads/" + branch.encode())
        self._snapshot: _Snapshot | None = None
        self._wrote_loose = False  # the last build wrote loose objects

    @classmethod
    def open(cls, path: Path, branch: str = "main", *, create: bool = True) -> HistoryRepo:
        """The bare repository at ``path``, created (with its parents) when missing."""
        if not branch or not check_ref_format(Ref(b"refs/heads/" + branch.encode())):
            raise ConfigError(f"HISTORY_BRANCH: {branch!r} is not a valid git branch name")
        path = Path(path)
        try:
            repo = Repo(str(path))
            if not repo.bare:
                repo.close()
                raise HistoryError(f"HISTORY_REPO: {path} is a working tree, not a bare repository")
        except NotGitRepository:
            if not create:
                raise HistoryError(f"HISTORY_REPO: {path} is not a git repository") from None
            if path.exists() and any(path.iterdir()):
                raise HistoryError(
                    f"HISTORY_REPO: {path} exists, is not empty and is not a git repository"
                ) from None
            path.mkdir(parents=True, exist_ok=True)
            repo = Repo.init_bare(str(path), default_branch=branch.encode())
            repo.refs.set_symbolic_ref(Ref(b"HEAD"), Ref(b"refs/heads/" + branch.encode()))
        return cls(repo, branch)

    def close(self) -> None:
        """Let go of the pack files the repository holds open."""
        self.repo.close()

    def __enter__(self) -> HistoryRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def head(self) -> str | None:
        """The branch's commit (40 hex), None while the history is empty."""
        try:
            return self.repo.refs[self.ref].decode("ascii")
        except KeyError:
            return None

    def commit(self, changes: Sequence[Change], *, parent: str | None) -> list[str]:
        """Write one commit per change on top of ``parent`` and move the branch there,
        only if it is still at ``parent`` (else ``HistoryMoved``). Ids in order."""
        ids = self.build(changes, parent=parent)
        if not ids:
            return ids
        new = ObjectID(ids[-1].encode("ascii"))
        try:
            if parent is None:
                moved = self.repo.refs.add_if_new(self.ref, new)
            else:
                old = ObjectID(parent.encode("ascii"))
                moved = self.repo.refs.set_if_equals(self.ref, old, new)
        except FileLocked:
            moved = False
        if not moved:
            raise HistoryMoved(
                f"the history branch {self.branch} is no longer at {parent or 'its start'} "
                f"(now {self.head() or 'empty'}): another writer moved it"
            )
        # Counted on disk (the lane opens the repository anew at each run), from a sample.
        if self._wrote_loose and self.loose_estimate() >= self.compact_after:
            self.compact(minimum=self.compact_after // 2)
        return ids

    def loose_estimate(self) -> int:
        """About how many loose objects the repository holds: those in 16 of the 256
        folders, times 16 (git's ``gc --auto`` samples one folder the same way)."""
        objects = self.path / "objects"
        found = 0
        for folder in range(16):
            with suppress(FileNotFoundError):
                found += len(os.listdir(objects / f"{folder:02x}"))
        return 16 * found

    def compact(self, minimum: int = 1) -> int:
        """Move the loose objects of the branch into one pack with deltas (as ``git gc``
        would), when there are at least ``minimum``; how many. A failure is logged: the
        history itself is complete."""
        head = self.head()
        if head is None:
            return 0
        try:
            return compact(self.repo.object_store, head, minimum)
        except (OSError, KeyError) as error:
            log.warning("history: packing the loose objects failed: %s", error)
            return 0

    def build(self, changes: Sequence[Change], *, parent: str | None) -> list[str]:
        """Write the objects of one commit per change on top of ``parent``, without moving
        any branch; the commit ids in order. Many changes at once make one pack."""
        snapshot = self._snapshot_of(parent)
        self._snapshot = None  # until the build is complete, the cache describes nothing
        objects: _Objects = {}
        ids = []
        head = parent.encode("ascii") if parent else None
        for change in changes:
            _apply(snapshot, change, objects)
            tree = _store_tree(snapshot, objects)
            commit = _commit_object(change, tree, head)
            objects[commit.sha().digest()] = (_COMMIT, commit.as_raw_string(), None)
            head = commit.id
            ids.append(head.decode("ascii"))
        self._write(objects)
        snapshot.commit = head
        self._snapshot = snapshot
        return ids

    def walk_back(self, head: str, stop: str | None) -> list[tuple[str, dict[str, str]]]:
        """The commits after ``stop`` up to ``head`` (first parents), oldest first, each
        with its trailers; ``HistoryError`` when ``stop`` is not among them."""
        found = []
        current: bytes | None = head.encode("ascii")
        target = stop.encode("ascii") if stop else None
        while current is not None and current != target:
            commit = self._commit(current)
            message = commit.message.decode("utf-8", "replace")
            found.append((current.decode("ascii"), parse_trailers(message)))
            current = commit.parents[0] if commit.parents else None
        if current != target:
            raise HistoryError(f"commit {stop} is not an ancestor of {head} in the history")
        found.reverse()
        return found

    @contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold the exclusive lock on ``<repo>/archiver.lock`` (waiting at most ``timeout``
        seconds): one writer at a time moves the branch."""
        lockfile = LockFile(self.path / LOCK_NAME, timeout)
        try:
            try:
                lockfile.acquire()
            except LedgerError:
                raise HistoryError(
                    f"the history repository is locked by another process: waited "
                    f"{timeout:g} s for {self.path / LOCK_NAME}"
                ) from None
            # Every writer holds this lock, so a ref lock file found now was left by one
            # killed while moving the branch; git would refuse every later move.
            stale = self.path / (self.ref.decode() + ".lock")
            stale.unlink(missing_ok=True)
            try:
                yield
            finally:
                lockfile.release()
        finally:
            lockfile.close()

    def _commit(self, sha: bytes) -> Commit:
        """The commit ``sha`` (40 hex), or ``HistoryError`` saying it is not one."""
        try:
            obj = self.repo.object_store[ObjectID(sha)] if valid_hexsha(sha) else None
        except KeyError:
            obj = None
        if not isinstance(obj, Commit):
            shown = sha.decode("ascii", "replace")
            raise HistoryError(f"{shown} is not a commit of the history repository")
        return obj

    def _snapshot_of(self, parent: str | None) -> _Snapshot:
        """The tree of ``parent`` in memory: the one kept from the last build when it is
        that commit's, else read from the repository."""
        cached = self._snapshot
        wanted = parent.encode("ascii") if parent else None
        if cached is not None and cached.commit == wanted:
            return cached
        snapshot = _Snapshot(wanted)
        if wanted is None:
            return snapshot
        try:
            root = self.repo.object_store[self._commit(wanted).tree]
        except (KeyError, HistoryError):
            raise HistoryError(f"parent {parent} is not a commit of the history") from None
        assert isinstance(root, Tree)
        for name, mode, sha in root.iteritems():
            if mode == _DIR_MODE:
                subtree = self.repo.object_store[sha]
                assert isinstance(subtree, Tree)
                folder = _Dir()
                for file_name, file_mode, file_sha in subtree.iteritems():
                    _put(folder, file_name, file_mode, bytes.fromhex(file_sha.decode()))
                folder.sha = bytes.fromhex(sha.decode())
                folder.changed = False
                snapshot.dirs[name] = folder
            else:
                _put(snapshot.root, name, mode, bytes.fromhex(sha.decode()))
        return snapshot

    def _write(self, objects: _Objects) -> None:
        """Add the new objects: loose when few, else as one pack."""
        store = self.repo.object_store
        self._wrote_loose = len(objects) < PACK_THRESHOLD
        if self._wrote_loose:
            for binsha, (type_num, raw, _) in objects.items():
                store.add_object(
                    ShaFile.from_raw_string(type_num, raw, sha=ObjectID(binsha.hex().encode()))
                )
            return
        listed = [(binsha, *value) for binsha, value in objects.items()]
        write_pack(Path(store.pack_dir), listed)


def _put(folder: _Dir, name: bytes, mode: int, binsha: bytes) -> None:
    """Record an entry read from a tree (and, for a file, the object id its name ends with)."""
    key = name + b"/" if mode == _DIR_MODE else name
    folder.entries[key] = b"%o %s\x00%s" % (mode, name, binsha)
    if mode != _DIR_MODE:
        object_id = _object_id(name)
        if object_id is not None:
            folder.by_id[object_id] = name


def _object_id(file_name: bytes) -> str | None:
    """``<slug>--<id>.json`` -> id (a slug never holds ``--``)."""
    _slug, sep, rest = file_name.partition(b"--")
    if not sep or not rest.endswith(b".json"):
        return None
    return rest[: -len(b".json")].decode("utf-8", "replace")


def _apply(snapshot: _Snapshot, change: Change, objects: _Objects) -> None:
    """Change the object's file in the snapshot: removed, renamed and/or rewritten."""
    dir_name = change.source_type.encode()
    folder = snapshot.dirs.get(dir_name)
    old = folder.by_id.get(change.object_id) if folder else None
    if change.content is None:
        if folder is not None and old is not None:
            del folder.entries[old], folder.by_id[change.object_id]
            folder.changed = True
            if not folder.entries:
                del snapshot.dirs[dir_name]
        return
    if folder is None:
        folder = snapshot.dirs[dir_name] = _Dir()
    # The object's previous content, the delta base of the new one when it is in this pack.
    previous = folder.entries[old][-20:] if old is not None else None
    binsha = _add(objects, _BLOB, change.content, previous)
    new = change.path.split("/", 1)[1].encode()
    if old is not None and old != new:
        del folder.entries[old]
    folder.entries[new] = b"100644 %s\x00%s" % (new, binsha)
    folder.by_id[change.object_id] = new
    folder.changed = True


def _store_tree(snapshot: _Snapshot, objects: _Objects) -> bytes:
    """The hex id of the snapshot's root tree, with any changed tree added to ``objects``
    (a directory's previous tree as its delta base)."""
    root = _Dir()
    root.entries = dict(snapshot.root.entries)
    for name, folder in snapshot.dirs.items():
        if folder.changed or folder.sha is None:
            folder.sha = _add(objects, _TREE, folder.raw(), folder.sha)
            folder.changed = False
        root.entries[name + b"/"] = b"40000 %s\x00%s" % (name, folder.sha)
    return _add(objects, _TREE, root.raw(), None).hex().encode("ascii")


def _add(objects: _Objects, type_num: int, raw: bytes, base: bytes | None) -> bytes:
    """Add an object (once) to those to write; its binary id."""
    binsha = sha1(b"%s %d\x00%s" % (_TYPE_NAMES[type_num], len(raw), raw)).digest()
    if binsha not in objects:
        objects[binsha] = (type_num, raw, base)
    return binsha


def _commit_object(change: Change, tree: bytes, parent: bytes | None) -> Commit:
    commit = Commit()
    commit.tree = tree
    commit.parents = [ObjectID(parent)] if parent else []
    commit.author = change.author.ident()
    commit.committer = COMMITTER.ident()
    commit.author_time = commit.commit_time = change.when
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = change.message.encode("utf-8")
    return commit
