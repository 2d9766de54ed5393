"""OS-level atomic file operations shared by the local stores.

Why temp file + link/replace: a reader must never see a half-written value and an exclusive create
must have exactly one winner. Writing the bytes to a private temp file first and then publishing
them with one atomic directory operation gives both: ``os.link`` fails with ``EEXIST`` if the target
exists (an atomic exclusive create, unlike ``exists()`` followed by ``open()``), and ``os.replace``
swaps the directory entry in one step. A writer killed midway leaves only its temp file behind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from modelyard._internal.fds import write_all
from modelyard.errors import InvalidKeyError, KeyExistsError
from modelyard.storage._protocol import Data, iter_chunks

__all__ = ["StagedFile", "ensure_dir", "folder_conflict", "fsync_dir", "write_new"]

# O_CLOEXEC keeps temp-file descriptors out of child processes started while a write is in flight.
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk, so a rename or link inside it survives a crash."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path, *, durable: bool, key: str) -> None:
    """Create ``path`` and missing parents; fsync each parent that gained an entry."""
    if path.is_dir():
        return
    missing = []
    probe = path
    while not probe.is_dir() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():  # else another writer created it first: fine
                raise _value_conflict(key) from None
        except NotADirectoryError:
            raise _value_conflict(key) from None
        else:
            if durable:
                fsync_dir(folder.parent)


def _value_conflict(key: str) -> InvalidKeyError:
    return _conflict(key, "part of it is a value, not a folder", "prefix is a value")


def _conflict(key: str, what: str, reason: str) -> InvalidKeyError:
    return InvalidKeyError(
        f"invalid storage key {key!r}: {what}; a key cannot be both a value and the folder of "
        "another key",
        key=key,
        reason=reason,
    )


def write_new(path: str, data: Data) -> None:
    """A new file at ``path`` holding ``data``, not flushed; nothing is left if writing fails."""
    fd = os.open(path, _OPEN_FLAGS, 0o644)
    try:
        try:
            if isinstance(data, bytes):
                # Whole: a folder's small files come here one by one, and chunking them would
                # cost more than their write.
                write_all(fd, data)
            else:
                for chunk in iter_chunks(data):
                    write_all(fd, chunk)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise


class StagedFile:
    """Bytes written to a private temp file, then published under a key atomically."""

    def __init__(self, staging_dir: Path, *, durable: bool) -> None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        self._durable = durable
        self.path = staging_dir / f"{uuid.uuid4().hex}.tmp"
        self._fd: int | None = os.open(self.path, _OPEN_FLAGS, 0o644)
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        assert self._fd is not None, "staged file already closed"
        write_all(self._fd, data)
        self.size += len(data)
        return len(data)

    @classmethod
    def of(cls, staging_dir: Path, data: Data, *, durable: bool) -> StagedFile:
        """A staged file holding ``data``; nothing is left behind if writing it fails."""
        staged = cls(staging_dir, durable=durable)
        try:
            for chunk in iter_chunks(data):
                staged.write(chunk)
        except BaseException:
            staged.abort()
            raise
        return staged

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                if self._durable:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def link_to(self, target: Path, *, key: str) -> None:
        """Publish under ``target`` only if it does not exist; else :class:`KeyExistsError`."""
        # Every step before the link can fail (the final fsync, making the parent folders on a
        # full disk): the temp file goes in all cases, so a failed call leaves nothing behind.
        try:
            self._close()
            ensure_dir(target.parent, durable=self._durable, key=key)
            try:
                os.link(self.path, target)
            except FileExistsError:
                if target.is_dir():
                    raise folder_conflict(key) from None
                raise KeyExistsError(
                    f"key {key!r} already exists; create() never overwrites (use write() to "
                    "replace)",
                    key=key,
                ) from None
        finally:
            self.abort()
        self._flush_published(target)

    def replace(self, target: Path, *, key: str) -> None:
        """Publish under ``target``, replacing any previous value in one atomic step."""
        try:
            self._close()
            ensure_dir(target.parent, durable=self._durable, key=key)
            try:
                os.replace(self.path, target)
            except (IsADirectoryError, PermissionError) as exc:
                if target.is_dir():
                    raise folder_conflict(key) from exc
                raise
        finally:
            self.abort()
        self._flush_published(target)

    def _flush_published(self, target: Path) -> None:
        if not self._durable:
            return
        try:
            fsync_dir(target.parent)
        except OSError as exc:
            # The value is in place and whole; only its survival of a power loss is in doubt.
            raise OSError(
                exc.errno,
                f"the value was published but flushing its folder failed ({exc.strerror}); it "
                "may not survive a power loss",
            ) from exc

    def abort(self) -> None:
        try:
            self._close()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def folder_conflict(key: str) -> InvalidKeyError:
    return _conflict(key, "it is the folder of other keys", "key is a folder")
