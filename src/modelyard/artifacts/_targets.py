"""Where blob bytes go while they are hashed, before their key (the digest) is known."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Protocol

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
        view = data
        while view:
            view = view[os.write(self._fd, view) :]
        return None

    def commit(self, key: str) -> bool:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        try:
            if self._store.exists(key):
                return False
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
    """Wraps a staged write to a local file so the kernel flushes it while it is being written.

    A durable store fsyncs at commit; for a large blob that final fsync alone costs about a third
    of the time of the whole put, and the dirty pages piling up before it make the kernel throttle
    the writer. ``POSIX_FADV_DONTNEED`` on the range written so far starts asynchronous writeback
    of those pages (and drops them from the cache once clean), so the commit's fsync finds little
    left to do and writing, hashing and flushing overlap.
    """

    def __init__(self, staged: BlobTarget, fd: int) -> None:
        self._staged = staged
        self._writeback = Writeback(fd)

    def write(self, data: memoryview) -> object:
        result = self._staged.write(data)
        self._writeback.wrote(len(data))
        return result

    def commit(self, key: str) -> bool:
        return self._staged.commit(key)

    def abort(self) -> None:
        self._staged.abort()


class Writeback:
    """Every ``WRITEBACK_EVERY`` bytes, ask the kernel to write back (and then drop) the file's
    pages. The whole file is named each time, not only the newest range: pages flushed by the
    previous call are clean by now and dropping them keeps the page cache from filling with
    this file, which measured markedly faster than flushing ranges alone."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending = 0

    def wrote(self, count: int) -> None:
        self._pending += count
        if self._pending >= WRITEBACK_EVERY and hasattr(os, "posix_fadvise"):
            self._pending = 0
            with contextlib.suppress(OSError):
                os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)


def open_target(store: Store) -> BlobTarget:
    """A staged write when the store supports it (no second copy), else a local spool file."""
    if isinstance(store, SupportsStaging):
        staged: BlobTarget = store.stage()
        fileno = getattr(staged, "fileno", None)
        durable = getattr(getattr(store, "capabilities", None), "durable", False)
        if durable and callable(fileno) and hasattr(os, "posix_fadvise"):
            return _EarlyWriteback(staged, fileno())
        return staged
    return _SpoolTarget(store)
