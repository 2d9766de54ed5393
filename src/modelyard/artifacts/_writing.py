"""Writing content: encoded objects become blobs, hashed while they are written.

:func:`plan` looks at what an encoder returned before anything is written (so a folder that cannot
be stored whole, or a path that is not a regular file, is refused while the store is untouched);
:func:`write_content` then stores it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from modelyard._internal.hashing import digest_bytes
from modelyard._internal.switches import env_switch
from modelyard.artifacts._codec import Encoded
from modelyard.artifacts._layout import SIZE_INDEX_MIN, blob_key, size_key
from modelyard.artifacts._manifest import Manifest, Pack, TreeEntry, blob_sizes, listing_of
from modelyard.artifacts._packs import PACKED_MAX, PackSlot, PackWriter, pack_files
from modelyard.artifacts._pipeline import HashingSink, copy_hashing, hash_bytes_into
from modelyard.artifacts._progress import ProgressCallback, Tracker, run_bounded
from modelyard.artifacts._targets import open_target
from modelyard.artifacts._tree import Stamp, TreeFile, changed, check_unchanged, scan_tree
from modelyard.errors import CodecError, InputError, KeyExistsError
from modelyard.storage import CreateBatch, Store, SupportsCreateBatch

__all__ = ["Plan", "Written", "plan", "write_content"]


class Written:
    """What was stored: the content digest and size, and for a directory the tree and the packs
    its small files are in."""

    def __init__(
        self,
        digest: str,
        size: int,
        tree: tuple[TreeEntry, ...] | None = None,
        packs: tuple[Pack, ...] = (),
    ) -> None:
        self.digest = digest
        self.size = size
        self.tree = tree
        self.packs = packs

    def blob_digests(self) -> list[str]:
        """Every blob the manifest of what was written will need."""
        return list(blob_sizes(self.digest, None, self.tree, self.packs))


def _commit(store: Store, target: Any, digest: str, size: int, *, mark: bool = True) -> None:
    key = blob_key(digest)
    # Dedup: identical bytes are already stored under this digest. Checking first skips the
    # commit's fsync of bytes that are about to be thrown away; a False commit (another writer
    # published the same bytes in between) is the same case, found later.
    if store.exists(key):
        target.abort()
    else:
        target.commit(key)
    # After the blob, never before: a writer killed in between leaves a blob without a marker,
    # which costs the next put of the same bytes one discarded write (and writes the marker).
    if mark:
        _mark_size(store, size)


def _mark_size(store: Store, size: int) -> None:
    if size >= SIZE_INDEX_MIN:
        with contextlib.suppress(KeyExistsError):
            store.create(size_key(size), b"")


def _maybe_stored(store: Store, size: int) -> bool:
    """Whether a blob of ``size`` bytes may already be stored (so hashing first can pay off)."""
    return size >= SIZE_INDEX_MIN and store.exists(size_key(size))


@dataclass(frozen=True)
class Plan:
    """What a put will store, checked before anything is written: the encoded content, and for a
    folder its files (taken once, so that what is stored is what was checked)."""

    encoded: Encoded
    tree: tuple[TreeFile, ...] | None = None
    follow_links: bool = False


def plan(encoded: Encoded, *, follow_links: bool = False) -> Plan:
    """Check what ``encoded.content`` is; a folder is walked here (see ``_tree.py``)."""
    content = encoded.content
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Plan(encoded)
    if not isinstance(content, os.PathLike):
        if callable(content):
            return Plan(encoded)
        raise CodecError(
            f"a codec returned content of type {type(content).__name__}; expected bytes, a path "
            "or a function that writes to a binary file"
        )
    path = Path(content)
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"cannot store {path}: {exc.strerror}", path=str(path)) from exc
    if stat.S_ISDIR(info.st_mode):
        return Plan(encoded, scan_tree(path, follow_links=follow_links), follow_links)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"cannot store {path}: it is not a regular file or a folder (a pipe, socket or "
            "device has no fixed content)",
            path=str(path),
        )
    return Plan(encoded)


def write_bytes(
    store: Store, data: bytes | bytearray | memoryview, *, direct_io: bool, sized: bool = True
) -> tuple[str, int]:
    """Store bytes in memory. ``sized=False`` neither looks up nor leaves a size marker, for a
    pack (see ``_packs.py``): no file is ever a copy of a pack worth hashing first for."""
    view = memoryview(data).cast("B")
    if sized and _maybe_stored(store, len(view)):
        digest = digest_bytes(view)
        if store.exists(blob_key(digest)):
            return digest, len(view)
    target = open_target(store, direct_io=direct_io)
    try:
        digest, size = hash_bytes_into(view, target.write)
        _commit(store, target, digest, size, mark=sized)
    except BaseException:
        target.abort()
        raise
    return digest, size


# Opening a named pipe for reading would wait for a writer; non-blocking, it opens at once and is
# then refused as not a regular file. Regular files ignore the flag.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)


def write_file(
    store: Store,
    path: Path | str,
    *,
    expect: str | None = None,
    stamp: Stamp | None = None,
    direct_io: bool,
) -> tuple[str, int]:
    """Store one file.

    If it may be stored already (``expect``, the digest the previous version of the same name
    had at this size, or a size marker for its size) it is hashed first and written only if its
    digest is new: an unchanged file costs one hash and no write. Otherwise it is written while
    it is hashed, in one pass. The file must still match ``stamp`` (if given, else what it was
    when opened) once its bytes have been read, or nothing is published.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if stamp is not None:
            raise changed(path) from exc
        raise InputError(f"cannot read {path}: {exc.strerror}", path=str(path)) from exc
    with open(fd, "rb", buffering=0) as source:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise changed(path)
        expected = stamp if stamp is not None else Stamp.of(info)

        def check(size: int) -> None:
            if Stamp.of(os.fstat(fd)) != expected or size != expected.size:
                raise changed(path)

        check(expected.size)
        if expect is not None or _maybe_stored(store, expected.size):
            digest, size = copy_hashing(source, None)
            check(size)
            if store.exists(blob_key(digest)):
                _mark_size(store, size)
                return digest, size
            source.seek(0)
        target = open_target(store, direct_io=direct_io)
        try:
            # Hashed again while written: the digest must be that of the bytes stored.
            digest, size = copy_hashing(source, target.write)
            check(size)
            _commit(store, target, digest, size)
        except BaseException:
            target.abort()
            raise
    return digest, size


