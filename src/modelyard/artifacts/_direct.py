"""Large writes that go straight to disk (``O_DIRECT``), skipping the page cache.

Why: a blob written to a durable store must reach the disk before the put returns anyway, and a
file written by ``get`` is a fresh copy. Buffered, every byte is first copied into newly allocated
page-cache pages; on some machines (virtual machines especially) filling fresh page cache is far
slower than the disk itself, and it is the whole cost of a large put or get. Direct writes DMA the
pipeline's buffers to the disk with no copy and no page-cache allocation.

Direct IO needs the buffer address, the length and the file offset aligned to the device's block
size. The pipeline's buffers are page-aligned and a chunk's length is a multiple of the page size,
so only the last chunk (or any chunk that is not aligned) is written buffered: the descriptor is
switched back before it, and stays buffered from then on. Where the platform or filesystem has no
direct IO (macOS, Windows, a filesystem that refuses ``O_DIRECT``, no ``/proc``), nothing changes.

The gain depends on the machine: it was measured on a virtual machine whose page cache is slow to
fill, and on a slow disk (a hard disk, a network mount) buffered IO can be faster. So it can be
switched off: ``ArtifactStore(store, direct_io=False)`` or ``MODELYARD_DIRECT_IO=0`` in the
environment (see :func:`direct_io_setting`).
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from collections.abc import Callable
from typing import Any

from modelyard._internal.switches import env_switch
from modelyard.errors import InputError

__all__ = [
    "ALIGN",
    "DIRECT_IO_ENV",
    "DirectReader",
    "DirectWriter",
    "direct_io_setting",
    "enable_direct",
    "open_direct",
]

#: The environment variable read when ``ArtifactStore(direct_io=None)``: ``0`` switches direct IO
#: (and the early writeback that goes with it) off, ``1`` (the default) on.
DIRECT_IO_ENV = "MODELYARD_DIRECT_IO"

# Where a descriptor can be reopened with other flags (Linux); absent in some containers.
_PROC_FD = "/proc/self/fd/{}"


def direct_io_setting(value: bool | None) -> bool:
    """Whether to use direct IO: ``value`` if given, else ``$MODELYARD_DIRECT_IO`` (default on).

    >>> direct_io_setting(False)
    False
    """
    if value is not None:
        if not isinstance(value, bool):
            raise InputError(f"direct_io must be True, False or None, not {value!r}")
        return value
    return env_switch(
        DIRECT_IO_ENV,
        off="switch direct IO off",
        on="to use it where the platform supports it",
    )


#: Alignment required of addresses, lengths and offsets; a page satisfies every block size in use.
ALIGN = 4096

_O_DIRECT: int = getattr(os, "O_DIRECT", 0)


def enable_direct(fd: int) -> bool:
    """Switch ``fd`` to direct IO; False (and ``fd`` unchanged) where that is not supported."""
    if sys.platform == "win32" or not _O_DIRECT:
        return False
    import fcntl

    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _O_DIRECT)
    except OSError:
        # EINVAL from a filesystem without direct IO (tmpfs on older kernels, some FUSE and
        # network mounts), or anything else: direct IO is only ever an optimisation.
        return False
    return True


def _disable_direct(fd: int) -> None:
    if sys.platform == "win32":
        return
    import fcntl

    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~_O_DIRECT)


def _aligned(view: memoryview, offset: int) -> bool:
    if len(view) % ALIGN or offset % ALIGN:
        return False
    import numpy as np  # only for a file large enough to bypass the page cache

    address: int = np.frombuffer(view, dtype=np.uint8).ctypes.data
    return address % ALIGN == 0


class DirectWriter:
    """Calls ``write`` (which writes all of a chunk to ``fd``) with ``fd`` in direct mode while
    chunks are aligned, and in buffered mode from the first one that is not."""

    def __init__(self, fd: int, write: Callable[[memoryview], object]) -> None:
        self._fd = fd
        self._write = write
        self._offset = 0
        self.direct = enable_direct(fd)

    def __call__(self, view: memoryview) -> None:
        if self.direct and not _aligned(view, self._offset):
            self._buffered()
        if not self.direct:
            self._write(view)
        else:
            try:
                self._write(view)
            except OSError as exc:
                # A device that needs more than ALIGN: direct IO refuses the chunk before
                # writing any of it. Anything else, or a chunk partly written, is a real error.
                if not _refused(exc, self._fd, self._offset):
                    raise
                self._buffered()
                self._write(view)
        self._offset += len(view)

    def _buffered(self) -> None:
        _disable_direct(self._fd)
        self.direct = False


def _refused(exc: OSError, fd: int, offset: int) -> bool:
    return exc.errno == errno.EINVAL and os.lseek(fd, 0, os.SEEK_CUR) == offset


def _cached(fd: int, size: int) -> bool:
    """Whether the file looks page-cached: pages near its start, middle and end can be read
    without waiting for the disk (``RWF_NOWAIT``). A blob read or written buffered moments ago
    is; one written with direct IO, or not read for a while, is not."""
    nowait = getattr(os, "RWF_NOWAIT", None)
    if nowait is None or not hasattr(os, "preadv"):
        return True  # cannot tell: leave reads to the page cache, as by default
    probe = bytearray(1)
    for offset in (0, size // 2, max(size - 1, 0)):
        try:
            if os.preadv(fd, [probe], offset, nowait) != 1:
                return False
        except BlockingIOError:
            return False
        except OSError:
            return True
    return True


class DirectReader:
    """Reads a regular file with direct IO into aligned buffers (see :func:`open_direct`).

    ``readinto`` needs a page-aligned buffer whose length is a multiple of :data:`ALIGN` (the
    pipeline's buffers are). After a short read that is not the end of the file, it carries on
    buffered rather than read at an unaligned offset.
    """

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._size = size
        self._offset = 0
        self._direct = True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._direct and not _aligned(view, self._offset):
            _disable_direct(self._fd)
            self._direct = False
        try:
            count = os.readv(self._fd, [view])
        except OSError as exc:
            if not (self._direct and _refused(exc, self._fd, self._offset)):
                raise
            _disable_direct(self._fd)
            self._direct = False
            count = os.readv(self._fd, [view])
        self._offset += count
        if self._direct and count < len(view) and self._offset < self._size:
            _disable_direct(self._fd)
            self._direct = False
        return count

    def close(self) -> None:
        os.close(self._fd)


def open_direct(source: object, *, at_least: int = 64 * 1024 * 1024) -> DirectReader | None:
    """A direct-IO reader of the same file as ``source`` (an open binary file), or None.

    Only for a large regular file that is not in the page cache: reading it buffered would first
    allocate and fill a cache page for every 4 KiB, which on some machines is far slower than the
    disk. A file already cached is read from the cache (None is returned). Linux only: the file is
    reopened through ``/proc/self/fd``, so any store whose streams have a real descriptor works.
    """
    if not sys.platform.startswith("linux") or not _O_DIRECT:
        return None
    fileno = getattr(source, "fileno", None)
    if not callable(fileno):
        return None
    try:
        fd = fileno()
        info = os.fstat(fd)
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size < at_least or _cached(fd, info.st_size):
        return None
    try:
        direct_fd = os.open(_PROC_FD.format(fd), os.O_RDONLY | _O_DIRECT | os.O_CLOEXEC)
    except OSError:
        return None
    return DirectReader(direct_fd, info.st_size)
