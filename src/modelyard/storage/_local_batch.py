"""Many exclusive creates into a :class:`~modelyard.storage.LocalStore`, made durable at once.

A durable ``create`` of a small file costs two flushes, of the file and of its folder, and they
are most of its time: for 5,000 files of a few KiB, 1.3 s against 0.26 s without them. A batch
writes every value to a temp file first, then makes them durable together, and only then links
them into place. Where Linux offers ``syncfs`` (flush one whole filesystem, data and metadata):

1. one ``syncfs``: every temp file's bytes are on disk;
2. each value is linked under its key (exclusive, as ``create``);
3. one more ``syncfs``: every new link and folder is on disk.

Elsewhere, or with ``MODELYARD_SYNCFS=0``, each temp file is flushed as it is written (on the
caller's threads), and after the links each folder that gained a key is flushed once, not once
per key. Either way a value is linked only after its bytes are on disk, so a crash never leaves a
torn value under a key; a crash before the commit ends may lose links, never what they point to.
``syncfs`` also flushes what other programs wrote to the same filesystem, which on a busy disk
can cost more than it saves; switch it off there.
"""

from __future__ import annotations

import builtins
import ctypes
import ctypes.util
import functools
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.storage._atomic import StagedFile, ensure_dir, folder_conflict, fsync_dir
from modelyard.storage._protocol import Data

if TYPE_CHECKING:
    from modelyard.storage._local import LocalStore

__all__ = ["LocalCreateBatch", "syncfs_enabled"]


@functools.cache
def _syncfs() -> object:
    """libc's ``syncfs``, or None where there is none (not Linux, or a libc without it)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


def syncfs_enabled() -> bool:
    """Whether a durable batch flushes the filesystem once (``syncfs``) rather than each file."""
    if os.environ.get("MODELYARD_SYNCFS", "1").strip().lower() in {"0", "false", "no", "off"}:
        return False
    return _syncfs() is not None


def _flush_filesystem(folder: Path) -> None:
    function = _syncfs()
    assert callable(function)
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if function(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(folder))
    finally:
        os.close(fd)


class LocalCreateBatch:
    """A :class:`~modelyard.storage.CreateBatch` of a :class:`LocalStore`."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._durable = store.durable
        # With syncfs everything is flushed at commit; without, each file as it is written.
        self._syncfs = self._durable and syncfs_enabled()
        self._staged: list[tuple[str, str, StagedFile]] = []
        self._lock = threading.Lock()
        self._finished = False
        with store._failures(None, "stage a batch of creates in"):
            store._staging.mkdir(parents=True, exist_ok=True)

    def create(self, key: str, data: Data) -> None:
        path = self._store._file(key)  # a string: a Path per value would cost more than the link
        self._check_open()
        with self._store._failures(key, "create"):
            staged = StagedFile.of(
                self._store._staging, data, durable=self._durable and not self._syncfs, made=True
            )
            staged.close()
        with self._lock:
            if self._finished:
                staged.abort()
                self._check_open()
            self._staged.append((key, path, staged))

    def _check_open(self) -> None:
        if self._finished:
            raise ValueError("this batch is finished (committed or aborted); start a new one")

    def commit(self) -> builtins.list[str]:
        with self._lock:
            self._check_open()
            self._finished = True
            staged, self._staged = self._staged, []
        existed: list[str] = []
        try:
            if staged and self._syncfs:
                self._flush_filesystem()
            folders: dict[str, None] = {}
            for key, path, file in staged:
                with self._store._failures(key, "create"):
                    if not self._link(key, path, file, folders):
                        existed.append(key)
            if folders and self._syncfs:
                self._flush_filesystem()
            elif self._durable:
                for folder in folders:
                    with self._store._failures(None, f"flush the folder {folder!r} in"):
                        fsync_dir(Path(folder))
        finally:
            for _, _, file in staged:
                file.abort()
        return existed

    def _flush_filesystem(self) -> None:
        with self._store._failures(None, "flush a batch of creates in"):
            _flush_filesystem(self._store._staging)

    def _link(self, key: str, path: str, file: StagedFile, folders: dict[str, None]) -> bool:
        """Link one value; ``folders`` collects the folders that gained a key."""
        folder = os.path.dirname(path)
        if folder not in folders:
            # A new folder is flushed by the closing syncfs, or here without one.
            ensure_dir(Path(folder), durable=self._durable and not self._syncfs, key=key)
        try:
            os.link(file.path, path)
        except FileExistsError:
            if os.path.isdir(path):
                raise folder_conflict(key) from None
            return False
        folders[folder] = None
        return True

    def abort(self) -> None:
        with self._lock:
            self._finished = True
            staged, self._staged = self._staged, []
        with self._store._failures(None, "discard a batch of creates in"):
            for _, _, file in staged:
                file.abort()
