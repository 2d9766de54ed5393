"""Hash while writing, in one pass, with bounded memory.

sha256 and file IO both release the GIL on large buffers, so hashing one chunk in a worker thread
while the calling thread reads or writes the next one runs them on two cores at once. Done serially
(read, hash, write) a put reaches only about half of hashlib's throughput. Chunks go through a small
ring of reusable buffers, so memory stays at ``DEPTH * CHUNK`` whatever the size of the content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

from modelyard._internal.hashing import format_digest

__all__ = ["CHUNK", "DEPTH", "HashingSink", "copy_hashing", "hash_bytes_into", "hash_stream"]

#: Bytes per chunk. Large enough that per-call overhead vanishes; small enough to stay in cache-ish
#: territory and keep memory bounded.
CHUNK = 8 * 1024 * 1024
#: Buffers in flight: one being hashed, one being written, one being filled.
DEPTH = 3
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
    """A ring of reusable buffers; a buffer is handed out again only once its hash is done."""

    def __init__(self) -> None:
        self._buffers: list[bytearray] = []
        self._pending: list[Future[None] | None] = []
        self._next = 0

    def take(self) -> tuple[int, bytearray]:
        if len(self._buffers) < DEPTH:
            self._buffers.append(bytearray(CHUNK))
            self._pending.append(None)
            index = len(self._buffers) - 1
        else:
            index = self._next
            self._next = (self._next + 1) % DEPTH
            pending = self._pending[index]
            if pending is not None:
                pending.result()
        return index, self._buffers[index]

    def hold(self, index: int, future: Future[None] | None) -> None:
        self._pending[index] = future


def copy_hashing(
    source: BinaryIO, write: Write | None, *, tick: Callable[[], None] | None = None
) -> tuple[str, int]:
    """Read ``source`` to its end, passing every chunk to ``write`` while a worker hashes it.

    Returns ``(digest, size)``. ``write=None`` only hashes (reading and hashing then overlap).
    ``tick`` is called once per chunk (lease renewal hooks in there).
    """
    hasher = _Hasher()
    ring = _Ring()
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
            ring.hold(index, hasher.submit(view))
            if write is not None:
                write(view)
            if tick is not None:
                tick()
        return hasher.finish(), hasher.size
    finally:
        hasher.close()


def hash_stream(source: BinaryIO) -> tuple[str, int]:
    """``(digest, size)`` of a stream, reading the next chunk while the last one is hashed."""
    return copy_hashing(source, None)


class HashingSink:
    """A binary file object for encoders: bytes written to it are hashed and passed on.

    Small writes are gathered into chunk-sized buffers first, so encoders that write many small
    pieces (Parquet pages, ``.npy`` headers) still hash and write in large, GIL-free calls.
    """

    def __init__(self, write: Write, *, tick: Callable[[], None] | None = None) -> None:
        self._write = write
        self._tick = tick
        self._hasher = _Hasher()
        self._ring = _Ring()
        self._current: tuple[int, bytearray] | None = None
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
        if self._tick is not None:
            self._tick()

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
