"""``archiver demo`` as a person runs it from an installed package: one name per archive,
and the commands it ends with work as printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import service
from service.simulator import DEMO_QUEUE_ID
from tests.helpers import ARCHIVER

ARCHIVE_LINE = re.compile(r"archive ([0-9a-f-]{36}) \(key ([0-9a-f-]{36})\)")


def installed_package(tmp_path: Path) -> Path:
    """A folder holding the ``service`` package alone, as an install puts it: no checkout
    around it (no ``gunicorn.conf.py``, no ``scripts/``)."""
    site = tmp_path / "site"
    source = Path(service.__file__).parent
    shutil.copytree(source, site / "service", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def test_the_demo_names_its_archives_and_ends_with_commands_that_work(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env["PYTHONPATH"] = str(installed_package(tmp_path))
    demo = subprocess.run(
        [*ARCHIVER, "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    shown = set(ARCHIVE_LINE.findall(demo.stdout))
    assert len(shown) == 5  # the flow's, the strategy's and two snapshots of the queue
    folder = tmp_path / "var" / "demo"
    for _, key in shown:
        assert len(list(folder.glob(f"archive/*/*/{key}.json"))) == 1

    head, _, steps = demo.stdout.partition("To look at it (these commands only read):\n")
    commands = steps.splitlines()
    assert len(commands) == 5 and all(c.startswith("  ARCHIVER_DB=") for c in commands)
    assert f"What the demo made is in {folder} " in head
    outputs = {}
    for command in commands:
        done = subprocess.run(
            command, shell=True, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        words = command.split()
        program = next(i for i, word in enumerate(words) if word.endswith("archiver"))
        outputs[" ".join(words[program + 1 :])] = done.stdout
    archives = outputs["ledger archives"].splitlines()[1:]
    listed = {(line.split()[1], line.split()[2]) for line in archives}
    assert listed == shown
    assert "5 archive document(s) checked, 0 bad" in outputs["verify-archives"]
    assert "Main inbound" in outputs["ledger strategies"]
    # The history: every version of the flow one commit, the deletion one more, and a diff.
    (log,) = [text for args, text in outputs.items() if args.startswith("history log ")]
    assert [len(line.split()[0]) for line in log.splitlines()] == [40] * 6
    assert "Main inbound: deleted" in head and "--- a/flow/main-inbound--" in head
    # The queue's bullseye ring, changed through the simulator: its new snapshot and diff.
    assert f"+++ b/queue/support--{DEMO_QUEUE_ID}.json@2" in head
    assert '-            "threshold": 15.0,\n+            "threshold": 20.0,' in head
