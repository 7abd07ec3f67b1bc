"""The branch's loose objects moved into one pack with deltas, as ``git gc`` would.

The live history writes each small batch as loose objects, one file each; every commit
then holds a whole copy of its directory's tree (18 KB for 200 flows). Walking the
branch back to its first packed commit gives those objects in the order they were made,
each file's and directory's previous version at hand as its delta base: the same pack a
bulk build writes. The pack is in place before any loose file goes, so a reader finds
every object throughout.
"""

from __future__ import annotations

from pathlib import Path

from dulwich.object_store import DiskObjectStore
from dulwich.objects import Blob, Commit, ObjectID, Tree

from .pack import PackObject, write_pack

_DIR_MODE = 0o040000


def compact(store: DiskObjectStore, head: str, minimum: int = 1) -> int:
    """Pack the loose objects of the commits leading to ``head`` (back to the first
    packed one) when there are ``minimum`` or more; how many were packed. Loose objects of
    no such commit stay (written before a lost compare-and-swap: they are not counted
    towards ``minimum``, so that they never make one small pack per commit)."""
    folder = Path(store.path)

    def is_loose(binsha: bytes) -> bool:
        name = binsha.hex()
        return (folder / name[:2] / name[2:]).is_file()

    chain: list[Commit] = []
    current: bytes | None = bytes.fromhex(head)
    while current is not None and is_loose(current):
        commit = store[ObjectID(current.hex().encode())]
        assert isinstance(commit, Commit)
        chain.append(commit)
        current = bytes.fromhex(commit.parents[0].decode()) if commit.parents else None
    if not chain or 4 * len(chain) < minimum:  # a commit brings four objects at most
        return 0
    objects: list[PackObject] = []
    added: set[bytes] = set()
    latest: dict[bytes, bytes] = {}  # path -> the id of its latest version, a delta base
    listed: dict[bytes, dict[bytes, bytes]] = {}  # directory path -> its latest entries

    def visit(binsha: bytes, path: bytes, type_num: int) -> None:
        if binsha in added or not is_loose(binsha):
            return  # packed already, or an unchanged file or directory
        obj = store[ObjectID(binsha.hex().encode())]
        objects.append((binsha, type_num, obj.as_raw_string(), latest.get(path)))
        added.add(binsha)
        latest[path] = binsha
        if isinstance(obj, Tree):
            before = listed.get(path, {})
            listed[path] = {name: sha for name, _, sha in obj.iteritems()}
            for name, mode, sha in obj.iteritems():
                if before.get(name) != sha:  # only what changed since the version before
                    kind = Tree.type_num if mode == _DIR_MODE else Blob.type_num
                    visit(bytes.fromhex(sha.decode()), path + b"/" + name, kind)

    for commit in reversed(chain):
        visit(bytes.fromhex(commit.tree.decode()), b"", Tree.type_num)
        objects.append((commit.sha().digest(), Commit.type_num, commit.as_raw_string(), None))
        added.add(commit.sha().digest())
    if len(objects) < minimum:
        return 0
    write_pack(Path(store.pack_dir), objects)
    for binsha in added:
        name = binsha.hex()
        (folder / name[:2] / name[2:]).unlink(missing_ok=True)  # another compaction's too
    return len(added)