def write_stream(
    store: Store, writer: Callable[[IO[bytes]], None], *, direct_io: bool
) -> tuple[str, int]:
    target = open_target(store, direct_io=direct_io)
    sink = HashingSink(target.write)
    try:
        try:
            writer(cast(IO[bytes], sink))
        except Exception as exc:
            raise CodecError(f"the encoder failed: {exc!r}") from exc
        digest, size = sink.finish()
        _commit(store, target, digest, size)
    except BaseException:
        sink.close()
        target.abort()
        raise
    return digest, size


#: Files of a folder up to this size are read whole, hashed, and put in a pack (or, with packs
#: off, stored with one exclusive create: one request on a remote store); larger ones stream
#: through :func:`write_file`.
SMALL_FILE = PACKED_MAX


def read_small(path: Path | str, stamp: Stamp) -> bytes:
    """The bytes of a small file of the tree, checked against ``stamp`` before and after."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise changed(path) from exc
    try:
        if Stamp.of(os.fstat(fd)) != stamp:
            raise changed(path)
        # A plain read on the descriptor (a file object per file costs more than the read), one
        # byte more than expected to see a file that grew.
        data = os.read(fd, stamp.size + 1)
        while 0 < len(data) < stamp.size:  # a short read (a network filesystem): read on
            more = os.read(fd, stamp.size + 1 - len(data))
            if not more:
                break
            data += more
        if len(data) != stamp.size or Stamp.of(os.fstat(fd)) != stamp:
            raise changed(path)
    finally:
        os.close(fd)
    return data


#: Files of a folder stored per batch, when the store batches creates: bounds the temp files a
#: killed put leaves behind and the values held before their commit.
BATCH_FILES = 16384


def batch_creates() -> bool:
    """Whether a folder's small files are stored in batches where the store offers them
    (``MODELYARD_BATCH_CREATE=0`` turns it off: one ``create`` per file)."""
    return env_switch("MODELYARD_BATCH_CREATE", off="store a folder's files one create each")


def _batches(store: Store) -> Callable[[], CreateBatch] | None:
    if isinstance(store, SupportsCreateBatch) and batch_creates():
        return store.create_batch
    return None


class _Item:
    """A file of the tree as stored: where its bytes are (``slot`` None: its own blob). ``data``
    holds the bytes of a small file between its read and its place in a pack."""

    __slots__ = ("data", "digest", "file", "index", "offset", "size", "slot")

    def __init__(self, index: int, file: TreeFile, digest: str, size: int) -> None:
        self.index = index
        self.file = file
        self.digest = digest
        self.size = size
        self.data: bytes | None = None
        self.slot: PackSlot | None = None
        self.offset = 0


class _TreeWriter:
    """Stores the files of one tree, from any number of threads.

    A file needs no request at all when the latest version of the same name already stores its
    bytes (that manifest was read under this put's lease, after any gc had finished, and gc
    removes a manifest before its blobs). Otherwise a small file goes into a pack (see
    ``_packs.py``; one create per 32 MiB), or, with packs off, is one exclusive create; a large
    file is streamed into its own blob. A re-put with one changed file costs one create.

    Threads read and hash; files go into packs on the calling thread in the order of the tree
    (:meth:`place`), so the packs, and the manifest, do not depend on the pool size.
    """

    def __init__(
        self, store: Store, previous: Manifest | None, *, direct_io: bool, pack: bool
    ) -> None:
        self._store = store
        #: Small files go here instead of one ``create`` each, when the store batches.
        self.batch: CreateBatch | None = None
        tree = previous.tree if previous is not None and previous.tree is not None else ()
        self._previous = {entry.path: entry for entry in tree}
        # Where the bytes of each digest of the version before are, and of each one stored since.
        old = [PackSlot(p.digest, p.size) for p in previous.packs] if previous is not None else []
        self.old_packs = old
        self._known: dict[str, tuple[PackSlot | None, int]] = {}
        for entry in tree:
            where = (old[entry.pack], entry.offset or 0) if entry.pack is not None else (None, 0)
            self._known.setdefault(entry.digest, where)
        self._direct_io = direct_io
        self.packs = PackWriter(self._write_pack) if pack else None
        self._lock = threading.Lock()

    def _write_pack(self, data: bytes) -> str:
        return write_bytes(self._store, data, direct_io=self._direct_io, sized=False)[0]

    def __call__(self, numbered: tuple[int, TreeFile]) -> _Item:
        index, file = numbered
        if file.stamp.size > SMALL_FILE:
            before = self._previous.get(file.relative)
            same_size = before is not None and before.size == file.stamp.size
            expect = before.digest if before is not None and same_size else None
            digest, size = write_file(
                self._store, file.path, expect=expect, stamp=file.stamp, direct_io=self._direct_io
            )
            return _Item(index, file, digest, size)
        data = read_small(file.path, file.stamp)
        item = _Item(index, file, digest_bytes(data), len(data))
        if self.packs is None:
            self.store_small(item, data)
        else:
            item.data = data
        return item

    def place(self, item: _Item) -> None:
        """Put a small file read by :meth:`__call__` into a pack (calling thread, tree order)."""
        if item.data is not None:
            data, item.data = item.data, None
            self.store_small(item, data)

    def store_small(self, item: _Item, data: bytes) -> None:
        full = None
        # Two files of one tree with the same bytes: the first one stores them.
        with self._lock:
            where = self._known.get(item.digest)
            if where is None:
                if self.packs is not None:
                    where, full = self.packs.add(data)
                    self._known[item.digest] = where
                else:
                    self._known[item.digest] = (None, 0)
        if where is None:  # packs are off: a blob of its own
            if self.batch is not None:
                self.batch.create(blob_key(item.digest), data)
            else:
                with contextlib.suppress(KeyExistsError):
                    self._store.create(blob_key(item.digest), data)
            return
        if full is not None:
            assert self.packs is not None
            self.packs.seal(full)
        item.slot, item.offset = where

    def finish(self, placed: list[_Item]) -> tuple[list[TreeEntry], tuple[Pack, ...]]:
        """The entries and packs of the manifest, once every file is placed: a pack of the
        version before that this one would use less than half of is not used (its files are
        read again and stored anew, see ``_packs.py``)."""
        sparse = self._sparse(placed)
        if sparse:
            self._known = {d: w for d, w in self._known.items() if w[0] not in sparse}
            for item in placed:
                if item.slot in sparse:
                    data = read_small(item.file.path, item.file.stamp)
                    if digest_bytes(data) != item.digest:
                        raise changed(item.file.path)
                    item.slot = None
                    self.store_small(item, data)
        if self.packs is not None:
            self.packs.finish()
        numbers: dict[PackSlot, int] = {}
        packs: list[Pack] = []
        entries: list[TreeEntry] = []
        for item in placed:
            pack = offset = None
            if item.slot is not None:
                pack = numbers.get(item.slot)
                if pack is None:
                    pack = numbers[item.slot] = len(packs)
                    packs.append(item.slot.stored)
                offset = item.offset
            # Built without validation: the path is a walked name (checked by the walk) and the
            # digest was just computed; a manifest is validated again whenever it is read.
            entries.append(
                TreeEntry.model_construct(
                    path=item.file.relative,
                    digest=item.digest,
                    size=item.size,
                    executable=item.file.executable,
                    pack=pack,
                    offset=offset,
                )
            )
        return entries, tuple(packs)

    def _sparse(self, placed: list[_Item]) -> set[PackSlot]:
        """The packs of the version before that ``placed`` uses less than half of."""
        old = set(self.old_packs)
        used: dict[PackSlot, dict[int, int]] = {}
        for item in placed:
            if item.slot in old:
                used.setdefault(item.slot, {})[item.offset] = item.size
        return {slot for slot, files in used.items() if 2 * sum(files.values()) < slot.size}


def _one_blob_each(
    writer: _TreeWriter,
    numbered: list[tuple[int, TreeFile]],
    new_batch: Callable[[], CreateBatch] | None,
    *,
    threads: int,
    on_done: Callable[[_Item], None],
) -> list[_Item]:
    """Packs off: every file a blob of its own, in batches where the store offers them."""
    step = BATCH_FILES if new_batch is not None else max(len(numbered), 1)
    placed: list[_Item] = []
    for start in range(0, len(numbered), step):
        batch = writer.batch = new_batch() if new_batch is not None else None
        try:
            chunk = numbered[start : start + step]
            placed += run_bounded(chunk, writer, threads=threads, on_done=on_done)
            if batch is not None:
                batch.commit()
        finally:
            if batch is not None:
                batch.abort()
    writer.batch = None
    return placed


def write_tree(
    store: Store,
    planned: Plan,
    previous: Manifest | None,
    *,
    direct_io: bool,
    threads: int = 1,
    progress: ProgressCallback | None = None,
) -> Written:
    """Each distinct file content once (in packs, or a blob per file; what the latest version
    of the same name stores is not stored again), ``threads`` files at a time, then the listing.
    (The put that calls this has paused the garbage collector: see ``collector.py``.)"""
    assert planned.tree is not None
    tracker = Tracker(progress, [f.stamp.size for f in planned.tree])
    # Both switches are read before anything is written, so that a misspelt one is refused.
    pack = pack_files()
    new_batch = _batches(store)
    writer = _TreeWriter(store, previous, direct_io=direct_io, pack=pack)
    numbered = list(enumerate(planned.tree))

    def done(item: _Item) -> None:
        writer.place(item)
        tracker.done(item.size)

    if pack:
        # Large files first, in any order; then the small ones, placed in packs in tree order.
        large = [(i, f) for i, f in numbered if f.stamp.size > SMALL_FILE]
        small = [(i, f) for i, f in numbered if f.stamp.size <= SMALL_FILE]
        placed = run_bounded(large, writer, threads=threads, on_done=done)
        placed += run_bounded(small, writer, threads=threads, on_done=done, ordered=True)
        placed.sort(key=lambda item: item.index)
    else:
        placed = _one_blob_each(writer, numbered, new_batch, threads=threads, on_done=done)
    entries, packs = writer.finish(placed)
    # Before the listing, so that a folder that changed meanwhile never gets a manifest.
    root = Path(cast(os.PathLike[str], planned.encoded.content))
    check_unchanged(root, planned.tree, follow_links=planned.follow_links)
    digest, _ = write_bytes(store, listing_of(entries), direct_io=direct_io)
    return Written(digest, sum(e.size for e in entries), tuple(entries), packs)


def write_content(
    store: Store,
    planned: Plan,
    *,
    direct_io: bool,
    previous_digest: Mapping[int, str] | None = None,
    previous_tree: Manifest | None = None,
    threads: int = 1,
    progress: ProgressCallback | None = None,
) -> Written:
    """Store what :func:`plan` checked; ``previous_*`` are hints from the latest version of the
    same name (the digest of a file of each size; the manifest of a folder), used to recognise
    unchanged files without writing them."""
    content = planned.encoded.content
    if planned.tree is not None:
        return write_tree(
            store,
            planned,
            previous_tree,
            direct_io=direct_io,
            threads=threads,
            progress=progress,
        )
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Written(*write_bytes(store, content, direct_io=direct_io))
    if isinstance(content, os.PathLike):
        path = Path(content)
        expect = (previous_digest or {}).get(path.stat().st_size)
        return Written(*write_file(store, path, expect=expect, direct_io=direct_io))
    return Written(*write_stream(store, content, direct_io=direct_io))
