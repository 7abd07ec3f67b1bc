"""Where the processes of one installation keep their metrics for ``/metrics`` to add up.

prometheus-client chooses its mode once, when ``prometheus_client`` is first imported:
with ``PROMETHEUS_MULTIPROC_DIR`` set, every metric is a file in that folder, one per
process, and a scrape sums them. This module is the only one of ours that touches that
variable. It imports nothing of prometheus-client at module level, so that
``gunicorn.conf.py`` and ``archiver worker`` can call ``use_folder`` first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import ConfigError

ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_folder(folder: Path, *, clear_stale: bool = False) -> Path:
    """Make this process, and those it forks or starts, write their metrics in ``folder``.

    Call it before anything imports ``prometheus_client``. ``clear_stale`` (the web master,
    once at start) first removes the files of processes that no longer run.
    """
    if "prometheus_client.values" in sys.modules and folder_in_use() is None:
        raise RuntimeError("prometheus_client was imported before the metrics folder was set")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if clear_stale:
            remove_stale(folder)
    except OSError as exc:
        raise ConfigError(
            f"METRICS_DIR is invalid: cannot use {folder}: {exc.strerror or exc}"
        ) from None
    path = folder.resolve()
    os.environ[ENV] = str(path)
    return path


def folder_in_use() -> Path | None:
    """The folder this process's metrics are written to; None: single-process mode."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def remove_stale(folder: Path) -> list[Path]:
    """Remove the metric files (``<kind>_<pid>.db``) of processes that no longer run."""
    removed = []
    for path in folder.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def process_exited(pid: int) -> None:
    """Bookkeeping once a process writing metrics has exited (gunicorn's ``child_exit``).

    Its counters and histograms stay, so that totals never go down; only gauges that
    count live processes would be dropped (this service keeps no such gauge today).
    """
    folder = folder_in_use()
    if folder is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(folder))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True
