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


LINES = b"".join(b'  "key %04d": "a value of some length",\n' % n for n in range(2000))
TWO_EDITS = LINES.replace(b"key 0100", b"KEY 0100").replace(b"key 1900", b"KEY 1900")


@pytest.mark.parametrize(
    "target",
    [
        TWO_EDITS,
        LINES[:40_000] + LINES[:3000] + LINES[60_000:],  # lines moved and repeated
        LINES.replace(b"value", b"VALUE"),  # every line changed
        b"\n".join(reversed(LINES.split(b"\n"))),
        LINES[:-1] + b"no final newline",
        LINES[:-1].replace(b"\n", b" "),  # one long line
    ],
)
def test_a_text_delta_rebuilds_the_target(target: bytes) -> None:
    assert b"".join(apply_delta(LINES, delta(LINES, target))) == target


def test_edits_far_apart_cost_a_chunk_each_not_what_lies_between() -> None:
    assert len(delta(LINES, TWO_EDITS)) < 400
    moved = LINES[40_000:] + LINES[:40_000]
    assert len(delta(LINES, moved)) < 200


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
