"""``history.push`` deliveries to ``git`` targets through a real delivery lane and ledger:
to the Basic-auth git server, refused by a diverged remote, listed and sent again by the
``archiver`` command line as any other delivery."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.backoff import Backoff
from service.ledger import Delivery, DeliveryState, Ledger, jobs, outbox
from service.outbound.deliver import AttemptOutcome, Deliverer
from service.outbound.gittarget import PUSH_EVENT, GitTarget
from service.outbound.loop import DeliveryLane
from service.outbound.settings import parse_targets
from service.simulator import DEMO_FLOW_ID, SimulatorServer
from service.worker import Worker
from tests.gitserver import TOKEN, GitServer, bare, commit, fake_ssh, git, run_git
from tests.helpers import (
    WORKER_TUNING,
    archiver,
    history_env,
    make_settings,
    running_worker,
    wait_for,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")

TWICE = Backoff((0.01,), jitter=0)  # one retry, then dead


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    (tmp_path / "remotes").mkdir()
    with GitServer(tmp_path / "remotes") as running:
        running.init("remote.git")
        yield running


def git_target(history: Path, url: str, token: str | None = TOKEN) -> GitTarget:
    """The target as ``VCS_TARGETS`` names it."""
    item = {"type": "git", "name": "githost", "url": url} | ({"token": token} if token else {})
    (target,) = parse_targets(json.dumps([item]), [], None, history=history)
    assert isinstance(target, GitTarget)
    return target


def push_event(ledger: Ledger, history: Path, target: GitTarget) -> str:
    """The delivery the history lane writes after a batch of commits; its id."""
    head = git("rev-parse", "refs/heads/main", cwd=history).strip()
    event_id = outbox.add_event(
        ledger, PUSH_EVENT, None, {"branch": "main", "head": head}, [target.name]
    )
    assert event_id is not None
    (delivery,) = [d for d in outbox.list_deliveries(ledger, limit=None) if d.event_id == event_id]
    return delivery.id


def lane(ledger: Ledger, target: GitTarget, schedule: Backoff = TWICE) -> DeliveryLane:
    return DeliveryLane(
        "lane-0",
        ledger,
        Deliverer([target]),
        schedule,
        [target.name],
        lease_seconds=30,
        poll_seconds=0.02,
        stopping=threading.Event(),
        kinds={target.name: target.kind},
    )


def attempt(ledger: Ledger, running: DeliveryLane, delivery_id: str) -> Delivery:
    """The lane's next attempt (waiting until the delivery is due), as recorded."""
    wait_for(running.step, timeout=10, what="a due delivery")
    found = outbox.get_delivery(ledger, delivery_id)
    assert found is not None
    return found


def ledger_cli(tmp_path: Path, ledger: Ledger, *args: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ARCHIVER_DB": str(ledger.path)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = archiver(*args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_push_delivery_reaches_the_basic_auth_server(
    tmp_path: Path, history: Path, server: GitServer
) -> None:
    target = git_target(history, server.repo_url("remote.git"))
    with Ledger(tmp_path / "ledger.db") as ledger:
        delivery_id = push_event(ledger, history, target)

        done = attempt(ledger, lane(ledger, target), delivery_id)

    assert (done.state, done.attempts, done.last_error) == (DeliveryState.DELIVERED, 1, None)
    clone = tmp_path / "clone"
    url = server.repo_url("remote.git").replace("://", f"://x-access-token:{TOKEN}@")
    git("clone", "--quiet", "--branch", "main", url, str(clone))
    assert git("log", "--format=%H", cwd=clone) == git("log", "--format=%H", "main", cwd=history)


def test_a_diverged_remote_is_a_failed_delivery_then_dead_then_sent_again(
    tmp_path: Path, history: Path, server: GitServer
) -> None:
    remote = server.root / "remote.git"
    theirs = commit(remote, "pushed by someone else\n", date="2025-06-02T00:00:00Z")
    target = git_target(history, server.repo_url("remote.git"))
    with Ledger(tmp_path / "ledger.db") as ledger:
        delivery_id = push_event(ledger, history, target)
        running = lane(ledger, target)

        first = attempt(ledger, running, delivery_id)
        assert (first.state, first.attempts) == (DeliveryState.PENDING, 1)
        assert first.last_error is not None and "diverged" in first.last_error
        second = attempt(ledger, running, delivery_id)
        assert (second.state, second.attempts) == (DeliveryState.DEAD, 2)

        (listed,) = json.loads(
            ledger_cli(tmp_path, ledger, "ledger", "deliveries", "--status", "dead", "--json")
        )
        assert (listed["deliveryId"], listed["eventType"]) == (delivery_id, PUSH_EVENT)
        assert (listed["target"], listed["state"]) == ("githost", "dead")
        assert "diverged" in listed["lastError"] and theirs in listed["lastError"]
        assert "diverged" in ledger_cli(tmp_path, ledger, "ledger", "deliveries")
        assert git("rev-parse", "refs/heads/main", cwd=remote).strip() == theirs

        # The operator settles the remote (here: its branch removed), then sends it again.
        git("update-ref", "-d", "refs/heads/main", cwd=remote)
        ledger_cli(tmp_path, ledger, "outbox", "redeliver", "--id", delivery_id)
        again = attempt(ledger, running, delivery_id)
        assert again.state is DeliveryState.DELIVERED

    ours = git("rev-parse", "refs/heads/main", cwd=history).strip()
    assert git("rev-parse", "refs/heads/main", cwd=remote).strip() == ours


