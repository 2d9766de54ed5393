"""The storage SPI: the one protocol a backend author implements."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

__all__ = [
    "Data",
    "StagedWrite",
    "Store",
    "StoreCapabilities",
    "SupportsStaging",
    "SupportsVolatileWrite",
    "iter_chunks",
    "join_chunks",
]

#: What ``write`` and ``create`` accept: bytes-like data, or a binary stream read to its end.
Data = bytes | bytearray | memoryview | BinaryIO

_CHUNK = 4 * 1024 * 1024


def iter_chunks(data: Data, chunk_size: int = _CHUNK) -> Iterator[bytes | memoryview]:
    """Yield ``data`` in chunks without copying bytes-like input."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        if len(view) == 0:
            return
        for start in range(0, len(view), chunk_size):
            yield view[start : start + chunk_size]
        return
    while chunk := data.read(chunk_size):
        yield chunk


def join_chunks(data: Data) -> bytes:
    """All of ``data`` as one ``bytes`` object (no copy when it already is one)."""
    if isinstance(data, bytes):
        return data
    return b"".join(bytes(chunk) for chunk in iter_chunks(data))


@dataclass(frozen=True)
class StoreCapabilities:
    """The guarantees a store gives. Consumers check them instead of assuming.

    Attributes:
        atomic_create: ``create`` is an atomic exclusive create: of any number of racing writers
            (threads, and processes when ``shared_across_processes``), exactly one succeeds.
            The registry refuses to write through a store without it unless told otherwise.
        atomic_write: a reader of a key being written sees the old bytes or the new bytes, never
            a mix or a prefix, even if the writer dies midway.
        shared_across_processes: other processes (and machines, for remote stores) that open the
            same location see the same keys.
        durable: once ``write`` or ``create`` returns, the data survives a crash of the machine.
        hierarchical_keys: keys are paths in a tree, as in a folder: a key is never also the
            folder of another key, and a ``write`` or ``create`` that would make it so (``"a/b"``
            while ``"a"`` holds a value, or ``"a"`` while ``"a/b"`` does) raises
            :class:`~modelyard.errors.InvalidKeyError` and writes nothing. False for a flat key
            space (S3), where ``"a"`` and ``"a/b"`` are two independent keys. modelyard never
            stores such a pair itself (its names contain no ``/``), which is what lets a yard move
            between any two stores; a store must say which of the two it is, and behave so.
        local: requests are answered by this machine (its memory, or a disk of its own) with no
            round trip to wait for, so doing several at once saves nothing: each costs a few
            short system calls, and threads only contend for the interpreter. A folder's files
            are then moved one at a time by default (see ``ArtifactStore(io_threads=)``). False
            (the default) for a store that waits on a network.
    """

    atomic_create: bool
    atomic_write: bool
    shared_across_processes: bool
    durable: bool
    hierarchical_keys: bool = True
    local: bool = False


@runtime_checkable
class Store(Protocol):
    """Byte-level key-value storage: everything else in modelyard is derived from these primitives.

    Keys are ``/``-separated relative paths (see :func:`modelyard.storage.validate_key`). Every
    method validates its key first and raises :class:`~modelyard.errors.InvalidKeyError` without
    side effects. A folder (a prefix of other keys ending at a ``/``) is not a key: reading,
    opening or deleting one is a :class:`~modelyard.errors.NotFoundError`. Whether a key may also
    be the folder of another key (``"a/b"`` and ``"a/b/c"``) is declared by
    ``capabilities.hierarchical_keys``: a local folder cannot hold both, an S3 bucket can.

    Implement this protocol (about 100 lines, see ``docs/storage.md``) and check your store with
    :class:`modelyard.testing.StoreConformance`.
    """

    @property
    def capabilities(self) -> StoreCapabilities:
        """What this store guarantees."""
        ...

    def read(self, key: str) -> bytes:
        """Return the bytes under ``key``; :class:`~modelyard.errors.NotFoundError` if absent."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open ``key`` for streaming reads (the caller closes it); ``NotFoundError`` if absent."""
        ...

    def write(self, key: str, data: Data) -> None:
        """Store ``data`` under ``key``, replacing any value: readers see old or new, not a mix."""
        ...

    def create(self, key: str, data: Data) -> None:
        """Store ``data`` under ``key`` only if the key is absent, atomically.

        Raises :class:`~modelyard.errors.KeyExistsError` (leaving the stored bytes untouched) if
        the key exists. This is the only concurrency primitive the registry needs.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a value."""
        ...

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Every key that starts with ``prefix`` (a plain string prefix, as on S3), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; :class:`~modelyard.errors.NotFoundError` if absent."""
        ...


@runtime_checkable
class StagedWrite(Protocol):
    """A write in progress whose key is chosen after the bytes are written.

    Content-addressed storage learns a blob's key (its digest) only after hashing all of it; staging
    lets it write and hash in one pass and then publish the bytes under their digest.
    """

    def write(self, data: bytes | memoryview) -> int: ...

    def commit(self, key: str) -> bool:
        """Publish the staged bytes under ``key`` with an exclusive create.

        Returns False (and discards the staged bytes) if the key already exists.
        """
        ...

    def abort(self) -> None:
        """Discard the staged bytes. Safe to call after ``commit`` (it then does nothing)."""
        ...


@runtime_checkable
class SupportsStaging(Protocol):
    """Optional extension of :class:`Store`: write first, choose the key afterwards."""

    def stage(self) -> StagedWrite: ...


@runtime_checkable
class CreateBatch(Protocol):
    """Exclusive creates of many keys, published together by :meth:`commit`.

    Many small values (the files of a folder) cost a store mostly per-value overhead: on a local
    disk, flushing each file and its folder. A batch takes the values first and pays for
    durability once for all of them.
    """

    def create(self, key: str, data: Data) -> None:
        """Take ``data`` for ``key``; nothing is visible until :meth:`commit`. Safe to call from
        several threads. An invalid key is refused here, before anything is written."""
        ...

    def commit(self) -> builtins.list[str]:
        """Publish every value as :meth:`Store.create` would (exclusive and whole), and return
        once all are as durable as ``create`` makes them.

        A key that already exists keeps its value; the keys found so are returned, in the order
        they were given. If the process dies during the commit, some keys may be published,
        each whole. The batch is finished afterwards, as after :meth:`abort`: a later
        ``create`` or ``commit`` raises :class:`ValueError` saying it is finished.
        """
        ...

    def abort(self) -> None:
        """Discard every value not yet published. Safe to call after :meth:`commit`."""
        ...


@runtime_checkable
class SupportsCreateBatch(Protocol):
    """Optional extension of :class:`Store`: many exclusive creates made durable at once.

    Used for the files of a folder artifact. Stores without this ability get one
    :meth:`Store.create` per value.
    """

    def create_batch(self) -> CreateBatch: ...


@runtime_checkable
class SupportsVolatileWrite(Protocol):
    """Optional extension of :class:`Store`: a cheaper ``write`` that may be lost in a crash.

    For data that can be rebuilt from what is stored durably (the registry's feed markers):
    atomic as ``write`` (a reader sees old or new bytes, never a mix) but not waiting for the
    data to reach stable storage, so a crash of the machine may lose it. Stores without this
    ability are written with plain ``write``.
    """

    def write_volatile(self, key: str, data: Data) -> None: ...
