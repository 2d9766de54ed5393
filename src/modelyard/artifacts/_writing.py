"""Writing content: encoded objects become blobs, hashed while they are written."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, cast

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.artifacts._codec import Encoded
from modelyard.artifacts._layout import SIZE_INDEX_MIN, blob_key, size_key
from modelyard.artifacts._manifest import TreeEntry
from modelyard.artifacts._pipeline import HashingSink, copy_hashing, hash_bytes_into
from modelyard.artifacts._targets import open_target
from modelyard.errors import CodecError, KeyExistsError
from modelyard.storage import Store

__all__ = ["Written", "write_content"]

Tick = Callable[[], None]


class Written:
    """What was stored: the content digest and size, and the tree for a directory."""

    def __init__(self, digest: str, size: int, tree: tuple[TreeEntry, ...] | None = None) -> None:
        self.digest = digest
        self.size = size
        self.tree = tree


def _commit(store: Store, target: Any, digest: str, size: int) -> None:
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
    _mark_size(store, size)


def _mark_size(store: Store, size: int) -> None:
    if size >= SIZE_INDEX_MIN:
        with contextlib.suppress(KeyExistsError):
            store.create(size_key(size), b"")


def _maybe_stored(store: Store, size: int) -> bool:
    """Whether a blob of ``size`` bytes may already be stored (so hashing first can pay off)."""
    return size >= SIZE_INDEX_MIN and store.exists(size_key(size))


def write_bytes(store: Store, data: bytes | bytearray | memoryview, tick: Tick) -> tuple[str, int]:
    view = memoryview(data).cast("B")
    if _maybe_stored(store, len(view)):
        digest = digest_bytes(view)
        if store.exists(blob_key(digest)):
            return digest, len(view)
    target = open_target(store)
    try:
        digest, size = hash_bytes_into(view, target.write)
        _commit(store, target, digest, size)
    except BaseException:
        target.abort()
        raise
    return digest, size


def write_file(
    store: Store, path: Path, tick: Tick, *, expect: str | None = None
) -> tuple[str, int]:
    """Store one file.

    If it may be stored already (``expect``, the digest the previous version of the same name
    had at this size, or a size marker for its size) it is hashed first and written only if its
    digest is new: an unchanged file costs one hash and no write. Otherwise it is written while
    it is hashed, in one pass.
    """
    with open(path, "rb", buffering=0) as source:
        size_now = os.fstat(source.fileno()).st_size
        if expect is not None or _maybe_stored(store, size_now):
            digest, size = copy_hashing(source, None, tick=tick)
            if store.exists(blob_key(digest)):
                _mark_size(store, size)
                return digest, size
            source.seek(0)
        target = open_target(store)
        try:
            # Hashed again while written: the file may have changed since the first pass, and the
            # digest must be that of the bytes stored.
            digest, size = copy_hashing(source, target.write, tick=tick)
            _commit(store, target, digest, size)
        except BaseException:
            target.abort()
            raise
    return digest, size


def write_stream(store: Store, writer: Callable[[IO[bytes]], None], tick: Tick) -> tuple[str, int]:
    target = open_target(store)
    sink = HashingSink(target.write, tick=tick)
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


def _walk(root: Path) -> list[tuple[str, Path]]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for leaf in names:
            path = Path(folder, leaf)
            if path.is_file():
                files.append((path.relative_to(root).as_posix(), path))
    files.sort()
    return files


def write_tree(store: Store, root: Path, tick: Tick, previous: Mapping[str, TreeEntry]) -> Written:
    """One blob per file (unchanged files are shared with earlier versions), then the listing."""
    entries = []
    for relative, path in _walk(root):
        size_now = path.stat().st_size
        before = previous.get(relative)
        expect = before.digest if before is not None and before.size == size_now else None
        digest, size = write_file(store, path, tick, expect=expect)
        executable = bool(path.stat().st_mode & stat.S_IXUSR)
        entries.append(TreeEntry(path=relative, digest=digest, size=size, executable=executable))
    listing = canonical_json([e.model_dump(mode="json") for e in entries])
    digest, _ = write_bytes(store, listing, tick)
    return Written(digest, sum(e.size for e in entries), tuple(entries))


def write_content(
    store: Store,
    encoded: Encoded,
    tick: Tick,
    *,
    previous_digest: Mapping[int, str] | None = None,
    previous_tree: Mapping[str, TreeEntry] | None = None,
) -> Written:
    """Store ``encoded.content``; ``previous_*`` are hints from the latest version of the same
    name, used to recognise unchanged files without writing them."""
    content = encoded.content
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Written(*write_bytes(store, content, tick))
    if isinstance(content, os.PathLike):
        path = Path(content)
        if path.is_dir():
            return write_tree(store, path, tick, previous_tree or {})
        expect = (previous_digest or {}).get(path.stat().st_size)
        return Written(*write_file(store, path, tick, expect=expect))
    if callable(content):
        return Written(*write_stream(store, content, tick))
    raise CodecError(
        f"a codec returned content of type {type(content).__name__}; expected bytes, a path or a "
        "function that writes to a binary file"
    )
