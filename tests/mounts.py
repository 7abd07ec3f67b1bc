"""A small tmpfs for tests of full and read-only disks (root only; skipped otherwise)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def tmpfs(where: Path, size: str = "1m") -> Iterator[Path]:
    """A fresh tmpfs of ``size`` at ``where``, unmounted at the end whatever happened."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    except OSError as exc:  # no mount command at all
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        # Lazy: a process of the test that still holds a file there cannot keep it mounted.
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def remount(where: Path, mode: str) -> None:
    """Remount ``where`` ``ro`` or ``rw``."""
    done = _mount("-o", f"remount,{mode}", str(where))
    assert done.returncode == 0, done.stderr


def fill(folder: Path) -> None:
    """Write into ``folder`` until its file system has no byte left."""
    with (folder / "filler").open("wb", buffering=0) as out:
        try:
            while out.write(b"\0" * 65536):  # short writes at the end, then ENOSPC
                pass
        except OSError:
            pass
