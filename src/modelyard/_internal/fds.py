"""Writing a whole buffer to a file descriptor."""

from __future__ import annotations

import os

__all__ = ["write_all"]


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to ``fd``: POSIX lets one write take only part of it.

    One call when it takes everything, as for the small files of a folder that come here one by
    one; a byte view of the rest, written on, only after a short write.

    >>> import tempfile
    >>> with tempfile.TemporaryFile() as handle:
    ...     write_all(handle.fileno(), b"weights")
    ...     _ = handle.seek(0)
    ...     handle.read()
    b'weights'
    """
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size == 0:
        return
    written = os.write(fd, data)
    if written < size:
        view = memoryview(data).cast("B")[written:]
        while view:
            view = view[os.write(fd, view) :]
