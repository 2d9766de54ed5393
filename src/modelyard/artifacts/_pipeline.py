"""Hash while writing, in one pass, with bounded memory.

sha256 and file IO both release the GIL on large buffers, so hashing one chunk in a worker thread
while the calling thread reads or writes the next one runs them on two cores at once. Done serially
(read, hash, write) a put reaches only about half of hashlib's throughput. A copy (``copy_hashing``
with a ``write``) has three stages: the calling thread reads, one worker hashes, another writes, so
a source that is not in the page cache is read from disk while the previous chunk is written.
Chunks go through a small ring of reusable buffers (a buffer is refilled only once its hash and
its write are done), so memory stays at ``DEPTH * CHUNK`` whatever the size of the content.
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

from modelyard._internal.hashing import format_digest

__all__ = ["CHUNK", "DEPTH", "HashingSink", "copy_hashing", "hash_bytes_into", "hash_stream"]

#: Bytes per chunk. Large enough that per-call overhead vanishes; small enough to stay in cache-ish
#: territory and keep memory bounded.
CHUNK = 8 * 1024 * 1024
#: Buffers in flight: one being filled, the others being hashed and written (the writer and the
#: hasher may each lag the reader by a chunk without stalling it).
DEPTH = 4
# Content below this size is hashed inline: starting a thread would cost more than it saves.
_INLINE = 2 * CHUNK

Write = Callable[[memoryview], Any]


class _Hasher:
    """sha256 fed in order by one worker thread; ``submit`` returns when the chunk is queued."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._pool: ThreadPoolExecutor | None = None
        self.size = 0

    def submit(self, view: memoryview) -> Future[None] | None:
        self.size += len(view)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="modelyard-hash")
        return self._pool.submit(self._hash.update, view)

    def update_inline(self, view: memoryview) -> None:
        self.size += len(view)
        self._hash.update(view)

    def finish(self) -> str:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return format_digest(self._hash.hexdigest())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class _Ring:
    """A ring of reusable buffers; a buffer is handed out again only once its hash and its write
    (the futures held for it) are done."""

    def __init__(self) -> None:
        self._buffers: list[mmap.mmap] = []
        self._pending: list[tuple[Future[Any] | None, ...]] = []
        self._next = 0

    def take(self) -> tuple[int, mmap.mmap]:
        if len(self._buffers) < DEPTH:
            # Anonymous maps are page-aligned, so chunks can be written with direct IO.
            self._buffers.append(mmap.mmap(-1, CHUNK))
            self._pending.append(())
            index = len(self._buffers) - 1
        else:
            index = self._next
            self._next = (self._next + 1) % DEPTH
            self._wait(index)
        return index, self._buffers[index]

    def hold(self, index: int, *futures: Future[Any] | None) -> None:
        self._pending[index] = futures

    def drain(self) -> None:
        """Wait for every chunk in flight; re-raise the first error one of them hit."""
        for index in range(len(self._pending)):
            self._wait(index)

    def _wait(self, index: int) -> None:
        pending, self._pending[index] = self._pending[index], ()
        for future in pending:
            if future is not None:
                future.result()


class _Writer:
    """Runs ``write`` on chunks in order in one worker thread; after a failure it writes nothing
    more (the error is raised to the reader through the chunk's future)."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="modelyard-write")
        self._failed = False

    def submit(self, view: memoryview) -> Future[None]:
        return self._pool.submit(self._run, view)

    def _run(self, view: memoryview) -> None:
        if self._failed:
            return
        try:
            self._write(view)
        except BaseException:
            self._failed = True
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def copy_hashing(
    source: BinaryIO, write: Write | None, *, tick: Callable[[], None] | None = None
) -> tuple[str, int]:
    """Read ``source`` to its end, passing every chunk to ``write`` while a worker hashes it.

    Returns ``(digest, size)``. ``write=None`` only hashes (reading and hashing then overlap).
    ``tick`` is called once per chunk read, after it is handed on (a hook for callers that must
    act mid-stream; leases are renewed by their own thread, not here).
    """
    hasher = _Hasher()
    ring = _Ring()
    writer = _Writer(write) if write is not None else None
    readinto = getattr(source, "readinto", None)
    try:
        while True:
            index, buffer = ring.take()
            if readinto is not None:
                count = readinto(buffer)
            else:
                data = source.read(CHUNK)
                count = len(data)
                buffer[:count] = data
            if not count:
                break
            view = memoryview(buffer)[:count]
            ring.hold(
                index, hasher.submit(view), writer.submit(view) if writer is not None else None
            )
            if tick is not None:
                tick()
        # Every write has landed (or its error is raised here) before the caller commits.
        ring.drain()
        return hasher.finish(), hasher.size
    finally:
        if writer is not None:
            writer.close()
        hasher.close()


def hash_stream(source: BinaryIO) -> tuple[str, int]:
    """``(digest, size)`` of a stream, reading the next chunk while the last one is hashed."""
    return copy_hashing(source, None)


class HashingSink:
    """A binary file object for encoders: bytes written to it are hashed and passed on.

    Small writes are gathered into chunk-sized buffers first, so encoders that write many small
    pieces (Parquet pages, ``.npy`` headers) still hash and write in large, GIL-free calls.
    """

    def __init__(self, write: Write) -> None:
        self._write = write
        self._hasher = _Hasher()
        self._ring = _Ring()
        self._current: tuple[int, mmap.mmap] | None = None
        self._fill = 0
        self._threaded = False
        self.closed = False

    # -- the file-object surface encoders use --------------------------------------------------

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._hasher.size + self._fill

    def flush(self) -> None:
        pass

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            if self._current is None:
                self._current = self._ring.take()
                self._fill = 0
            buffer = self._current[1]
            room = CHUNK - self._fill
            piece = view[:room]
            buffer[self._fill : self._fill + len(piece)] = piece
            self._fill += len(piece)
            view = view[len(piece) :]
            if self._fill == CHUNK:
                self._dispatch()
        return total

    def _dispatch(self) -> None:
        assert self._current is not None
        index, buffer = self._current
        view = memoryview(buffer)[: self._fill]
        self._ring.hold(index, self._hasher.submit(view))
        self._write(view)
        self._current = None
        self._fill = 0

    def finish(self) -> tuple[str, int]:
        """Flush what is buffered; return ``(digest, size)``."""
        if self._current is not None and self._fill:
            if self._hasher.size == 0:
                # Everything fitted in one buffer: hash it here, no thread needed.
                view = memoryview(self._current[1])[: self._fill]
                self._hasher.update_inline(view)
                self._write(view)
                self._current = None
                self._fill = 0
            else:
                self._dispatch()
        self.closed = True
        return self._hasher.finish(), self._hasher.size

    def close(self) -> None:
        self.closed = True
        self._hasher.close()


def hash_bytes_into(data: bytes | bytearray | memoryview, write: Write) -> tuple[str, int]:
    """Hash and write bytes already in memory (no copy; large values overlap the two)."""
    view = memoryview(data).cast("B")
    hasher = _Hasher()
    try:
        if len(view) < _INLINE:
            hasher.update_inline(view)
            if len(view):
                write(view)
            return hasher.finish(), hasher.size
        for start in range(0, len(view), CHUNK):
            piece = view[start : start + CHUNK]
            future = hasher.submit(piece)
            write(piece)
            assert future is not None
        return hasher.finish(), hasher.size
    finally:
        hasher.close()
