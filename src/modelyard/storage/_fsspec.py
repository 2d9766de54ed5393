"""A store on any fsspec filesystem, with create() as atomic as the filesystem allows."""

from __future__ import annotations

import builtins
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from modelyard.errors import InvalidKeyError, KeyExistsError, NotFoundError
from modelyard.storage._atomic import StagedFile
from modelyard.storage._keys import validate_key, validate_prefix
from modelyard.storage._protocol import Data, StoreCapabilities, iter_chunks, join_chunks

__all__ = ["FsspecStore"]

_STAGING = ".staging"
# fsspec's memory filesystem is one dict per process; its "xb" mode checks then writes, so creates
# are serialised here to make them exclusive between threads.
_MEMORY_LOCK = threading.Lock()
# S3 answers 409 ConditionalRequestConflict while a competing conditional write is in flight; the
# documented response is to retry, after which the loser sees 412 (the key exists).
_CONFLICT_RETRIES = 20


class FsspecStore:
    """A :class:`~modelyard.storage.Store` over any fsspec URL (``s3://bucket/prefix``, ``gcs://``,
    ``file://``, ``memory://``, ...).

    ``capabilities.atomic_create`` is declared truthfully per filesystem:

    * ``s3://``: true. ``create`` is a conditional write (``If-None-Match: *``), which S3 performs
      atomically; ``write`` is a single PUT or a multipart upload, visible only when complete.
      This needs s3fs 2024.12 or newer (``pip install 'modelyard[s3]'``); with an older s3fs the
      store is generic and says so.
    * ``file://``: true. The bytes go to a temp file that is published with ``os.link``.
    * ``memory://``: true between threads of one process (fsspec's memory filesystem is per
      process).
    * anything else: false. fsspec offers only "check, then write" there, and the registry refuses
      such a store for writes unless the caller opts in.

    >>> store = FsspecStore("memory://fsspec-store-doctest")
    >>> store.write("a/b.txt", b"hello")
    >>> store.read("a/b.txt"), store.capabilities.atomic_create
    (b'hello', True)
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec

        self.url = url
        self._options = storage_options
        if url.startswith("s3://") or url.startswith("s3a://"):
            # Listings must never come from a stale cache: a registry reads what others just wrote.
            storage_options = {"use_listings_cache": False, **storage_options}
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.fs = fs
        self._root = root.rstrip("/")
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        if "file" in protocols or "local" in protocols:
            self._kind = "local"
        elif ("s3" in protocols or "s3a" in protocols) and _has_conditional_put(fs):
            self._kind = "s3"
        elif "memory" in protocols:
            self._kind = "memory"
        else:
            self._kind = "generic"
        if self._kind == "local":
            self.fs.makedirs(self._root, exist_ok=True)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.url, self._options))

    def __repr__(self) -> str:
        return f"FsspecStore({self.url!r})"

    @property
    def capabilities(self) -> StoreCapabilities:
        kind = self._kind
        return StoreCapabilities(
            atomic_create=kind in ("local", "s3", "memory"),
            atomic_write=kind in ("local", "s3", "memory"),
            shared_across_processes=kind != "memory",
            durable=kind in ("local", "s3"),
        )

    # -- paths ---------------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        validate_key(key)
        if self._kind == "local" and key.split("/", 1)[0] == _STAGING:
            raise InvalidKeyError(
                f"invalid storage key {key!r}: {_STAGING!r} is reserved for temp files",
                key=key,
                reason="reserved",
            )
        return f"{self._root}/{key}" if self._root else key

    def _key_of(self, path: str) -> str:
        root = self._root.lstrip("/")
        path = path.lstrip("/")
        return path[len(root) + 1 :] if root else path

    # -- reads ---------------------------------------------------------------------------------

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            data: bytes = self.fs.cat_file(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _missing(key) from None
        return data

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not self.fs.isfile(path):
            raise _missing(key)
        try:
            handle: BinaryIO = self.fs.open(path, "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise _missing(key) from None
        return handle

    def exists(self, key: str) -> bool:
        return bool(self.fs.isfile(self._path(key)))

    def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        base = f"{self._root}/{folder}" if folder else self._root
        if self._kind == "s3":
            self.fs.invalidate_cache()
        try:
            paths = self.fs.find(base, withdirs=False) if base else self.fs.find("", withdirs=False)
        except FileNotFoundError:
            return []
        keys = []
        for path in paths:
            key = self._key_of(path)
            if self._kind == "local" and key.split("/", 1)[0] == _STAGING:
                continue
            if key.startswith(prefix):
                keys.append(key)
        keys.sort()
        return keys

    # -- writes --------------------------------------------------------------------------------

    def write(self, key: str, data: Data) -> None:
        path = self._path(key)
        if self._kind == "local":
            self._staged_local(data).replace(Path(path), key=key)
        elif self._kind == "memory":
            value = join_chunks(data)
            with _MEMORY_LOCK:
                self.fs.pipe_file(path, value)
        else:
            self._upload(path, data, mode="wb")

    def create(self, key: str, data: Data) -> None:
        path = self._path(key)
        if self._kind == "local":
            self._staged_local(data).link_to(Path(path), key=key)
        elif self._kind == "memory":
            value = join_chunks(data)
            with _MEMORY_LOCK:
                if self.fs.exists(path):
                    raise _exists(key)
                self.fs.pipe_file(path, value)
        elif self._kind == "s3":
            self._create_s3(path, key, data)
        else:
            # Not atomic: capabilities.atomic_create is False, and callers that need it check.
            if self.fs.exists(path):
                raise _exists(key)
            self._upload(path, data, mode="wb")

    def delete(self, key: str) -> None:
        path = self._path(key)
        if not self.fs.isfile(path):
            raise _missing(key)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            raise _missing(key) from None

    # -- helpers -------------------------------------------------------------------------------

    def _staged_local(self, data: Data) -> StagedFile:
        return StagedFile.of(Path(self._root) / _STAGING, data, durable=True)

    def _upload(self, path: str, data: Data, *, mode: str) -> None:
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.fs.pipe_file(path, bytes(data), mode="create" if mode == "xb" else "overwrite")
            return
        with self.fs.open(path, mode) as handle:
            for chunk in iter_chunks(data):
                handle.write(chunk)

    def _create_s3(self, path: str, key: str, data: Data) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            # A stream goes up as a multipart upload whose completion is conditional
            # (If-None-Match: *), so memory stays bounded whatever the size.
            try:
                with self.fs.open(path, "xb") as handle:
                    for chunk in iter_chunks(data):
                        handle.write(chunk)
            except OSError as exc:
                if _lost_race(exc):
                    raise _exists(key) from None
                raise
            return
        value = bytes(data)
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self.fs.pipe_file(path, value, mode="create")
                return
            except OSError as exc:
                if _lost_race(exc):
                    raise _exists(key) from None
                if "ConditionalRequestConflict" not in str(exc) and "409" not in str(exc):
                    raise
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(min(0.5, 0.01 * 2**attempt))


def _lost_race(exc: OSError) -> bool:
    """Whether a conditional write failed because the key exists (HTTP 412)."""
    text = str(exc)
    return isinstance(exc, FileExistsError) or "PreconditionFailed" in text or "412" in text


def _has_conditional_put(fs: Any) -> bool:
    # s3fs learned exclusive writes (pipe_file(mode="create") -> If-None-Match: *) in 2024.12;
    # older versions silently overwrite, so they must not be trusted with an atomic create.
    import inspect

    try:
        return "mode" in inspect.signature(type(fs)._pipe_file).parameters
    except (AttributeError, TypeError, ValueError):
        return False


def _rebuild(url: str, options: dict[str, Any]) -> FsspecStore:
    return FsspecStore(url, **options)


def _missing(key: str) -> NotFoundError:
    return NotFoundError(f"no value under key {key!r}", key=key)


def _exists(key: str) -> KeyExistsError:
    return KeyExistsError(
        f"key {key!r} already exists; create() never overwrites (use write() to replace)", key=key
    )
