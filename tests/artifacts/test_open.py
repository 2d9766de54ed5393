"""ArtifactStore.open(): the read that delivers the last byte of wrong content raises instead."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.errors import IntegrityError
from modelyard.storage import LocalStore

SIZE = 100_000


def _read_all(stream: BinaryIO) -> bytes:
    return stream.read()


def _read_exactly(stream: BinaryIO) -> bytes:
    return stream.read(SIZE)


def _read_in_pieces(stream: BinaryIO) -> bytes:
    out = b""
    while len(out) < SIZE:  # stops at SIZE: never asks for the end of the stream
        out += stream.read(min(7_000, SIZE - len(out)))
    return out


def _readinto_exact(stream: BinaryIO) -> bytes:
    buffer = bytearray(SIZE)
    view = memoryview(buffer)
    filled = 0
    while filled < SIZE:
        filled += stream.readinto(view[filled:])
    return bytes(buffer)


def _readline(stream: BinaryIO) -> bytes:
    out = b""
    while len(out) < SIZE:
        out += stream.readline()
    return out


def _iterate(stream: BinaryIO) -> bytes:
    out = b""
    for line in stream:
        out += line
        if len(out) >= SIZE:
            break
    return out


READERS: list[Callable[[BinaryIO], bytes]] = [
    _read_all,
    _read_exactly,
    _read_in_pieces,
    _readinto_exact,
    _readline,
    _iterate,
]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[ArtifactStore, Any, Path, bytes]:
    artifacts = ArtifactStore(LocalStore(tmp_path / "s"))
    data = os.urandom(SIZE - 200) + b"\n" * 200  # some lines, for readline and iteration
    ref = artifacts.put(data)
    blob = tmp_path / "s" / "blobs" / "sha256" / ref.digest[7:9] / ref.digest[9:]
    return artifacts, ref, blob, data


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
def test_every_way_of_reading_gets_the_right_bytes(
    stored: tuple[ArtifactStore, Any, Path, bytes], reader: Callable[[BinaryIO], bytes]
) -> None:
    artifacts, ref, _, data = stored
    with artifacts.open(ref) as stream:
        assert reader(stream) == data


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("where", [0, SIZE // 2, SIZE - 1])
def test_tampered_bytes_are_never_delivered_to_the_end(
    stored: tuple[ArtifactStore, Any, Path, bytes],
    reader: Callable[[BinaryIO], bytes],
    where: int,
) -> None:
    artifacts, ref, blob, data = stored
    tampered = bytearray(data)
    tampered[where] ^= 0x01
    blob.write_bytes(bytes(tampered))
    with artifacts.open(ref) as stream, pytest.raises(IntegrityError, match="corrupt"):
        reader(stream)


def test_a_shortened_or_lengthened_blob_is_caught(
    stored: tuple[ArtifactStore, Any, Path, bytes],
) -> None:
    artifacts, ref, blob, data = stored
    blob.write_bytes(data[:-1])
    with artifacts.open(ref) as stream, pytest.raises(IntegrityError):
        _read_exactly(stream)
    blob.write_bytes(data + b"extra")
    with artifacts.open(ref) as stream, pytest.raises(IntegrityError, match="more than"):
        stream.read()


def test_a_large_readinto_of_wrong_bytes_leaves_no_bytes_in_the_buffer(
    stored: tuple[ArtifactStore, Any, Path, bytes],
) -> None:
    artifacts, ref, blob, data = stored
    blob.write_bytes(bytes(reversed(data)))
    buffer = bytearray(SIZE)
    with artifacts.open(ref) as stream, pytest.raises(IntegrityError):
        stream.readinto(buffer)
    assert buffer == bytearray(SIZE)


def test_seeking_is_refused(stored: tuple[ArtifactStore, Any, Path, bytes]) -> None:
    artifacts, ref, _, _ = stored
    with artifacts.open(ref) as stream:
        assert not stream.seekable()
        with pytest.raises(io.UnsupportedOperation):
            stream.seek(SIZE - 10)


def test_a_directory_listing_is_checked_at_its_last_byte(tmp_path: Path) -> None:
    artifacts = ArtifactStore(LocalStore(tmp_path / "s"))
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    ref = artifacts.put(folder)
    with artifacts.open(ref) as stream:
        listing = stream.read()
    blob = tmp_path / "s" / "blobs" / "sha256" / ref.digest[7:9] / ref.digest[9:]
    blob.write_bytes(listing.replace(b"a.txt", b"b.txt"))
    with artifacts.open(ref) as stream, pytest.raises(IntegrityError):
        stream.read(len(listing))
