"""Loose objects of the live history packed with deltas, as git gc would: same commits,
git reads every object, a fraction of the space."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from service.history.commits import Change, Person
from service.history.layout import normalise
from service.history.repo import HistoryRepo
from tests.helpers import git

ADA = Person("Ada Lovelace", "ada@users.genesys-cloud.invalid")


def changes(objects: int, versions: int) -> list[Change]:
    """Versions of ``objects`` flows of a few KB, each version changing one value."""
    made = []
    for version in range(versions):
        for n in range(objects):
            document = {"name": f"Flow {n}", "version": version, "tasks": list(range(400))}
            made.append(
                Change(
                    source_type="flow",
                    object_id=f"{n:08x}-0000-4000-8000-000000000000",
                    name=f"Flow {n}" if version < versions - 1 else f"Flow {n} renamed",
                    content=normalise(document),
                    author=ADA,
                    when=1_790_000_000 + 60 * (version * objects + n),
                    message=f"Flow {n}: version {version}\n",
                    version_id=str(version),
                    archive_key=None,
                )
            )
    return made


def count_objects(repo: Path) -> dict[str, int]:
    lines = git(repo, "count-objects", "-v").splitlines()
    return {key: int(value) for key, value in (line.split(": ") for line in lines)}


def test_commits_one_at_a_time_are_packed_with_deltas(tmp_path: Path) -> None:
    made = changes(objects=30, versions=5)
    with HistoryRepo.open(tmp_path / "bulk.git") as bulk:
        expected = bulk.commit(made, parent=None)
    path = tmp_path / "live.git"
    with HistoryRepo.open(path) as repo:
        head = None
        for change in made[:-1]:
            [head] = repo.commit([change], parent=head)
        before = count_objects(path)
        assert before["count"] > 3 * len(made) and before["packs"] == 0
        assert repo.compact() == before["count"]
        after = count_objects(path)
        assert after["count"] == 0 and after["packs"] == 1
        assert after["size-pack"] * 3 < before["size"]  # KiB: deltas, not whole trees
        [last] = repo.commit(made[-1:], parent=head)  # the handle carries on
        assert repo.compact() == 4  # only what came after the pack: blob, 2 trees, commit
    assert git(path, "rev-list", "--reverse", "main").split() == expected
    git(path, "fsck", "--strict", "--no-dangling")
    assert last == expected[-1]


def test_commit_packs_the_loose_objects_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "live.git"
    with HistoryRepo.open(path) as repo:
        repo.compact_after = 40
        head = None
        for change in changes(objects=4, versions=3):
            [head] = repo.commit([change], parent=head)
    counted = count_objects(path)
    assert counted["packs"] == 1
    assert counted["count"] < 40
    git(path, "fsck", "--strict", "--no-dangling")


def test_nothing_to_pack(tmp_path: Path) -> None:
    with HistoryRepo.open(tmp_path / "empty.git") as repo:
        assert repo.compact() == 0
        repo.commit(changes(objects=20, versions=4), parent=None)  # one pack already
        assert repo.compact() == 0


def test_unreferenced_loose_objects_never_make_small_packs(tmp_path: Path) -> None:
    path = tmp_path / "live.git"
    made = changes(objects=10, versions=5)
    with HistoryRepo.open(path) as repo:
        repo.compact_after = 40
        unreferenced = [  # objects of no commit on the branch
            replace(change, content=change.content + b" ", message="lost\n")
            for change in changes(objects=10, versions=1)
            if change.content is not None
        ]
        repo.build(unreferenced, parent=None)
        assert count_objects(path)["count"] == 10 * 4
        head = None
        for change in made:
            [head] = repo.commit([change], parent=head)
    counted = count_objects(path)
    assert counted["packs"] >= 1
    assert counted["in-pack"] >= counted["packs"] * repo.compact_after // 2
    assert counted["count"] >= 10 * 4  # the unreferenced objects are left alone
    git(path, "fsck", "--strict")
