"""An in-process store: the supported fake for tests and notebooks."""

from __future__ import annotations

import builtins
import io
import threading
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from modelyard.errors import InvalidKeyError, KeyExistsError, NotFoundError
from modelyard.storage._keys import validate_key, validate_prefix
from modelyard.storage._protocol import Data, StoreCapabilities, join_chunks

__all__ = ["MemoryStore"]


class MemoryStore:
    """A :class:`~modelyard.storage.Store` that keeps values in a dict, guarded by a lock.

    Safe for threads of one process; not shared with other processes (its capabilities say so).
    ``MemoryStore.named("x")`` returns the one store of that name in this process, which is what
    ``open_store("memory://x")`` gives, so two calls with one URL see the same data.

    >>> store = MemoryStore()
    >>> store.create("a/b", b"1")
    >>> store.create("a/b", b"2")
    Traceback (most recent call last):
    ...
    modelyard.errors.KeyExistsError: key 'a/b' already exists...
    >>> store.read("a/b")
    b'1'
    """

    _named: ClassVar[dict[str, MemoryStore]] = {}
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._folders: dict[str, int] = {}  # folder -> number of keys under it
        self._lock = threading.Lock()

    @classmethod
    def named(cls, name: str) -> MemoryStore:
        """The process-wide store called ``name`` (created on first use)."""
        with cls._named_lock:
            store = cls._named.get(name)
            if store is None:
                store = cls._named[name] = cls()
            return store

    @property
    def capabilities(self) -> StoreCapabilities:
        # Holds keys to a folder's rules (see _check_tree), so tests on memory behave as on disk.
        return StoreCapabilities(
            atomic_create=True,
            atomic_write=True,
            shared_across_processes=False,
            durable=False,
            hierarchical_keys=True,
            local=True,
        )

    def __repr__(self) -> str:
        return f"MemoryStore(<{len(self._data)} keys>)"

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def _check_tree(self, key: str) -> None:
        # Mirror the local filesystem, so code tested on memory behaves the same on disk.
        parts = key.split("/")
        for end in range(1, len(parts)):
            if "/".join(parts[:end]) in self._data:
                raise InvalidKeyError(
                    f"invalid storage key {key!r}: {'/'.join(parts[:end])!r} is a value, not a "
                    "folder",
                    key=key,
                    reason="prefix is a value",
                )
        if key in self._folders:
            raise InvalidKeyError(
                f"invalid storage key {key!r}: it is the folder of other keys",
                key=key,
                reason="key is a folder",
            )

    def read(self, key: str) -> bytes:
        validate_key(key)
        try:
            return self._data[key]
        except KeyError:
            raise NotFoundError(f"no value under key {key!r}", key=key) from None

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.read(key))

    def write(self, key: str, data: Data) -> None:
        validate_key(key)
        value = join_chunks(data)
        with self._lock:
            if key not in self._data:
                self._check_tree(key)
                self._add_folders(key, +1)
            self._data[key] = value

    def create(self, key: str, data: Data) -> None:
        validate_key(key)
        value = join_chunks(data)
        with self._lock:
            if key in self._data:
                raise KeyExistsError(
                    f"key {key!r} already exists; create() never overwrites (use write() to "
                    "replace)",
                    key=key,
                )
            self._check_tree(key)
            self._add_folders(key, +1)
            self._data[key] = value

    def _add_folders(self, key: str, delta: int) -> None:
        parts = key.split("/")
        for end in range(1, len(parts)):
            folder = "/".join(parts[:end])
            count = self._folders.get(folder, 0) + delta
            if count:
                self._folders[folder] = count
            else:
                del self._folders[folder]

    def exists(self, key: str) -> bool:
        validate_key(key)
        return key in self._data

    def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        with self._lock:
            return sorted(key for key in self._data if key.startswith(prefix))

    def stage(self) -> _MemoryStagedWrite:
        """Start a write whose key is chosen when it is committed (see ``SupportsStaging``)."""
        return _MemoryStagedWrite(self)

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            try:
                del self._data[key]
            except KeyError:
                raise NotFoundError(f"no value under key {key!r}", key=key) from None
            self._add_folders(key, -1)


class _MemoryStagedWrite:
    """Staged write into a :class:`MemoryStore`: buffered, then created under its key."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._buffer: io.BytesIO | None = io.BytesIO()

    def write(self, data: bytes | memoryview) -> int:
        assert self._buffer is not None, "staged write already finished"
        return self._buffer.write(data)

    def commit(self, key: str) -> bool:
        assert self._buffer is not None, "staged write already finished"
        value, self._buffer = self._buffer.getvalue(), None
        try:
            self._store.create(key, value)
        except KeyExistsError:
            return False
        return True

    def abort(self) -> None:
        self._buffer = None
