"""Packs: the small files of a folder stored together, a few blobs instead of one per file.

A folder of 100,000 small files stored one blob each costs 100,000 creates: on a local disk a
file made, flushed and named for each, on a bucket a request for each. A put instead appends
the bytes of each new small file (up to :data:`PACKED_MAX`) to a pack and stores the pack as an
ordinary blob once it holds :data:`PACK_TARGET` bytes. The manifest (schema 3) lists the packs,
and each entry says which pack its bytes are in and at which offset. Nothing else changes:

- a pack is a content-addressed blob like any other, so gc, verify, copies and leases treat it
  as one; the listing (and so the folder's content digest) does not say where files are stored;
- every file read from a pack is checked against its own digest, as a blob is;
- a file the latest version of the same name already stores, in a pack or as a blob, is not
  stored again: the new manifest points at the same bytes.

Pointing into old packs could keep dead bytes alive forever (a version that reuses one file of
each of many old packs keeps them all). So a put that would use less than half of an old pack
stores those files again, in its own packs: every pack a manifest refers to is at least half
used by it, and what a live version keeps stored is at most twice its own size.

``MODELYARD_PACK_FILES=0`` stores every file as its own blob, as releases before packs did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from modelyard._internal.hashing import digest_bytes
from modelyard._internal.switches import env_switch
from modelyard.artifacts._layout import blob_key
from modelyard.artifacts._manifest import Pack, TreeEntry
from modelyard.artifacts._reading import corrupt
from modelyard.artifacts._refs import ArtifactRef
from modelyard.errors import NotFoundError
from modelyard.storage import Store

__all__ = [
    "PACKED_MAX",
    "PACK_TARGET",
    "PackSlot",
    "PackWriter",
    "pack_files",
    "read_members",
    "runs",
]

#: Files up to this size are stored in packs; larger ones stay blobs of their own (streamed,
#: deduplicated across artifacts, and read without the page cache where that is on).
PACKED_MAX = 1024 * 1024

#: A pack is stored once it holds this many bytes (the last one of a put may be smaller). Large
#: enough that a bucket sees one request per 32 MiB, small enough to build in memory.
PACK_TARGET = 32 * 1024 * 1024

#: A restore hands a thread at most this much of a pack, and this many files, at once (a run,
#: with a progress report after it). A run is read in one piece unless its files fill less than
#: half of it (beyond 64 KiB): then file by file, skipping the gaps.
_RUN_BYTES = 4 * 1024 * 1024
_RUN_FILES = 1024


def pack_files() -> bool:
    """Whether a folder's small files are stored in packs (``MODELYARD_PACK_FILES=0``: one blob
    per file)."""
    return env_switch("MODELYARD_PACK_FILES", off="store each file of a folder as its own blob")


class PackSlot:
    """A pack of this put (being filled, then stored) or of the version before (stored)."""

    __slots__ = ("digest", "parts", "size")

    def __init__(self, digest: str | None = None, size: int = 0) -> None:
        self.digest = digest
        self.size = size
        self.parts: list[bytes] = []

    @property
    def stored(self) -> Pack:
        assert self.digest is not None, "a pack is stored before the manifest names it"
        return Pack(digest=self.digest, size=self.size)


class PackWriter:
    """Appends files to packs; :meth:`seal` stores a full one. Not locked: the tree writer calls
    :meth:`add` under its own lock, and places files from one thread, in tree order (so a pack is
    written while the pool reads the next files).
    """

    def __init__(self, write: Callable[[bytes], str], target: int | None = None) -> None:
        self._write = write
        self._target = PACK_TARGET if target is None else target
        self._open: PackSlot | None = None

    def add(self, data: bytes) -> tuple[tuple[PackSlot, int], PackSlot | None]:
        """Append ``data``: its pack and offset, and the pack to :meth:`seal` if it is full."""
        slot = self._open
        if slot is None:
            slot = self._open = PackSlot()
        offset = slot.size
        slot.parts.append(data)
        slot.size += len(data)
        if slot.size < self._target:
            return (slot, offset), None
        self._open = None
        return (slot, offset), slot

    def seal(self, slot: PackSlot) -> None:
        data = b"".join(slot.parts)
        slot.parts = []
        slot.digest = self._write(data)

    def finish(self) -> None:
        """Store the pack still being filled, if any."""
        slot, self._open = self._open, None
        if slot is not None:
            self.seal(slot)


def runs(entries: Sequence[TreeEntry]) -> Iterator[list[TreeEntry]]:
    """The packed ``entries`` grouped by pack, in offset order, cut into runs that one read can
    serve (at most ``_RUN_BYTES`` apart, ``_RUN_FILES`` files): the unit a restore hands to a
    thread and reports progress on."""
    by_pack: dict[int, list[TreeEntry]] = {}
    for entry in entries:
        assert entry.pack is not None
        by_pack.setdefault(entry.pack, []).append(entry)
    for members in by_pack.values():
        members.sort(key=_offset)
        run: list[TreeEntry] = []
        start = 0
        for entry in members:
            assert entry.offset is not None
            if run and (entry.offset + entry.size - start > _RUN_BYTES or len(run) >= _RUN_FILES):
                yield run
                run = []
            if not run:
                start = entry.offset
            run.append(entry)
        if run:
            yield run


def _offset(entry: TreeEntry) -> int:
    assert entry.offset is not None
    return entry.offset


def read_members(
    store: Store, pack: Pack, run: Sequence[TreeEntry], ref: ArtifactRef | None
) -> Iterator[tuple[TreeEntry, memoryview]]:
    """Each entry of ``run`` (one pack's, in offset order) with its bytes, each checked against
    its own digest before it is handed over (:class:`~modelyard.errors.IntegrityError` if not)."""
    try:
        source = store.open(blob_key(pack.digest))
    except NotFoundError:
        raise corrupt(ref, pack.digest, "its pack blob is missing") from None
    with source:
        first = _offset(run[0])
        end = max(_offset(entry) + entry.size for entry in run)
        needed = sum(entry.size for entry in run)
        if end - first <= 2 * needed + 65536:  # dense: one read for the run
            _skip_to(source, first, 0)  # forward only: cannot fail
            span = _read_exactly(source, end - first, pack, ref)
            for entry in run:
                start = _offset(entry) - first
                yield entry, _checked(span[start : start + entry.size], entry, pack, ref)
            return
        position = 0
        last = memoryview(b"")  # the bytes read last, ending at ``position``
        for entry in run:
            offset = _offset(entry)
            start = offset - (position - len(last))
            if start >= 0 and offset + entry.size <= position:  # equal files share their bytes
                data = last[start : start + entry.size]
            else:
                if not _skip_to(source, offset, position):
                    raise corrupt(ref, pack.digest, "its files overlap and its stream cannot seek")
                data = last = _read_exactly(source, entry.size, pack, ref)
                position = offset + entry.size
            yield entry, _checked(data, entry, pack, ref)


def _skip_to(source: BinaryIO, offset: int, position: int) -> bool:
    """Move ``source`` (now at ``position``) to ``offset``: seek where it can, else read and
    drop what lies between. False if it would have to go back and cannot."""
    seekable = getattr(source, "seekable", None)
    if seekable is not None and seekable():
        source.seek(offset)
        return True
    if offset < position:
        return False
    while position < offset:
        dropped = source.read(min(offset - position, 1 << 20))
        if not dropped:
            break  # the read that follows finds the pack short
        position += len(dropped)
    return True


def _read_exactly(source: BinaryIO, size: int, pack: Pack, ref: ArtifactRef | None) -> memoryview:
    view = memoryview(bytearray(size))
    readinto = getattr(source, "readinto", None)  # straight into the buffer, where it can
    got = 0
    while got < size:
        if readinto is not None:
            count = readinto(view[got:]) or 0
        else:
            chunk = source.read(size - got)
            count = len(chunk)
            view[got : got + count] = chunk
        if not count:
            raise corrupt(ref, pack.digest, f"the pack ends {size - got} bytes short of its files")
        got += count
    return view


def _checked(data: memoryview, entry: TreeEntry, pack: Pack, ref: ArtifactRef | None) -> memoryview:
    actual = digest_bytes(data)
    if actual != entry.digest:
        raise corrupt(
            ref,
            entry.digest,
            f"{entry.path!r}, {entry.size} bytes at offset {entry.offset} of pack {pack.digest}, "
            f"hashes to {actual}",
        )
    return data
