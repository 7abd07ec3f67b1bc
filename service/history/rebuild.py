"""``archiver history rebuild``: the history built anew from the ledger and cold storage.

Every archive and deletion the ledger holds is replayed, in order, through the same
``Replay`` as the live lane into a new bare repository beside the target, so the commits
are the very ones the ledger recorded (checked, id by id) followed by those of the items
the worker has not committed yet (which the worker then records as they are, as it does
after a killed run). Then, with ``--to PATH``, the new repository is renamed into place;
without it, its objects are added to ``HISTORY_REPO`` and the branch moved there in one
step, under the lock every writer takes: a running worker never sees a half-built
history, and nothing of it is lost.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dulwich.objects import ObjectID
from dulwich.refs import Ref

from ..errors import HistoryError, UsageError
from ..ledger import history
from .replay import Replay
from .repo import HistoryRepo

if TYPE_CHECKING:
    from ..ledger import Ledger

ITEMS_PER_BUILD = 1000  # items replayed per build: one pack each, memory bounded


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild made: where, how many commits, and the branch's head."""

    path: Path
    branch: str
    commits: int
    head: str | None


@dataclass
class _Build:
    """A replay in progress: the new repository, its state and what it has made so far."""

    repo: HistoryRepo
    replay: Replay
    after: int = 0  # the last item replayed (seq)
    ids: list[str] = field(default_factory=list)

    @property
    def head(self) -> str | None:
        return self.ids[-1] if self.ids else None

    def catch_up(self, ledger: Ledger) -> None:
        """Replay every item the ledger holds after the last one replayed."""
        while items := history.items_after(ledger, self.after, limit=ITEMS_PER_BUILD):
            changes = [change for item in items for change in self.replay.changes(item)]
            if changes:
                self.ids += self.repo.build(changes, parent=self.head)
            self.after = items[-1].seq


def rebuild(
    ledger: Ledger, *, archive_dir: Path, repo: Path, branch: str, to: Path | None = None
) -> Rebuilt:
    """Build the history of every item anew: into ``to`` (which must not exist or be
    empty), else into ``repo`` (``HISTORY_REPO``) in place."""
    target = (to or repo).absolute()
    if to is not None and to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise UsageError(f"--to {target} exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.rebuild-", dir=target.parent))
    try:
        build = _Build(HistoryRepo.open(scratch / "repo.git", branch), Replay(archive_dir))
        try:
            build.catch_up(ledger)
            if to is None:
                _replace(ledger, build, target, branch)
            else:
                _check(ledger, build.ids)
                _set_branch(build.repo, build.head)
        finally:
            build.repo.close()
        if to is not None:
            os.rename(scratch / "repo.git", target)  # an empty folder is replaced
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Rebuilt(target, branch, len(build.ids), build.head)


def _replace(ledger: Ledger, build: _Build, target: Path, branch: str) -> None:
    """Under the live repository's lock: replay what was recorded meanwhile, check, add
    the new objects and move the branch to the rebuilt head."""
    live = HistoryRepo.open(target, branch)
    try:
        with live.lock():
            build.catch_up(ledger)
            _check(ledger, build.ids)
            _copy_objects(build.repo.path / "objects", live.path / "objects")
            _set_branch(live, build.head)
    finally:
        live.close()


def _check(ledger: Ledger, ids: list[str]) -> None:
    """The rebuilt commits must start with the ones the ledger recorded, in order."""
    recorded = [row.commit for row in history.all_commits(ledger)]
    if ids[: len(recorded)] == recorded:
        return
    for index, (made, wanted) in enumerate(zip(ids, recorded, strict=False)):
        if made != wanted:
            raise HistoryError(
                f"the rebuilt commit {index + 1} is {made}, the ledger recorded {wanted}:"
                " the archive documents or the ledger changed since they were committed"
            )
    raise HistoryError(
        f"the rebuild made {len(ids)} commit(s), the ledger recorded {len(recorded)}"
    )


def _set_branch(repo: HistoryRepo, head: str | None) -> None:
    """Point the branch at ``head`` (an empty history: no branch)."""
    if head is None:
        repo.repo.refs.remove_if_equals(Ref(repo.ref), None)
    else:
        repo.repo.refs[Ref(repo.ref)] = ObjectID(head.encode("ascii"))


def _copy_objects(source: Path, target: Path) -> None:
    """Add every object file of ``source`` that ``target`` lacks: loose objects, and each
    pack before its index (git finds a pack through its index)."""
    for path in sorted(_files(source), key=lambda p: p.suffix == ".idx"):
        relative = path.relative_to(source)
        if relative.parts[0] == "info" or (target / relative).exists():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial")
        shutil.copyfile(path, partial)
        os.replace(partial, destination)


def _files(folder: Path) -> Iterator[Path]:
    for root, _, names in os.walk(folder):
        for name in names:
            yield Path(root) / name
