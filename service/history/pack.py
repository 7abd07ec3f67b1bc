"""A batch of new git objects written as one pack file, the way ``git fast-import`` does.

Each version of a file or directory is stored as a delta against its previous version
in the same pack (git's ``OFS_DELTA``): a directory of 200 flows changes by one entry
per commit, so the delta is a few dozen bytes where the whole tree is 18 KB. The delta is
the common prefix and suffix copied, and between them each chunk of lines found in the
previous version copied from there: a few hundred bytes for a flow edited in several
places, found in microseconds. Chains stop at ``MAX_DEPTH``, as git's do, so that reading
stays fast.

Written with dulwich's pack primitives (object headers, index v2); the pack is complete
(no object deltas against one outside it), so git and dulwich read it as any other.
"""

from __future__ import annotations

import binascii
import os
import tempfile
import zlib
from collections.abc import Sequence
from hashlib import sha1
from pathlib import Path

from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.pack import OFS_DELTA, pack_object_header, write_pack_index

MAX_DEPTH = 50  # git's default pack.depth
MIN_DELTA_SIZE = 512  # smaller objects are stored whole: a delta would save little
CHUNK = 64  # bytes of a document looked up in its previous version at a time (then a newline)
COMPRESSION = 1  # zlib level: JSON and trees compress well even so, several times faster
_COPY_MAX = 0x10000  # the largest copy git's own delta writer emits in one instruction
_INSERT_MAX = 0x7F

# (binary id, type number, raw content, binary id of the delta base or None)
PackObject = tuple[bytes, int, bytes, bytes | None]


def write_pack(pack_dir: Path, objects: Sequence[PackObject]) -> str:
    """Write ``objects`` (each base before the objects that name it) as one pack and its
    index in ``pack_dir``; the pack's name. The index is renamed into place last, so a
    reader never finds a pack without its whole content."""
    fd, temp_name = tempfile.mkstemp(prefix="tmp_pack_", dir=pack_dir)
    temp = Path(temp_name)
    entries: list[tuple[bytes, int, int | None]] = []
    try:
        with os.fdopen(fd, "wb") as f:
            digest = sha1()
            head = b"PACK" + (2).to_bytes(4, "big") + len(objects).to_bytes(4, "big")
            f.write(head)
            digest.update(head)
            offset = len(head)
            where: dict[bytes, tuple[int, int, bytes]] = {}  # id -> (offset, depth, raw)
            for binsha, type_num, raw, base in objects:
                placed = where.get(base) if base is not None else None
                depth = 0
                chunk = b""
                if placed is not None and placed[1] < MAX_DEPTH and len(raw) >= MIN_DELTA_SIZE:
                    data = delta(placed[2], raw)
                    if len(data) < len(raw) // 2:
                        header = pack_object_header(
                            OFS_DELTA, offset - placed[0], len(data), DEFAULT_OBJECT_FORMAT
                        )
                        chunk = bytes(header) + zlib.compress(data, COMPRESSION)
                        depth = placed[1] + 1
                if not chunk:
                    header = pack_object_header(type_num, None, len(raw), DEFAULT_OBJECT_FORMAT)
                    chunk = bytes(header) + zlib.compress(raw, COMPRESSION)
                f.write(chunk)
                digest.update(chunk)
                entries.append((binsha, offset, binascii.crc32(chunk) & 0xFFFFFFFF))
                where[binsha] = (offset, depth, raw)
                offset += len(chunk)
            checksum = digest.digest()
            f.write(checksum)
        name = f"pack-{checksum.hex()}"
        os.replace(temp, pack_dir / f"{name}.pack")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    index_temp = pack_dir / f"tmp_idx_{name}"
    with open(index_temp, "wb") as f:
        write_pack_index(f, sorted(entries), checksum, version=2)
    os.replace(index_temp, pack_dir / f"{name}.idx")
    return name


def delta(base: bytes, target: bytes) -> bytes:
    """A git delta rebuilding ``target`` from ``base``: the common prefix and suffix
    copied from ``base``; between them, each run of lines (``CHUNK`` bytes or a little
    more) found anywhere in ``base`` copied from there, the others inserted."""
    limit = min(len(base), len(target))
    prefix = _common_prefix(base, target, limit)
    suffix = _common_suffix(base, target, limit - prefix)
    out = bytearray(_size(len(base)) + _size(len(target)))
    _copy(out, 0, prefix)
    _middle(out, base, target, prefix, len(target) - suffix)
    _copy(out, len(base) - suffix, suffix)
    return bytes(out)


def _middle(out: bytearray, base: bytes, target: bytes, start: int, end: int) -> None:
    """Instructions for ``target[start:end]``: chunks cut after a newline, each copied
    from where ``base`` holds it (a copy grows while the next chunks follow it there),
    else inserted. A few ``bytes.find`` per version: edits in several places of a
    document cost a chunk or two each, not everything between them."""
    copy_from = copy_to = 0  # the copy being grown: base[copy_from:copy_to]
    insert_from = position = start  # the insert being grown: target[insert_from:position]
    while position < end:
        cut = target.find(b"\n", position + CHUNK, end)
        cut = end if cut < 0 else cut + 1
        chunk = target[position:cut]
        if copy_to > copy_from and base.startswith(chunk, copy_to):
            copy_to += len(chunk)
            insert_from = cut
        elif (found := base.find(chunk)) >= 0:
            _copy(out, copy_from, copy_to - copy_from)
            _insert(out, target, insert_from, position)
            copy_from, copy_to = found, found + len(chunk)
            insert_from = cut
        elif copy_to > copy_from:
            _copy(out, copy_from, copy_to - copy_from)
            copy_from = copy_to = 0
        position = cut
    _copy(out, copy_from, copy_to - copy_from)
    _insert(out, target, insert_from, end)


def _insert(out: bytearray, target: bytes, start: int, end: int) -> None:
    """Insert instructions for ``target[start:end]``, 127 bytes at most each."""
    for piece in range(start, end, _INSERT_MAX):
        data = target[piece : min(piece + _INSERT_MAX, end)]
        out.append(len(data))
        out += data


def _common_prefix(a: bytes, b: bytes, limit: int) -> int:
    """How many leading bytes ``a`` and ``b`` share (binary search on slices: memcmp)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """How many trailing bytes ``a`` and ``b`` share, at most ``limit``."""
    low, high = 0, limit
    end_a, end_b = len(a), len(b)
    while low < high:
        middle = (low + high + 1) // 2
        if a[end_a - middle : end_a - low] == b[end_b - middle : end_b - low]:
            low = middle
        else:
            high = middle - 1
    return low


def _size(value: int) -> bytes:
    """A delta header's size: little-endian base-128."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _copy(out: bytearray, offset: int, length: int) -> None:
    """Copy instructions for ``length`` bytes of the base from ``offset``."""
    while length:
        size = min(length, _COPY_MAX)
        command = 0x80
        operands = bytearray()
        for bit in range(4):
            byte = (offset >> (8 * bit)) & 0xFF
            if byte:
                command |= 1 << bit
                operands.append(byte)
        encoded = size if size != _COPY_MAX else 0  # 0 stands for 0x10000
        for bit in range(3):
            byte = (encoded >> (8 * bit)) & 0xFF
            if byte:
                command |= 1 << (4 + bit)
                operands.append(byte)
        out.append(command)
        out += operands
        offset += size
        length -= size