def test_a_refused_token_is_retried_and_never_stored(
    tmp_path: Path, history: Path, server: GitServer
) -> None:
    wrong = "wrong-token-0123456789abcdef"
    target = git_target(history, server.repo_url("remote.git"), token=wrong)
    # No secrets given to the ledger: the message itself must not hold the token.
    with Ledger(tmp_path / "ledger.db") as ledger:
        delivery_id = push_event(ledger, history, target)
        failed = attempt(ledger, lane(ledger, target), delivery_id)
    assert failed.state is DeliveryState.PENDING
    assert failed.last_error is not None and "authentication failed (401)" in failed.last_error
    assert wrong not in failed.last_error


def test_a_git_target_takes_only_pushes(tmp_path: Path, history: Path) -> None:
    target = git_target(history, str(bare(tmp_path / "remote.git")))
    deliverer = Deliverer([target])
    try:
        refused = deliverer.attempt(target.name, "e1", "strategy.archive.completed", b"{}")
        pushed = deliverer.attempt(target.name, "e2", PUSH_EVENT, b"{}")
    finally:
        deliverer.close()
    assert (refused.outcome, refused.detail) == (
        AttemptOutcome.DEAD,
        "a git target does not take strategy.archive.completed",
    )
    assert pushed.outcome == AttemptOutcome.DELIVERED
    assert pushed.detail.startswith("pushed: main created at ")


def test_ssh_pushes_go_through_git_ssh_command(tmp_path: Path, history: Path) -> None:
    remote = bare(tmp_path / "remote.git")
    item = {"type": "git", "name": "ssh", "url": f"ssh://git@githost.invalid{remote}"}
    (target,) = parse_targets(
        json.dumps([item]), [], None, history=history, ssh_command=str(fake_ssh(tmp_path))
    )
    deliverer = Deliverer([target])
    try:
        pushed = deliverer.attempt("ssh", "e1", PUSH_EVENT, b"{}")
    finally:
        deliverer.close()
    assert pushed.outcome == AttemptOutcome.DELIVERED, pushed.detail
    assert git("rev-parse", "main", cwd=remote) == git("rev-parse", "main", cwd=history)


def test_a_worker_pushes_the_history_of_what_it_archives(
    simulator: SimulatorServer, tmp_path: Path, server: GitServer
) -> None:
    remote = server.root / "remote.git"
    item = {"type": "git", "name": "githost", "url": server.repo_url("remote.git"), "token": TOKEN}
    settings = make_settings(
        simulator,
        tmp_path,
        **WORKER_TUNING,
        **history_env(tmp_path),
        VCS_TARGETS=json.dumps([item]),
        VCS_RETRY_SCHEDULE="0.1,0.1,0.1",
    )
    assert settings.history_repo is not None
    history = settings.history_repo

    def pushed() -> bool:
        theirs = run_git("rev-parse", "--verify", "--quiet", "refs/heads/main", cwd=remote)
        ours = run_git("rev-parse", "--verify", "--quiet", "refs/heads/main", cwd=history)
        return theirs.returncode == 0 and theirs.stdout == ours.stdout

    with Ledger(settings.archiver_db) as ledger:
        jobs.enqueue(ledger, DEMO_FLOW_ID, "flow", reason="event")
        with running_worker(Worker(settings)):
            # Generous: an archive job and a push on a loaded machine.
            wait_for(pushed, timeout=90, what="the history pushed to the git server")
        (delivery,) = [
            d for d in outbox.list_deliveries(ledger, limit=None) if d.target == "githost"
        ]

    assert (delivery.event_type, delivery.state) == (PUSH_EVENT, DeliveryState.DELIVERED)
    assert json.loads(delivery.body)["data"]["branch"] == "main"
    messages = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert messages and all(": version " in message for message in messages)
    git("fsck", "--strict", cwd=remote)
