"""Direct IO for large blobs: the same bytes as buffered IO, with fallback; corruption caught."""

from __future__ import annotations

import errno
import functools
import io
import mmap
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactStore, _direct, _pipeline, _reading, _targets
from modelyard.errors import InputError, IntegrityError
from modelyard.storage import LocalStore, MemoryStore

ALIGN = _direct.ALIGN


def _supports_direct(folder: Path) -> bool:
    fd = os.open(folder / ".probe", os.O_WRONLY | os.O_CREAT)
    try:
        return _direct.enable_direct(fd)
    finally:
        os.close(fd)
        os.unlink(folder / ".probe")


@pytest.fixture
def direct_dir(tmp_path: Path) -> Path:
    if not _supports_direct(tmp_path):
        pytest.skip("no direct IO on this platform or filesystem")
    return tmp_path


def _aligned_buffer(data: bytes) -> memoryview:
    buffer = mmap.mmap(-1, max(len(data), 1))
    buffer[: len(data)] = data
    return memoryview(buffer)[: len(data)]


def test_writer_goes_direct_while_aligned_then_buffered(direct_dir: Path) -> None:
    data = os.urandom(3 * ALIGN + 123)
    path = direct_dir / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    written: list[bool] = []

    def write(view: memoryview) -> None:
        while view:
            view = view[os.write(fd, view) :]

    writer = _direct.DirectWriter(fd, write)
    for start in (0, 2 * ALIGN):
        end = min(start + 2 * ALIGN, len(data))
        writer(_aligned_buffer(data[start:end]))
        written.append(writer.direct)
    os.close(fd)
    assert path.read_bytes() == data
    assert written == [True, False]  # the unaligned tail switched the descriptor back


def test_writer_falls_back_for_unaligned_memory(direct_dir: Path) -> None:
    data = os.urandom(2 * ALIGN)
    path = direct_dir / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    writer = _direct.DirectWriter(fd, lambda view: os.write(fd, view))
    writer(memoryview(b"\0" + data)[1:])  # right length, address off by one: never EINVAL
    os.close(fd)
    assert not writer.direct and path.read_bytes() == data


def test_writer_retries_buffered_when_the_device_refuses_direct_io(direct_dir: Path) -> None:
    data = os.urandom(2 * ALIGN)
    path = direct_dir / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    calls: list[int] = []

    def write(view: memoryview) -> None:
        calls.append(len(view))
        if len(calls) == 1:  # what a device with 64 KiB blocks answers, having written nothing
            raise OSError(errno.EINVAL, "Invalid argument")
        os.write(fd, view)

    writer = _direct.DirectWriter(fd, write)
    writer(_aligned_buffer(data))
    os.close(fd)
    assert calls == [len(data), len(data)] and not writer.direct
    assert path.read_bytes() == data


def test_a_real_error_is_not_retried(direct_dir: Path) -> None:
    fd = os.open(direct_dir / "out.bin", os.O_WRONLY | os.O_CREAT)

    def write(view: memoryview) -> None:
        os.write(fd, view[:ALIGN])  # part of the chunk landed: retrying would duplicate it
        raise OSError(errno.EINVAL, "Invalid argument")

    writer = _direct.DirectWriter(fd, write)
    with pytest.raises(OSError):
        writer(_aligned_buffer(os.urandom(2 * ALIGN)))
    os.close(fd)


def test_reader_reads_every_byte_of_an_uncached_file(direct_dir: Path) -> None:
    data = os.urandom(5 * ALIGN + 77)
    path = direct_dir / "blob.bin"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    reader = _direct.DirectReader(os.open(path, os.O_RDONLY | os.O_DIRECT), len(data))
    buffer = mmap.mmap(-1, 2 * ALIGN)
    out = bytearray()
    while count := reader.readinto(buffer):
        out += buffer[:count]
    reader.close()
    assert bytes(out) == data


def test_open_direct_only_for_large_regular_files(direct_dir: Path) -> None:
    assert _direct.open_direct(io.BytesIO(b"x" * 100), at_least=0) is None
    path = direct_dir / "small.bin"
    path.write_bytes(b"x" * 100)
    with open(path, "rb") as handle:
        assert _direct.open_direct(handle) is None  # below the size threshold


