"""Where blob bytes go while they are hashed, before their key (the digest) is known."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Protocol, cast

from modelyard._internal.fds import write_all
from modelyard.artifacts._direct import DirectWriter
from modelyard.errors import KeyExistsError
from modelyard.storage import Store, SupportsStaging

__all__ = ["BlobTarget", "Writeback", "open_target"]


class BlobTarget(Protocol):
    def write(self, data: memoryview) -> object: ...

    def commit(self, key: str) -> bool:
        """Publish under ``key`` with an exclusive create; False if the key already existed."""
        ...

    def abort(self) -> None: ...


class _SpoolTarget:
    """For stores without staging: spool to a local temp file, then ``create`` from it.

    The store only ever sees a complete value (``create`` is all or nothing), so a writer killed
    midway leaves a temp file on local disk and nothing in the store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        fd, self._path = tempfile.mkstemp(prefix="modelyard-spool-")
        self._fd: int | None = fd

    def write(self, data: memoryview) -> object:
        assert self._fd is not None
        write_all(self._fd, data)
        return None

    def commit(self, key: str) -> bool:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        try:
            # No exists() probe first: the caller has just made one, and create is exclusive.
            with open(self._path, "rb") as handle:
                self._store.create(key, handle)
            return True
        except KeyExistsError:
            return False
        finally:
            self.abort()

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


#: Start writeback of a durable file every this many bytes.
WRITEBACK_EVERY = 64 * 1024 * 1024


class _EarlyWriteback:
    """Wraps a staged write to a local file of a durable store, so that its bytes reach the disk
    while they are written instead of all at the commit's fsync.

    Chunks are written with direct IO while they are aligned (see ``_direct.py``): the bytes must
    be on disk before the put returns anyway, and skipping the page cache saves a copy and the
    allocation of a page per 4 KiB. Where direct IO is unavailable, or for a chunk that is not
    aligned, writeback of what is buffered is started every ``WRITEBACK_EVERY`` bytes: for a large
    blob the final fsync alone would otherwise cost about a third of the whole put, and dirty
    pages piling up before it make the kernel throttle the writer.
    """

    def __init__(self, staged: BlobTarget, fd: int) -> None:
        self._staged = staged
        self._writeback = Writeback(fd)
        self._direct = DirectWriter(fd, staged.write)

    def write(self, data: memoryview) -> object:
        self._direct(data)
        if not self._direct.direct:
            self._writeback.wrote(len(data))
        return None

    def commit(self, key: str) -> bool:
        return self._staged.commit(key)

    def abort(self) -> None:
        self._staged.abort()


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    # sync_file_range(2) starts asynchronous writeback of a byte range and returns at once; the
    # pages stay cached (clean), so reading the blob back soon after is still fast. Python's os
    # module does not wrap it; it is Linux-only, and elsewhere nothing is done early.
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast("Callable[[int, int, int, int], int]", function)


_SYNC_FILE_RANGE = _load_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2


class Writeback:
    """Start writeback of the bytes written so far, every ``WRITEBACK_EVERY`` bytes."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._written = 0
        self._flushed = 0

    def wrote(self, count: int) -> None:
        self._written += count
        if _SYNC_FILE_RANGE is not None and self._written - self._flushed >= WRITEBACK_EVERY:
            _SYNC_FILE_RANGE(
                self._fd, self._flushed, self._written - self._flushed, _SYNC_FILE_RANGE_WRITE
            )
            self._flushed = self._written


def open_target(store: Store, *, direct_io: bool) -> BlobTarget:
    """A staged write when the store supports it (no second copy), else a local spool file.

    With ``direct_io`` (and a durable local store) chunks skip the page cache and writeback starts
    early; without it the file is written like any other and made durable by the store's fsync.
    """
    if isinstance(store, SupportsStaging):
        staged: BlobTarget = store.stage()
        fileno = getattr(staged, "fileno", None)
        durable = getattr(getattr(store, "capabilities", None), "durable", False)
        if direct_io and durable and callable(fileno):
            return _EarlyWriteback(staged, fileno())
        return staged
    return _SpoolTarget(store)
