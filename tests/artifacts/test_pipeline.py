"""The hash-while-copying pipeline: order, digests and errors, on chunks small enough to be fast."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from modelyard.artifacts import _pipeline


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pipeline, "CHUNK", 1000)


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 25_017])
def test_copy_writes_every_byte_in_order_and_hashes_them(size: int) -> None:
    data = hashlib.shake_256(b"pipeline").digest(size)
    out = bytearray()
    threads: set[str] = set()

    def write(view: memoryview) -> None:
        threads.add(threading.current_thread().name)
        out.extend(view)

    digest, count = _pipeline.copy_hashing(io.BytesIO(data), write)
    assert bytes(out) == data and count == size
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert _pipeline.hash_stream(io.BytesIO(data)) == (digest, size)
    if size:  # written off the reading thread, so reading and writing overlap
        assert threads and threading.current_thread().name not in threads


def test_a_failed_write_is_raised_and_nothing_after_it_is_written() -> None:
    data = bytes(range(256)) * 40
    written: list[int] = []

    def write(view: memoryview) -> None:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(len(view))

    with pytest.raises(OSError, match="No space left"):
        _pipeline.copy_hashing(io.BytesIO(data), write)
    assert written == [1000, 1000]


def test_a_failed_read_stops_the_copy() -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: object) -> int:
            self.calls += 1
            if self.calls == 3:
                raise OSError(5, "Input/output error")
            memoryview(buffer).cast("B")[:10] = b"x" * 10  # type: ignore[arg-type]
            return 10

    out = bytearray()
    with pytest.raises(OSError, match="Input/output"):
        _pipeline.copy_hashing(Broken(), out.extend)  # type: ignore[arg-type]
    # Chunks still queued are dropped, and no write is still running once the error is raised
    # (the caller discards the target right after).
    assert bytes(out) in (b"", b"x" * 10, b"x" * 20)
    assert not any(t.name.startswith("modelyard-write") for t in threading.enumerate())
