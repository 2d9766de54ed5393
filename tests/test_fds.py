"""``write_all``, the one loop every local write goes through: all of a buffer reaches the file
however few bytes each write takes, whatever the buffer's kind."""

from __future__ import annotations

import array
import os
from pathlib import Path

import pytest

from modelyard._internal import fds
from modelyard._internal.fds import write_all

BUFFERS = {
    "bytes": b"0123456789abcdef",
    "bytearray": bytearray(b"weights of a small model"),
    "memoryview of doubles": memoryview(array.array("d", [1.5, -2.25, 3.0])),
    "sliced memoryview": memoryview(b"..payload..")[2:-2],
    "empty": b"",
}


@pytest.mark.parametrize("taken", [None, 1, 3], ids=["whole", "1 byte a write", "3 a write"])
@pytest.mark.parametrize("name", list(BUFFERS))
def test_every_byte_is_written_however_short_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, taken: int | None
) -> None:
    data = BUFFERS[name]
    calls: list[int] = []
    real_write = os.write

    def short_write(fd: int, buffer: bytes | memoryview) -> int:
        chunk = memoryview(buffer).cast("B")
        calls.append(len(chunk))
        return real_write(fd, chunk if taken is None else chunk[:taken])

    monkeypatch.setattr(fds.os, "write", short_write)
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)
    expected = bytes(data)
    assert path.read_bytes() == expected
    if not expected:
        assert calls == []  # nothing to write: no call at all
    elif taken is None:
        assert calls == [len(expected)]  # one call when the write takes everything
    else:
        assert len(calls) == -(-len(expected) // taken)
