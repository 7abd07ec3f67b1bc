"""The history lane: the simulator's versions archived, committed once each in the
ledger's order, checked with the real ``git``; recovery, refusals and the worker's step."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from service.app import create_app
from service.archive import open_archiver
from service.config import Settings, load_settings
from service.errors import ConfigError
from service.history.commits import version_changes
from service.history.lane import HistoryConfig, HistoryStep, run_history
from service.history.layout import normalise
from service.history.replay import Replay
from service.history.repo import HistoryRepo
from service.ledger import Ledger, deletions, history, jobs
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from service.worker import Worker
from tests.helpers import (
    WORKER_TUNING,
    branch_ids,
    git,
    history_env,
    make_settings,
    running_worker,
    wait_for,
    web_config,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
GRACE = "0f5e9a43-6c1d-4b8e-9a7f-2d3c4b5a6e7f"  # the deleting user's id


def settings_for(simulator: SimulatorServer, tmp_path: Path, **extra: str) -> Settings:
    return make_settings(simulator, tmp_path, **history_env(tmp_path), **extra)


def config_of(settings: Settings) -> HistoryConfig:
    config = HistoryConfig.from_settings(settings, [])
    assert config is not None
    return config


def archive(settings: Settings, ledger: Ledger, object_id: str, source: str, **kw: bool):
    with open_archiver(settings, ledger) as archiver:
        return archiver.run(object_id, source, **kw)


def document(settings: Settings, location: str) -> dict:
    return json.loads((settings.archive_dir / location).read_bytes())


def test_every_version_is_committed_once_in_the_ledgers_order(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path)
    repo = settings.history_repo
    assert repo is not None
    with Ledger(settings.archiver_db) as ledger:
        first = archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy").archive
        flow = archive(settings, ledger, DEMO_FLOW_ID, "flow").archive
        simulator.state.rename(DEMO_STRATEGY_ID, "Routing by priority")
        simulator.state.add_versions(DEMO_STRATEGY_ID, 2)
        later = archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy").archive
        assert first and flow and later
        made = run_history(ledger, config_of(settings))
        changes = [
            change
            for record in (first, flow, later)
            for change in version_changes(document(settings, record.location))
        ]
        assert made == len(changes) == len(first.version_ids + flow.version_ids) + 2
        # The ledger and the branch agree, commit for commit.
        ids = branch_ids(repo)
        assert ids == [row.commit for row in history.all_commits(ledger)]
        assert history.pending_items(ledger) == []
        # Archiving everything again (--full) and running again commits nothing more.
        archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy", full=True)
        assert run_history(ledger, config_of(settings)) == 0
        assert branch_ids(repo) == ids

    git(repo, "fsck", "--strict")
    log = git(
        repo, "log", "--reverse", "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%B%x1e"
    )
    entries = [entry.strip("\n").split("\x1f") for entry in log.split("\x1e") if entry.strip()]
    for (commit, an, ae, at, cn, ce, ct, body), change in zip(entries, changes, strict=True):
        assert (an, ae, int(at)) == (change.author.name, change.author.email, change.when)
        assert (cn, ce, ct) == ("genesys-strategy-archiver", "archiver@genesys-cloud.invalid", at)
        assert body.strip() + "\n" == change.message
        assert git(repo, "show", f"{commit}:{change.path}").encode() == change.content
        trailers = git(repo, "log", "-1", "--format=%(trailers:only)", commit)
        assert f"Genesys-Version: {change.version_id}" in trailers
        assert f"Archive-Key: {change.archive_key}" in trailers
    # The rename moved the file, in the commit of the first version under the new name.
    renamed = [c for c in changes if c.name == "Routing by priority"]
    assert renamed and renamed[0].path != changes[0].path
    moved_in = ids[len(changes) - 2]  # the first of the two versions made after the rename
    status = git(repo, "show", "--name-status", "--no-renames", "--format=", moved_in).split()
    assert status == ["D", changes[0].path, "A", renamed[0].path]
    tree = git(repo, "ls-tree", "-r", "--name-only", "main").split()
    assert sorted(tree) == sorted({renamed[-1].path, changes[len(first.version_ids)].path})


def test_the_completion_event_carries_each_versions_commit(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    hook = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    settings = settings_for(
        simulator, tmp_path, VCS_WEBHOOK_URLS="http://127.0.0.1:9/hook", VCS_WEBHOOK_SECRET=hook
    )
    with Ledger(settings.archiver_db) as ledger:
        record = archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy").archive
        assert record is not None

        def completed() -> list[dict]:
            rows = ledger.db.execute(
                "SELECT body FROM outbox_events WHERE type = 'strategy.archive.completed'"
            )
            return [json.loads(body)["data"] for (body,) in rows]

        assert completed() == []  # not before its commits exist
        config = HistoryConfig.from_settings(settings, [_Hook(), _Mirror()])
        assert config is not None
        run_history(ledger, config)
        (event,) = completed()
        deliveries = ledger.db.execute(
            "SELECT e.type, e.body, d.target FROM deliveries d"
            " JOIN outbox_events e ON e.id = d.event_id ORDER BY d.rowid"
        ).fetchall()
        assert [(kind, target) for kind, _, target in deliveries] == [
            ("strategy.archive.completed", "hook"),
            ("history.push", "mirror"),  # the branch, once per batch, to git targets only
        ]
        assert settings.history_repo is not None
        head = branch_ids(settings.history_repo)[-1]
        assert json.loads(deliveries[1][1])["data"] == {"branch": "main", "head": head}
        commits = {row.version_id: row.commit for row in history.all_commits(ledger)}
        assert event["archiveId"] == record.id
        assert event["commits"] == [
            {"versionId": v, "commit": commits[v]} for v in record.version_ids
        ]
        assert all(len(c["commit"]) == 40 for c in event["commits"])


class _Hook:
    """A target as the lane sees one: a name and a kind."""

    name = "hook"
    kind = "webhook"


class _Mirror:
    name = "mirror"
    kind = "git"


def test_a_deleted_object_s_file_is_removed_in_a_commit_of_its_own(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path)
    repo = settings.history_repo
    assert repo is not None
    with Ledger(settings.archiver_db) as ledger:
        archive(settings, ledger, DEMO_FLOW_ID, "flow")
        deletions.mark_deleted(
            ledger,
            DEMO_FLOW_ID,
            "flow",
            at="2026-12-01T10:00:00.250Z",
            by="Grace Hopper",
            by_id=GRACE,
            reason="audit action Delete",
        )
        run_history(ledger, config_of(settings))
        name = history.all_commits(ledger)[0].name
    assert git(repo, "ls-tree", "-r", "--name-only", "main") == ""
    shown = git(repo, "show", "--name-status", "--format=%an <%ae>%n%at%n%s%n%b", "main")
    assert shown.startswith(
        f"Grace Hopper <{GRACE}@users.genesys-cloud.invalid>\n1796119200\n"
        f"{name}: deleted\nGenesys-Source: flow\nGenesys-Id: {DEMO_FLOW_ID}\n"
    )
    assert shown.rstrip().endswith(".json") and "\nD\tflow/" in shown
    git(repo, "fsck", "--strict")


def test_commits_a_stopped_run_left_on_the_branch_are_recorded_not_made_again(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path)
    config = config_of(settings)
    with Ledger(settings.archiver_db) as ledger:
        archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy")
        archive(settings, ledger, DEMO_FLOW_ID, "flow")
        # What a run killed after moving the branch leaves: commits the ledger lacks.
        first = history.pending_items(ledger)[0]
        moved = HistoryRepo.open(config.repo, "main")
        ahead = moved.commit(Replay(config.archive_dir).changes(first), parent=None)
        moved.close()
        assert history.last_commit(ledger) is None
        made = run_history(ledger, config)
        ids = branch_ids(config.repo)
        assert ids[: len(ahead)] == ahead
        assert made == len(ids)
        assert [row.commit for row in history.all_commits(ledger)] == ids


def test_a_branch_the_ledger_cannot_account_for_stops_the_lane_and_loses_nothing(
    simulator: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(simulator, tmp_path)
    config = config_of(settings)
    with Ledger(settings.archiver_db) as ledger:
        archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy")
        HistoryRepo.open(config.repo, "main").close()
        tree = _empty_tree(config)
        foreign = subprocess.run(
            ["git", "--git-dir", str(config.repo), "commit-tree", tree, "-m", "by hand"],
            capture_output=True,
            text=True,
            check=True,
            env={
                "GIT_AUTHOR_NAME": "a",
                "GIT_AUTHOR_EMAIL": "a@b",
                "GIT_COMMITTER_NAME": "a",
                "GIT_COMMITTER_EMAIL": "a@b",
                "PATH": "/usr/bin:/bin",
            },
        ).stdout.strip()
        git(config.repo, "update-ref", "refs/heads/main", foreign)
        step = HistoryStep(config)
        with caplog.at_level(logging.ERROR, logger="service.history"):
            assert step.run(ledger) == 0
        assert "does not follow the ledger" in caplog.text
        assert "archiver history rebuild" in caplog.text
        assert len(history.pending_items(ledger)) == 1  # waiting, not lost
        assert branch_ids(config.repo) == [foreign]  # never overwritten


def _empty_tree(config: HistoryConfig) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(config.repo), "hash-object", "-t", "tree", "-w", "--stdin"],
        input="",
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_an_unusable_repository_is_retried_until_it_works(
    simulator: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(simulator, tmp_path)
    config = config_of(settings)
    config.repo.mkdir()
    (config.repo / "notes.txt").write_text("not a repository")
    with Ledger(settings.archiver_db) as ledger:
        archive(settings, ledger, DEMO_STRATEGY_ID, "routing-strategy")
        step = HistoryStep(config)
        with caplog.at_level(logging.ERROR, logger="service.history"):
            assert step.run(ledger) == 0
        assert "is not empty and is not a git repository" in caplog.text
        assert "its items wait; tried again in 1 s" in caplog.text
        waiting = history.pending_items(ledger)
        assert len(waiting) == 1
        (config.repo / "notes.txt").unlink()
        step(ledger)  # the worker's call pauses a second after a failure
        assert history.pending_items(ledger) == waiting
        assert step.run(ledger) > 0
        assert history.pending_items(ledger) == []


def test_the_worker_commits_after_each_archive_job(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path, **WORKER_TUNING)
    with Ledger(settings.archiver_db) as ledger:
        jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
        with running_worker(Worker(settings)):
            wait_for(lambda: history.all_commits(ledger), what="the history's commits")
            simulator.state.add_versions(DEMO_STRATEGY_ID, 1)
            jobs.enqueue(ledger, DEMO_STRATEGY_ID, "routing-strategy", reason="event")
            wait_for(
                lambda: (
                    history.pending_items(ledger) == []
                    and len(history.all_commits(ledger)) == len(archived(ledger))
                ),
                what="the new version committed",
            )
        assert settings.history_repo is not None
        assert branch_ids(settings.history_repo) == [r.commit for r in history.all_commits(ledger)]


def archived(ledger: Ledger) -> set[str]:
    return {r[0] for r in ledger.db.execute("SELECT version_id FROM archived_versions")}


def test_normalised_content_is_the_archived_configuration(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path)
    config = config_of(settings)
    with Ledger(settings.archiver_db) as ledger:
        record = archive(settings, ledger, DEMO_FLOW_ID, "flow").archive
        assert record is not None
        run_history(ledger, config)
    newest = document(settings, record.location)["versions"][0]
    path = history_path(config.repo)
    assert git(config.repo, "show", f"main:{path}").encode() == normalise(newest["configuration"])


def history_path(repo: Path) -> str:
    (path,) = git(repo, "ls-tree", "-r", "--name-only", "main").split()
    return path


def test_the_history_is_on_by_default_off_when_set_empty_and_its_branch_checked() -> None:
    assert load_settings({}).history_repo == Path("var/history.git")
    assert load_settings({}).history_branch == "main"
    off = load_settings({"HISTORY_REPO": ""})
    assert off.history_repo is None and HistoryConfig.from_settings(off, []) is None
    assert load_settings({"HISTORY_BRANCH": "archive/live"}).history_branch == "archive/live"
    for bad in ("-x", "a..b", "main.lock", "a b", "main/"):
        with pytest.raises(ConfigError, match="HISTORY_BRANCH is invalid: must be a git branch"):
            load_settings({"HISTORY_BRANCH": bad})


def test_both_processes_create_the_repository_at_start(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    create_app(web_config(tmp_path / "web", **history_env(tmp_path / "web")))
    git(tmp_path / "web" / "history.git", "rev-parse", "--is-bare-repository")
    settings = settings_for(simulator, tmp_path / "worker", **WORKER_TUNING)
    with running_worker(Worker(settings)):
        assert settings.history_repo is not None
        assert git(settings.history_repo, "symbolic-ref", "HEAD") == "refs/heads/main\n"
