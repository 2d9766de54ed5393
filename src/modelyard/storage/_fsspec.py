"""A store on any fsspec filesystem, with create() as atomic as the filesystem allows."""

from __future__ import annotations

import builtins
import contextlib
import inspect
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from modelyard.errors import InvalidKeyError, KeyExistsError, ModelyardError, NotFoundError
from modelyard.storage._atomic import StagedFile
from modelyard.storage._failures import remote_error, store_error, unreachable
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
# Until an S3 endpoint has answered once, requests fail fast: a wrong endpoint_url or a host that
# is down is an operator's mistake to report within a couple of seconds, not after s3fs's and
# botocore's retries, stacked, give up (7 s against a closed port). After the first answer their
# retries apply again, since a later failure is more likely transient.
_FIRST_CONTACT_CONNECT_TIMEOUT = 1.0
_FIRST_CONTACT_ATTEMPTS = 2


class FsspecStore:
    """A :class:`~modelyard.storage.Store` over any fsspec URL (``s3://bucket/prefix``, ``gcs://``,
    ``file://``, ``memory://``, ...).

    ``capabilities.atomic_create`` is declared truthfully per filesystem:

    * ``s3://``: true. ``create`` is a conditional write (``If-None-Match: *``), which S3 performs
      atomically; ``write`` is a single PUT or a multipart upload, visible only when complete.
      This needs s3fs 2024.12 or newer (``pip install 's3fs>=2024.12'``, the ``s3`` extra); with
      an older s3fs the store is generic and says so.
    * ``file://``: true. The bytes go to a temp file that is published with ``os.link``.
    * ``memory://``: true between threads of one process (fsspec's memory filesystem is per
      process).
    * anything else: false. fsspec offers only "check, then write" there, and the registry refuses
      such a store for writes unless the caller opts in.

    On S3 every primitive is one request where S3 allows it (``read``: one GET, ``exists``: one
    HEAD, ``list``: one LIST per 1,000 keys, ``create`` and ``write``: one PUT), and S3 failures
    that are an operator's to fix (a missing bucket, refused credentials, an endpoint that does
    not answer) raise :class:`~modelyard.errors.StoreError` saying so. Until the endpoint has
    answered once, requests fail fast instead of retrying for seconds.

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
        self._reached = self._kind != "s3"
        self._first_contact: Any = None
        self._first_contact_lock = threading.Lock()
        # Since s3fs 2026.2, cat_file asks for the size first (a HEAD, plus a LIST when the key is
        # missing) to download large values in parallel; one GET is what a read should cost.
        cat_file = getattr(fs, "_cat_file", None)
        self._cat_options = {"max_concurrency": 1} if _accepts(cat_file, "max_concurrency") else {}
        if self._kind == "local":
            with self._io(None, "create the folder"):
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
            # S3 (and other object stores) have flat key spaces: "a" and "a/b" live side by side.
            hierarchical_keys=kind in ("local", "memory"),
            local=kind in ("local", "memory"),
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

    # -- failures ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _io(self, key: str | None, action: str) -> Iterator[Any]:
        """Yield the filesystem for one operation; turn its failures into modelyard errors."""
        fs = self._client()
        try:
            yield fs
        except ModelyardError:
            raise
        except Exception as exc:
            if self._kind == "s3":
                if not unreachable(exc):
                    self._reached, self._first_contact = True, None
                error = remote_error(
                    exc,
                    location=self.url,
                    endpoint=self._endpoint(),
                    bucket=self._root.split("/", 1)[0],
                    key=key,
                    action=action,
                )
                if error is not None:
                    raise error from exc
            elif self._kind == "local" and isinstance(exc, OSError) and not _missing_file(exc):
                raise store_error(exc, location=self.url, key=key, action=action) from exc
            raise
        if not self._reached:
            self._reached, self._first_contact = True, None

    def _client(self) -> Any:
        if self._reached:
            return self.fs
        with self._first_contact_lock:
            fs = self._first_contact
            if fs is None:
                fs = self._first_contact = self._fast_failing_client()
            return fs

    def _fast_failing_client(self) -> Any:
        import fsspec

        options = dict(self._options)
        config = dict(options.pop("config_kwargs", None) or {})
        timeout = config.get("connect_timeout", _FIRST_CONTACT_CONNECT_TIMEOUT)
        config["connect_timeout"] = min(timeout, _FIRST_CONTACT_CONNECT_TIMEOUT)
        config["retries"] = {"max_attempts": 1}
        options = {"use_listings_cache": False, **options, "skip_instance_cache": True}
        fs, _ = fsspec.core.url_to_fs(self.url, config_kwargs=config, **options)
        fs.retries = _FIRST_CONTACT_ATTEMPTS
        return fs

    def _endpoint(self) -> str:
        client_kwargs = self._options.get("client_kwargs") or {}
        endpoint = self._options.get("endpoint_url") or client_kwargs.get("endpoint_url")
        return str(endpoint or getattr(self.fs, "endpoint_url", None) or "the AWS S3 endpoint")

    # -- reads ---------------------------------------------------------------------------------

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            with self._io(key, "read") as fs:
                if self._kind == "s3":
                    data: bytes = fs.cat_file(path, **self._cat_options)
                else:
                    data = fs.cat_file(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _missing(key) from None
        return data

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            with self._io(key, "open") as fs:
                if self._kind != "s3" and not fs.isfile(path):
                    raise _missing(key)
                # On S3, opening asks for the value's size and ETag (one HEAD), which also tells
                # a missing key or a folder; the reads then pin that ETag (If-Match), so a
                # concurrent write can never mix two values into one stream.
                handle: BinaryIO = fs.open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _missing(key) from None
        if getattr(handle, "details", {}).get("type", "file") != "file":
            handle.close()
            raise _missing(key)
        return handle

    def exists(self, key: str) -> bool:
        path = self._path(key)
        with self._io(key, "look up") as fs:
            if self._kind == "s3":
                return self._head(fs, path)
            return bool(fs.isfile(path))

    def _head(self, fs: Any, path: str) -> bool:
        # One HEAD. fs.isfile would follow a 404 with a LIST to tell a folder from nothing, and a
        # folder is not a key here.
        bucket, key, _ = fs.split_path(path)
        try:
            fs.call_s3("head_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return False
        return True

    def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        if self._kind == "s3":
            self.fs.invalidate_cache()
            try:
                with self._io(None, f"list {prefix!r} in") as fs:
                    # One listing of exactly the keys under root/prefix (paged by S3). Listing
                    # the prefix's folder instead, as below, would cost a folder probe (HEAD and
                    # LIST) whenever it is empty.
                    paths = fs.find(self._root, withdirs=False, prefix=prefix)
            except FileNotFoundError:
                return []
        else:
            folder = prefix.rpartition("/")[0]
            base = f"{self._root}/{folder}" if folder else self._root
            try:
                with self._io(None, f"list {prefix!r} in") as fs:
                    paths = fs.find(base, withdirs=False) if base else fs.find("", withdirs=False)
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
        with self._io(key, "write") as fs:
            if self._kind == "local":
                self._staged_local(data).replace(Path(path), key=key)
            elif self._kind == "memory":
                value = join_chunks(data)
                with _MEMORY_LOCK:
                    self._check_tree(fs, key)
                    fs.pipe_file(path, value)
            else:
                self._upload(fs, path, data, mode="wb")

    def create(self, key: str, data: Data) -> None:
        path = self._path(key)
        with self._io(key, "create") as fs:
            if self._kind == "local":
                self._staged_local(data).link_to(Path(path), key=key)
            elif self._kind == "memory":
                value = join_chunks(data)
                with _MEMORY_LOCK:
                    if fs.isfile(path):
                        raise _exists(key)
                    self._check_tree(fs, key)
                    fs.pipe_file(path, value)
            elif self._kind == "s3":
                self._create_s3(fs, path, key, data)
            else:
                # Not atomic: capabilities.atomic_create is False, and callers that need it check.
                if fs.exists(path):
                    raise _exists(key)
                self._upload(fs, path, data, mode="wb")

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            with self._io(key, "delete") as fs:
                # S3 deletes a missing key without complaint, so look first: the protocol
                # promises NotFoundError for a key that is not there.
                present = self._head(fs, path) if self._kind == "s3" else fs.isfile(path)
                if not present:
                    raise _missing(key)
                fs.rm_file(path)
        except FileNotFoundError:
            raise _missing(key) from None

    # -- helpers -------------------------------------------------------------------------------

    def _check_tree(self, fs: Any, key: str) -> None:
        # fsspec's memory filesystem refuses "a/b" under a value "a" with a raw error, yet lets
        # "a" be written over the folder of "a/b"; hold it to a folder's rules, as declared.
        parts = key.split("/")
        for end in range(1, len(parts)):
            if fs.isfile(self._path("/".join(parts[:end]))):
                raise InvalidKeyError(
                    f"invalid storage key {key!r}: {'/'.join(parts[:end])!r} is a value, not a "
                    "folder; a key cannot be both a value and the folder of another key",
                    key=key,
                    reason="prefix is a value",
                )
        if fs.isdir(self._path(key)):
            raise InvalidKeyError(
                f"invalid storage key {key!r}: it is the folder of other keys; a key cannot be "
                "both a value and the folder of another key",
                key=key,
                reason="key is a folder",
            )

    def _staged_local(self, data: Data) -> StagedFile:
        return StagedFile.of(Path(self._root) / _STAGING, data, durable=True)

    def _upload(self, fs: Any, path: str, data: Data, *, mode: str) -> None:
        if isinstance(data, (bytes, bytearray, memoryview)):
            fs.pipe_file(path, bytes(data), mode="create" if mode == "xb" else "overwrite")
            return
        _stream_to(fs, path, data, mode=mode)

    def _create_s3(self, fs: Any, path: str, key: str, data: Data) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            # A stream goes up as a multipart upload whose completion is conditional
            # (If-None-Match: *), so memory stays bounded whatever the size.
            try:
                _stream_to(fs, path, data, mode="xb")
            except OSError as exc:
                if _lost_race(exc):
                    raise _exists(key) from None
                raise
            return
        value = bytes(data)
        for attempt in range(_CONFLICT_RETRIES):
            try:
                fs.pipe_file(path, value, mode="create")
                return
            except OSError as exc:
                if _lost_race(exc):
                    raise _exists(key) from None
                if "ConditionalRequestConflict" not in str(exc) and "409" not in str(exc):
                    raise
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(min(0.5, 0.01 * 2**attempt))


def _stream_to(fs: Any, path: str, data: Data, *, mode: str) -> None:
    """Upload a stream; if reading it fails, publish nothing.

    An fsspec file publishes what it holds when closed, even when leaving a ``with`` block on an
    error: a source that failed midway would leave its first part as the value. The upload is
    abandoned instead (for S3, the multipart upload is aborted).
    """
    handle = fs.open(path, mode)
    try:
        for chunk in iter_chunks(data):
            handle.write(chunk)
    except BaseException:
        with contextlib.suppress(Exception):
            handle.discard()
        handle.closed = True  # so that neither close() nor the finaliser publishes the part
        raise
    handle.close()


def _lost_race(exc: OSError) -> bool:
    """Whether a conditional write failed because the key exists (HTTP 412)."""
    text = str(exc)
    return isinstance(exc, FileExistsError) or "PreconditionFailed" in text or "412" in text


def _has_conditional_put(fs: Any) -> bool:
    # s3fs learned exclusive writes (pipe_file(mode="create") -> If-None-Match: *) in 2024.12;
    # older versions silently overwrite, so they must not be trusted with an atomic create.
    return _accepts(getattr(type(fs), "_pipe_file", None), "mode")


def _accepts(function: Any, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _missing_file(exc: OSError) -> bool:
    return isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError))


def _rebuild(url: str, options: dict[str, Any]) -> FsspecStore:
    return FsspecStore(url, **options)


def _missing(key: str) -> NotFoundError:
    return NotFoundError(f"no value under key {key!r}", key=key)


def _exists(key: str) -> KeyExistsError:
    return KeyExistsError(
        f"key {key!r} already exists; create() never overwrites (use write() to replace)", key=key
    )
