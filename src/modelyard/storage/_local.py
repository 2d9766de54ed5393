"""A store on a local (or network-mounted POSIX) folder, with OS-level atomicity."""

from __future__ import annotations

import builtins
import errno
import os
import stat
import time
from pathlib import Path
from typing import BinaryIO

from modelyard.errors import InvalidKeyError, KeyExistsError, NotFoundError, StoreError
from modelyard.storage._atomic import StagedFile, ensure_dir
from modelyard.storage._failures import os_failures, store_error
from modelyard.storage._keys import validate_key, validate_prefix
from modelyard.storage._local_batch import LocalCreateBatch
from modelyard.storage._protocol import Data, StoreCapabilities

__all__ = ["LocalStore", "LocalStagedWrite"]

#: Temp files live here, inside the root, so that link and rename never cross filesystems.
STAGING = ".staging"


class LocalStore:
    """A :class:`~modelyard.storage.Store` on a local folder.

    ``create`` writes a private temp file and publishes it with ``os.link`` (atomic and exclusive);
    ``write`` publishes with ``os.replace``. With ``durable=True`` (the default) files and folders
    are fsynced before a call returns. Safe for threads and for processes sharing the folder.

    The folder is created if it is missing, unless ``create=False`` (then a missing folder is a
    :class:`~modelyard.errors.NotFoundError`). Failures of the file system (a full disk, a
    read-only folder) raise :class:`~modelyard.errors.StoreError` naming the key, and a failed
    write leaves no file behind.

    >>> import tempfile
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> store.create("runs/1.json", b"{}")
    >>> store.read("runs/1.json"), store.list("runs/")
    (b'{}', ['runs/1.json'])
    """

    def __init__(
        self, root: str | os.PathLike[str], *, durable: bool = True, create: bool = True
    ) -> None:
        self.root = Path(root).expanduser().absolute()
        self._root = str(self.root)
        self.durable = durable
        self._staging = self.root / STAGING
        with os_failures(location=str(self.root), key=None, action="open the folder"):
            _prepare_root(self.root, create=create)

    @property
    def capabilities(self) -> StoreCapabilities:
        return StoreCapabilities(
            atomic_create=True,
            atomic_write=True,
            shared_across_processes=True,
            durable=self.durable,
            hierarchical_keys=True,  # a file cannot also be a folder
            # A network-mounted folder is not: pass ArtifactStore(io_threads=) there.
            local=True,
        )

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalStore) and other.root == self.root

    def __hash__(self) -> int:
        return hash(("LocalStore", self.root))

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        """The file of ``key``, as a string: the registry's hot paths (a failed read, an exists)
        would spend more time building a ``Path`` than asking the filesystem."""
        validate_key(key)
        if key.split("/", 1)[0] == STAGING:
            raise InvalidKeyError(
                f"invalid storage key {key!r}: {STAGING!r} is reserved for temp files",
                key=key,
                reason="reserved",
            )
        return os.path.join(self._root, key)

    def _failures(self, key: str | None, action: str) -> os_failures:
        return os_failures(location=str(self.root), key=key, action=action)

    def _failure(self, exc: OSError, key: str | None, action: str) -> StoreError:
        return store_error(exc, location=str(self.root), key=key, action=action)

    def read(self, key: str) -> bytes:
        # Reads translate failures in except clauses rather than a with block: a missing key is
        # the registry's freshness check, the hottest path there is.
        path = self._file(key)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _missing(key) from None
        except OSError as exc:
            raise self._failure(exc, key, "read") from exc

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            if path.is_dir():
                raise IsADirectoryError(path)
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _missing(key) from None
        except OSError as exc:
            raise self._failure(exc, key, "open") from exc

    def write(self, key: str, data: Data) -> None:
        path = self._path(key)
        with self._failures(key, "write"):
            StagedFile.of(self._staging, data, durable=self.durable).replace(path, key=key)

    def write_volatile(self, key: str, data: Data) -> None:
        """``write`` without the fsyncs (see ``SupportsVolatileWrite``): lost in a crash of the
        machine, never half-written."""
        path = self._file(key)
        if isinstance(data, (bytes, bytearray, memoryview)) and len(data) == 0:
            # An empty value has no bytes to tear, so an exclusive open publishes it whole at a
            # quarter of the cost of staging (the registry writes one on every commit). A key
            # that exists, or a folder in the way, takes the general path and its errors.
            with self._failures(key, "write"):
                try:
                    os.close(_open_empty(path))
                    return
                except FileNotFoundError:
                    try:
                        ensure_dir(Path(path).parent, durable=False, key=key)
                        os.close(_open_empty(path))
                        return
                    except (FileExistsError, InvalidKeyError):
                        pass
                except (FileExistsError, NotADirectoryError, IsADirectoryError):
                    pass
        with self._failures(key, "write"):
            StagedFile.of(self._staging, data, durable=False).replace(Path(path), key=key)

    def create(self, key: str, data: Data) -> None:
        path = self._path(key)
        with self._failures(key, "create"):
            StagedFile.of(self._staging, data, durable=self.durable).link_to(path, key=key)

    def exists(self, key: str) -> bool:
        path = self._file(key)
        try:
            return stat.S_ISREG(os.stat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EBADF):
                return False  # as Path.is_file: a link loop is no file
            raise self._failure(exc, key, "look up") from exc

    def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        with self._failures(None, f"list {prefix!r} in"):
            return self._list(prefix)

    def _list(self, prefix: str) -> builtins.list[str]:
        folder = prefix.rpartition("/")[0]
        base = self.root / folder if folder else self.root
        found: builtins.list[str] = []
        stack = [(base, f"{folder}/" if folder else "")]
        while stack:
            directory, rel = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                key = rel + entry.name
                if not rel and entry.name == STAGING:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    # Descend only into folders that can hold matching keys.
                    if key.startswith(prefix) or prefix.startswith(key + "/"):
                        stack.append((Path(entry.path), key + "/"))
                elif key.startswith(prefix):
                    found.append(key)
        found.sort()
        return found

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            if path.is_dir():
                raise IsADirectoryError(path)
            os.unlink(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _missing(key) from None
        except OSError as exc:
            raise self._failure(exc, key, "delete") from exc

    def stage(self) -> LocalStagedWrite:
        """Start a write whose key is chosen when it is committed (see ``SupportsStaging``)."""
        with self._failures(None, "stage a write in"):
            return LocalStagedWrite(self)

    def create_batch(self) -> LocalCreateBatch:
        """Many creates made durable at once (see ``SupportsCreateBatch``): the files are flushed
        together, then linked, then each folder that gained one is flushed once."""
        return LocalCreateBatch(self)

    def sweep_staging(self, older_than: float = 3600.0) -> int:
        """Delete temp files left by writers that died, if older than ``older_than`` seconds.

        Returns how many were removed. Never touches a committed key.
        """
        removed = 0
        cutoff = time.time() - older_than
        try:
            entries = list(os.scandir(self._staging))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


class LocalStagedWrite:
    """A staged write into a :class:`LocalStore`: bytes go to a temp file, then get linked."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._file = StagedFile(store._staging, durable=store.durable)
        self._done = False

    def write(self, data: bytes | memoryview) -> int:
        with self._store._failures(None, "stage a write in"):
            return self._file.write(data)

    def fileno(self) -> int:
        """The temp file's descriptor while the write is open.

        For IO hints only: writeback hints such as Linux ``sync_file_range`` (large durable writes
        start flushing early instead of all at commit), or switching ``O_DIRECT`` on and off with
        ``fcntl`` for large aligned chunks. Write through :meth:`write`; never close it."""
        fd = self._file._fd
        if fd is None:
            raise ValueError("staged write already finished")
        return fd

    def commit(self, key: str) -> bool:
        try:
            path = self._store._path(key)
        except InvalidKeyError:
            self.abort()
            raise
        self._done = True
        try:
            with self._store._failures(key, "create"):
                self._file.link_to(path, key=key)
        except KeyExistsError:
            return False
        return True

    def abort(self) -> None:
        self._done = True
        with self._store._failures(None, "discard a staged write in"):
            self._file.abort()


def _prepare_root(root: Path, *, create: bool) -> None:
    location = str(root)
    # One stat, not is_dir() then exists(): another process may create the folder in between,
    # and a folder that appeared is not "a file".
    try:
        found = root.stat()
    except (FileNotFoundError, NotADirectoryError):  # the latter: a parent is a file
        found = None
    if found is not None and stat.S_ISDIR(found.st_mode):
        return
    if found is not None:
        raise StoreError(
            f"cannot open a store at {location}: it is a file, not a folder. Pass the path of a "
            "folder (it is created if missing).",
            location=location,
            errno=errno.ENOTDIR,
            reason="not a folder",
        )
    if not create:
        raise NotFoundError(
            f"no folder at {location}, and create=False: check the path, or pass create=True to "
            "start a new one there",
            location=location,
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise StoreError(
            f"cannot create a store at {location}: part of the path is a file, not a folder. "
            "Pass a path whose parents are folders.",
            location=location,
            errno=errno.ENOTDIR,
            reason="not a folder",
        ) from exc


def _missing(key: str) -> NotFoundError:
    return NotFoundError(f"no value under key {key!r}", key=key)


def _open_empty(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