def test_get_through_direct_reads_and_writes(
    direct_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks and no size threshold, so that a small file takes the paths large ones do.
    monkeypatch.setattr(_pipeline, "CHUNK", 2 * ALIGN)
    monkeypatch.setattr(_reading, "open_direct", functools.partial(_direct.open_direct, at_least=0))
    artifacts = ArtifactStore(LocalStore(direct_dir / "s"))
    source = direct_dir / "w.bin"
    data = os.urandom(7 * ALIGN + 5)
    source.write_bytes(data)
    ref = artifacts.put(source)
    assert artifacts.get(ref, dest=direct_dir / "out").read_bytes() == data
    assert artifacts.verify().ok
    blob = direct_dir / "s" / "blobs" / "sha256" / ref.digest[7:9] / ref.digest[9:]
    damaged = bytearray(data)
    damaged[3 * ALIGN] ^= 0x01
    blob.write_bytes(bytes(damaged))
    with open(blob, "rb") as handle:  # out of the page cache, so the direct path reads it
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        assert _direct.open_direct(handle, at_least=0) is not None
    with pytest.raises(IntegrityError):
        artifacts.get(ref, dest=direct_dir / "bad")
    assert not (direct_dir / "bad").exists()  # the folder made for it is gone again


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every use of direct IO and early writeback by puts and gets."""
    used: list[str] = []
    real_enable = _direct.enable_direct
    real_open = _reading.open_direct

    def enable(fd: int) -> bool:
        used.append("O_DIRECT")
        return real_enable(fd)

    def open_direct(source: object, **options: object) -> object:
        used.append("reader")
        return real_open(source, at_least=0)  # type: ignore[arg-type]

    monkeypatch.setattr(_direct, "enable_direct", enable)
    monkeypatch.setattr(_reading, "open_direct", open_direct)
    monkeypatch.setattr(_targets, "Writeback", _recording_writeback(used))
    return used


def _recording_writeback(used: list[str]) -> type:
    class Recording(_targets.Writeback):
        def wrote(self, count: int) -> None:
            used.append("writeback")
            super().wrote(count)

    return Recording


def _round_trip(artifacts: ArtifactStore, folder: Path) -> None:
    source = folder / "w.bin"
    data = os.urandom(3 * ALIGN + 5)
    source.write_bytes(data)
    ref = artifacts.put(source)
    assert artifacts.get(ref, dest=folder / "out").read_bytes() == data
    assert artifacts.verify().ok


@pytest.mark.parametrize(
    ("argument", "environment", "expected"),
    [
        (None, None, True),
        (None, "0", False),
        (None, "off", False),
        (None, "1", True),
        (False, "1", False),
        (True, "0", True),
    ],
)
def test_direct_io_setting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argument: bool | None,
    environment: str | None,
    expected: bool,
) -> None:
    if environment is None:
        monkeypatch.delenv(_direct.DIRECT_IO_ENV, raising=False)
    else:
        monkeypatch.setenv(_direct.DIRECT_IO_ENV, environment)
    artifacts = ArtifactStore(LocalStore(tmp_path / "s"), direct_io=argument)
    assert artifacts.direct_io is expected
    used = _spy(monkeypatch)
    _round_trip(artifacts, tmp_path)
    assert bool(used) is expected


def test_a_bad_direct_io_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_DIRECT_IO", "maybe")
    with pytest.raises(InputError, match="MODELYARD_DIRECT_IO"):
        ArtifactStore(MemoryStore())
    with pytest.raises(InputError, match="direct_io"):
        ArtifactStore(MemoryStore(), direct_io="yes")  # type: ignore[arg-type]


def test_a_filesystem_that_refuses_o_direct_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    real = fcntl.fcntl

    def refusing(fd: int, command: int, *args: object) -> object:
        if command == fcntl.F_SETFL and args and int(args[0]) & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")  # what tmpfs answered before 6.6
        return real(fd, command, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(fcntl, "fcntl", refusing)
    monkeypatch.setattr(_pipeline, "CHUNK", 2 * ALIGN)
    monkeypatch.setattr(_targets, "WRITEBACK_EVERY", ALIGN)
    _round_trip(ArtifactStore(LocalStore(tmp_path / "s"), direct_io=True), tmp_path)


def test_tmpfs_works_with_direct_io_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no tmpfs at /dev/shm")
    monkeypatch.setattr(_pipeline, "CHUNK", 2 * ALIGN)
    folder = Path(tempfile.mkdtemp(dir=shm))
    try:
        _round_trip(ArtifactStore(LocalStore(folder / "s"), direct_io=True), folder)
    finally:
        shutil.rmtree(folder)


def test_no_proc_and_another_platform_fall_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_direct, "_PROC_FD", str(tmp_path / "no-proc" / "{}"))
    with open(__file__, "rb") as handle:
        assert _direct.open_direct(handle, at_least=0) is None
    _round_trip(ArtifactStore(LocalStore(tmp_path / "a"), direct_io=True), tmp_path)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(_direct, "_O_DIRECT", 0)
    with open(__file__, "rb") as handle:
        assert _direct.open_direct(handle, at_least=0) is None
    fd = os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT)
    try:
        assert _direct.enable_direct(fd) is False
    finally:
        os.close(fd)
    _round_trip(ArtifactStore(LocalStore(tmp_path / "b"), direct_io=True), tmp_path / "b")
