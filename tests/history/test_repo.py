"""The history repository as git itself sees it: commits, trees, refs (contract section 10).

Every check reads the bare repository with the real ``git`` command, so that what is
written is what any git host will show.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.errors import ConfigError, HistoryError, HistoryMoved
from service.history.commits import COMMITTER, Change, deletion_change, version_changes
from service.history.layout import normalise
from service.history.repo import PACK_THRESHOLD, HistoryRepo
from tests.helpers import git

FLOW_ID = "cb5a24eb-6297-4618-b2ab-a07537bb1476"
OTHER_ID = "d6b0c5a1-5e43-4f0a-9c1b-7a2e3f4d5c6b"
KEY = "0f1e2d3c-4b5a-4968-8776-655443322110"
ADA = {"id": "5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71", "name": "Ada Lovelace"}
GRACE = {"id": "6c2a4f5b-1d58-4b9f-8b2d-3a4e5f6a7b82", "name": "Grace Hopper"}
# Three versions of one flow, renamed in the third.
RENAMED_ON_THIRD = [
    ("1.0", "Main", "2026-11-27T07:00:00Z", ADA),
    ("2.0", "Main", "2026-11-27T08:00:00Z", GRACE),
    ("3.0", "Renamed", "2026-11-27T09:00:00Z", ADA),
]


def archive(
    object_id: str, versions: list[tuple[str, str, str, dict[str, str]]], *, key: str = KEY
) -> dict[str, object]:
    """A flow archive: (version id, name, createdDate, createdBy) oldest first."""
    rows, docs = [], []
    for version_id, name, created, by in reversed(versions):
        number = int(version_id.split(".")[0])
        rows.append({"versionId": version_id, "versionNumber": number, "createdDate": created})
        # A few tasks, as real flows have: enough shared content for git's rename detection.
        tasks = [{"task": {"name": f"Task {n}", "refId": f"t{n}"}} for n in range(12)]
        config = {"name": name, "version": version_id, "menus": [{"digit": number}], "tasks": tasks}
        docs.append({"id": version_id, "createdBy": by, "configuration": config})
    return {
        "strategyId": object_id,
        "strategyName": "Main inbound",
        "sourceType": "flow",
        "idempotencyKey": key,
        "versionMatrix": rows,
        "versions": docs,
    }


@pytest.fixture
def opened() -> Iterator[list[HistoryRepo]]:
    """Every repository a test opens, closed at its end (pack files stay open until then)."""
    repos: list[HistoryRepo] = []
    yield repos
    for repo in repos:
        repo.close()


def open_repo(opened: list[HistoryRepo], path: Path) -> HistoryRepo:
    repo = HistoryRepo.open(path)
    opened.append(repo)
    return repo


def test_each_version_is_a_commit_with_author_dates_message_and_trailers(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    assert repo.head() is None
    changes = version_changes(
        archive(
            FLOW_ID,
            [
                ("1.0", "Main inbound", "2026-11-27T07:44:26.999Z", ADA),
                ("2.0", "Main inbound", "2026-11-28T08:00:00.001Z", GRACE),
            ],
        )
    )
    ids = repo.commit(changes, parent=None)
    assert repo.head() == ids[-1]
    assert git(path, "rev-parse", "main").strip() == ids[-1]
    log = git(path, "log", "--reverse", "--date=raw", "--format=%H|%an|%ae|%ad|%cn|%ce|%cd|%s")
    assert log.splitlines() == [
        f"{ids[0]}|Ada Lovelace|{ADA['id']}@users.genesys-cloud.invalid|1795765466 +0000|"
        "genesys-strategy-archiver|archiver@genesys-cloud.invalid|1795765466 +0000|"
        "Main inbound: version 1.0",
        f"{ids[1]}|Grace Hopper|{GRACE['id']}@users.genesys-cloud.invalid|1795852800 +0000|"
        "genesys-strategy-archiver|archiver@genesys-cloud.invalid|1795852800 +0000|"
        "Main inbound: version 2.0",
    ]
    trailers = git(path, "log", "-1", "--format=%(trailers:only,unfold)", ids[1])
    assert trailers.strip().splitlines() == [
        "Genesys-Source: flow",
        f"Genesys-Id: {FLOW_ID}",
        "Genesys-Version: 2.0",
        f"Archive-Key: {KEY}",
    ]
    git(path, "fsck", "--strict", "--no-dangling")


def test_the_file_holds_the_normalised_document_at_its_tree_path(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    document = archive(FLOW_ID, [("1.0", "Main Inbound (EN)", "2026-11-27T07:44:26Z", ADA)])
    ids = repo.commit(version_changes(document), parent=None)
    listed = git(path, "ls-tree", "-r", "--name-only", ids[0]).split()
    assert listed == [f"flow/main-inbound-en--{FLOW_ID}.json"]
    shown = subprocess.run(
        ["git", "-C", str(path), "show", f"{ids[0]}:{listed[0]}"], capture_output=True, check=True
    ).stdout
    configuration = document["versions"][0]["configuration"]  # type: ignore[index]
    assert shown == normalise(configuration)


def test_a_rename_moves_the_file_and_git_follows_it(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    changes = version_changes(
        archive(
            FLOW_ID,
            [
                ("1.0", "Main inbound", "2026-11-27T07:00:00Z", ADA),
                ("2.0", "Main inbound", "2026-11-27T08:00:00Z", ADA),
                ("3.0", "Front door", "2026-11-27T09:00:00Z", ADA),
            ],
        )
    )
    ids = repo.commit(changes, parent=None)
    assert git(path, "ls-tree", "-r", "--name-only", ids[2]).split() == [
        f"flow/front-door--{FLOW_ID}.json"
    ]
    followed = git(path, "log", "--follow", "--format=%H", "--", f"flow/front-door--{FLOW_ID}.json")
    assert followed.split() == list(reversed(ids))
    renames = git(path, "show", "--format=", "--name-status", "-M", ids[2])
    assert renames.split()[1:] == [
        f"flow/main-inbound--{FLOW_ID}.json",
        f"flow/front-door--{FLOW_ID}.json",
    ]


def test_an_unchanged_version_is_a_commit_that_changes_no_file(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    first = version_changes(archive(FLOW_ID, [("1.0", "Main", "2026-11-27T07:00:00Z", ADA)]))
    again = version_changes(archive(FLOW_ID, [("1.0", "Main", "2026-11-27T07:05:00Z", GRACE)]))
    ids = repo.commit([first[0], again[0]], parent=None)
    assert ids[0] != ids[1]
    trees = [git(path, "rev-parse", f"{commit}^{{tree}}") for commit in ids]
    assert trees[0] == trees[1]
    assert git(path, "diff-tree", "--no-commit-id", "--name-only", "-r", ids[1]) == ""
    assert git(path, "rev-list", "--count", "main").strip() == "2"


def test_a_deletion_removes_the_objects_file_only(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    kept = version_changes(archive(OTHER_ID, [("1.0", "Kept", "2026-11-27T06:00:00Z", ADA)]))
    gone = version_changes(archive(FLOW_ID, [("1.0", "Gone", "2026-11-27T07:00:00Z", ADA)]))
    head = repo.commit(kept + gone, parent=None)[-1]
    deletion = deletion_change(
        "flow", FLOW_ID, "Gone", "2026-12-01T10:30:15.500Z", "Grace Hopper", GRACE["id"]
    )
    [deleted] = repo.commit([deletion], parent=head)
    assert git(path, "ls-tree", "-r", "--name-only", deleted).split() == [
        f"flow/kept--{OTHER_ID}.json"
    ]
    assert git(path, "show", "--format=%an|%ad|%B", "--date=raw", "--name-status", deleted) == (
        "Grace Hopper|1796121015 +0000|Gone: deleted\n\n"
        f"Genesys-Source: flow\nGenesys-Id: {FLOW_ID}\n\n\n"
        f"D\tflow/gone--{FLOW_ID}.json\n"
    )
    last = deletion_change("flow", OTHER_ID, "Kept", "2026-12-02T00:00:00Z", None, None)
    [empty] = repo.commit([last], parent=deleted)
    assert git(path, "ls-tree", "-r", empty) == ""
    git(path, "fsck", "--strict", "--no-dangling")


def test_the_branch_moves_only_from_the_parent_the_writer_saw(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    first = version_changes(archive(FLOW_ID, [("1.0", "Main", "2026-11-27T07:00:00Z", ADA)]))
    second = version_changes(archive(FLOW_ID, [("2.0", "Main", "2026-11-27T08:00:00Z", ADA)]))
    [one] = repo.commit(first, parent=None)
    with pytest.raises(HistoryMoved, match="another writer moved it"):
        repo.commit(second, parent=None)  # the branch is no longer empty
    [two] = repo.commit(second, parent=one)
    with pytest.raises(HistoryMoved):
        repo.commit(second, parent=one)  # the branch is at `two` now
    assert git(path, "rev-parse", "main").strip() == two == repo.head()
    assert HistoryMoved.retryable


def test_commit_ids_are_a_function_of_parent_and_changes(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    changes = version_changes(archive(FLOW_ID, RENAMED_ON_THIRD))
    one = open_repo(opened, tmp_path / "one.git")
    together = one.commit(changes, parent=None)
    two = open_repo(opened, tmp_path / "two.git")
    head = None
    apart = []
    for change in changes:
        [head] = two.commit([change], parent=head)
        apart.append(head)
    assert together == apart
    # A fresh handle reads the parent's tree from disk and continues identically.
    three = open_repo(opened, tmp_path / "three.git")
    three.commit(changes[:1], parent=None)
    reopened = open_repo(opened, tmp_path / "three.git")
    assert reopened.commit(changes[1:], parent=together[0]) == together[1:]


def test_a_large_batch_is_one_pack_git_can_read_and_clone(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "deep" / "history.git"
    repo = open_repo(opened, path)
    changes = []
    for n in range(PACK_THRESHOLD):
        object_id = f"{n:08x}-0000-4000-8000-000000000000"
        doc = archive(object_id, [("1.0", f"Flow {n % 7}", "2026-11-27T07:00:00Z", ADA)])
        changes += version_changes(doc)
    ids = repo.commit(changes, parent=None)
    assert len(ids) == PACK_THRESHOLD
    assert list((path / "objects" / "pack").glob("*.pack"))
    git(path, "fsck", "--strict", "--no-dangling")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(path), str(clone)], check=True)
    files = sorted(p.name for p in (clone / "flow").iterdir())
    assert len(files) == PACK_THRESHOLD
    assert json.loads((clone / "flow" / files[0]).read_text())["version"] == "1.0"


def test_walk_back_lists_commits_after_stop_with_their_trailers(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    repo = open_repo(opened, tmp_path / "history.git")
    changes = version_changes(
        archive(
            FLOW_ID,
            [(f"{n}.0", "Main", f"2026-11-27T0{n}:00:00Z", ADA) for n in range(1, 4)],
        )
    )
    ids = repo.commit(changes, parent=None)
    walked = repo.walk_back(ids[-1], ids[0])
    assert [commit for commit, _ in walked] == ids[1:]
    assert [trailers["Genesys-Version"] for _, trailers in walked] == ["2.0", "3.0"]
    assert walked[0][1]["Archive-Key"] == KEY
    assert [commit for commit, _ in repo.walk_back(ids[-1], None)] == ids
    assert repo.walk_back(ids[-1], ids[-1]) == []
    with pytest.raises(HistoryError, match="not an ancestor"):
        repo.walk_back(ids[0], ids[-1])
    with pytest.raises(HistoryError, match="is not a commit of the history repository"):
        repo.walk_back("f" * 40, None)


def test_opening_checks_the_path_and_the_branch(tmp_path: Path, opened: list[HistoryRepo]) -> None:
    with pytest.raises(HistoryError, match="HISTORY_REPO"):
        HistoryRepo.open(tmp_path / "missing.git", create=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(HistoryError, match="not empty"):
        HistoryRepo.open(tmp_path / "full")
    with pytest.raises(ConfigError, match="HISTORY_BRANCH"):
        HistoryRepo.open(tmp_path / "bad.git", "bad..name")
    changes = version_changes(archive(FLOW_ID, [("1.0", "M", "2026-11-27T07:00:00Z", ADA)]))
    with HistoryRepo.open(tmp_path / "trunk.git", "trunk") as repo:
        repo.commit(changes, parent=None)
    assert git(tmp_path / "trunk.git", "symbolic-ref", "HEAD").strip() == "refs/heads/trunk"
    assert not (tmp_path / "bad.git").exists()


def test_a_parent_that_is_not_in_the_history_is_refused(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    repo = open_repo(opened, tmp_path / "history.git")
    change: Change = version_changes(archive(FLOW_ID, [("1.0", "M", "2026-11-27T07:00:00Z", ADA)]))[
        0
    ]
    with pytest.raises(HistoryError, match="not a commit of the history"):
        repo.commit([change], parent="0" * 40)
    with pytest.raises(HistoryError, match="not a commit of the history"):
        repo.commit([change], parent="not-hex")


def test_git_fast_import_of_the_same_commits_gives_the_same_ids(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    changes = version_changes(archive(FLOW_ID, RENAMED_ON_THIRD))
    changes.append(deletion_change("flow", FLOW_ID, "Renamed", "2026-12-01T00:00:00Z", None, None))
    ours = open_repo(opened, tmp_path / "ours.git").commit(changes, parent=None)
    stream, paths = bytearray(), {}
    for change in changes:
        message = change.message.encode()
        stream += b"commit refs/heads/main\nauthor %s %d +0000\n" % (
            change.author.ident(),
            change.when,
        )
        stream += b"committer %s %d +0000\n" % (COMMITTER.ident(), change.when)
        stream += b"data %d\n%s" % (len(message), message)
        if change.object_id in paths:
            stream += b"D %s\n" % paths.pop(change.object_id).encode()
        if change.content is not None:
            stream += b"M 100644 inline %s\n" % change.path.encode()
            stream += b"data %d\n%s\n" % (len(change.content), change.content)
            paths[change.object_id] = change.path
    theirs = tmp_path / "theirs.git"
    subprocess.run(["git", "init", "-q", "--bare", str(theirs)], check=True)
    subprocess.run(["git", "-C", str(theirs), "fast-import", "--quiet"], input=stream, check=True)
    assert git(theirs, "rev-list", "--reverse", "main").split() == ours


def test_build_writes_the_commits_without_moving_the_branch(
    tmp_path: Path, opened: list[HistoryRepo]
) -> None:
    path = tmp_path / "history.git"
    repo = open_repo(opened, path)
    changes = version_changes(archive(FLOW_ID, [("1.0", "Main", "2026-11-27T07:00:00Z", ADA)]))
    [built] = repo.build(changes, parent=None)
    assert repo.head() is None
    assert git(path, "cat-file", "-t", built).strip() == "commit"
    assert repo.commit(changes, parent=None) == [built]  # the same commit, now on the branch
    assert repo.head() == built
