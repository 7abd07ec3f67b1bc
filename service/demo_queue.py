"""The demo's queue: routing configuration beyond flows (contract section 12), end to end.

A first snapshot of the demo queue is asked through the admin API; then its first bullseye
ring is widened through the simulator's control API (``/_sim/routing``), as an admin's edit
in Genesys Cloud would be, and Genesys announces it on the audit topic. The worker archives
the new snapshot; ``archiver show`` and ``archiver diff`` then read both from cold storage.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import requests

from .simulator import DEMO_QUEUE_ID

RING = "bullseye.rings.0.expansionCriteria.0.threshold"
SHOW_LINES = 24  # of the snapshot shown: its name, markers and the start of its settings

Say = Callable[[str], None]
Wait = Callable[[Callable[[], bool], str], None]


def queue_step(
    sim_url: str,
    post: Callable[[str, dict[str, Any]], Any],
    archives: Callable[[], list[dict[str, Any]]],
    say: Say,
    wait: Wait,
) -> list[dict[str, Any]]:
    """Snapshot the demo queue, change its bullseye ring, wait for the new snapshot; the
    queue's two archives, newest first."""

    def of_queue() -> list[dict[str, Any]]:
        return [a for a in archives() if a["strategyId"] == DEMO_QUEUE_ID]

    say("6. A queue's bullseye ring changes. A first snapshot of the queue is asked through")
    say("   POST /archives; then its first ring waits 20 s instead of 15 before widening,")
    say("   changed through the simulator's control API: POST /_sim/routing/queue/.../update")
    post("/archives", {"strategyId": DEMO_QUEUE_ID, "sourceType": "queue"})
    wait(lambda: len(of_queue()) >= 1, "the queue's first snapshot")
    answer = requests.post(
        f"{sim_url}/_sim/routing/queue/{DEMO_QUEUE_ID}/update",
        json={"changes": {RING: 20.0}},
        timeout=10,
    )
    answer.raise_for_status()
    say("   Genesys announces it on the audit topic (entity type Queue), through EventBridge")
    wait(lambda: len(of_queue()) >= 2, "the queue's new snapshot")
    return of_queue()


def queue_tour(queue_archives: list[dict[str, Any]], env: dict[str, str], say: Say) -> None:
    """``archiver show`` of the queue's newest snapshot and ``archiver diff`` of its two."""
    newer, older = (a["versionIds"][0] for a in queue_archives[:2])
    say(f"9. archiver show {DEMO_QUEUE_ID} (the queue's newest snapshot, from cold storage)")
    run_shown(["show", DEMO_QUEUE_ID], env, say, SHOW_LINES)
    say(f"10. archiver diff {DEMO_QUEUE_ID} {older} {newer}: the ring's new threshold")
    run_shown(["diff", DEMO_QUEUE_ID, older, newer], env, say, 40)


def run_shown(args: list[str], env: dict[str, str], say: Say, limit: int) -> None:
    """``archiver ARGS`` as a person would type it, its first ``limit`` lines shown."""
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout or done.stderr).splitlines()
    say("\n".join(lines[:limit]))
    if len(lines) > limit:
        say(f"... ({len(lines) - limit} more lines)")
    say("")
