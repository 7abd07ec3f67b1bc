"""Packs of new objects with prefix/suffix deltas, read back by git and by dulwich."""

from __future__ import annotations

import os
import subprocess
from hashlib import sha1
from pathlib import Path

import pytest
from dulwich.pack import apply_delta
from dulwich.repo import Repo

from service.history.pack import MAX_DEPTH, MIN_DELTA_SIZE, PackObject, delta, write_pack

BLOB = 3
BASE = os.urandom(200_000)  # copies longer than one instruction (0x10000) are split


@pytest.mark.parametrize(
    "target",
    [
        BASE,
        b"",
        BASE[:1000] + b"inserted" * 40 + BASE[1000:],  # an insert longer than 127 bytes
        b"new start" + BASE[5:],
        BASE[:-3] + b"new end",
        BASE[:70_000] + BASE[70_100:],  # a cut
        os.urandom(3000),  # nothing in common
    ],
)
def test_a_delta_rebuilds_the_target_from_the_base(target: bytes) -> None:
    assert b"".join(apply_delta(BASE, delta(BASE, target))) == target
    assert b"".join(apply_delta(b"", delta(b"", target))) == target


def test_a_small_change_makes_a_small_delta() -> None:
    target = BASE[:100_000] + b"x" + BASE[100_001:]
    assert len(delta(BASE, target)) < 40


def blob(content: bytes, base: bytes | None = None) -> PackObject:
    return (sha1(b"blob %d\x00" % len(content) + content).digest(), BLOB, content, base)


def test_git_reads_every_object_of_a_long_chain_of_deltas(tmp_path: Path) -> None:
    repo = tmp_path / "repo.git"
    Repo.init_bare(str(repo), mkdir=True).close()
    contents = [b"version %d\n" % n + BASE[: MIN_DELTA_SIZE * 4] for n in range(3 * MAX_DEPTH)]
    objects, previous = [], None
    for content in contents:
        objects.append(blob(content, previous))
        previous = objects[-1][0]
    objects.append(blob(b"tiny", previous))  # too small to be a delta
    name = write_pack(repo / "objects" / "pack", objects)
    pack = repo / "objects" / "pack" / f"{name}.pack"
    assert sorted(p.name for p in pack.parent.iterdir()) == [f"{name}.idx", f"{name}.pack"]
    assert pack.stat().st_size < 20 * MIN_DELTA_SIZE * 4  # deltas, not whole copies
    verified = subprocess.run(
        ["git", "verify-pack", "-v", str(pack)], capture_output=True, text=True, check=True
    ).stdout
    assert f"chain length = {MAX_DEPTH}:" in verified
    assert f"chain length = {MAX_DEPTH + 1}:" not in verified
    for binsha, _, content, _ in objects:
        shown = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "blob", binsha.hex()],
            capture_output=True,
            check=True,
        ).stdout
        assert shown == content
    with Repo(str(repo)) as read:
        assert read.object_store[objects[-2][0].hex().encode()].as_raw_string() == contents[-1]
