"""Many exclusive creates into a :class:`~modelyard.storage.LocalStore`, made durable at once.

A durable ``create`` of a small file costs two flushes, of the file and of its folder, and they
are most of its time: for 5,000 files of a few KiB, 1.3 s against 0.26 s without them. A batch
writes every value to a temp file first, then makes them durable together, and only then links
them into place:

1. the temp files' bytes reach the disk: one ``syncfs`` of the store's filesystem where Linux
   offers it (set ``MODELYARD_SYNCFS=0`` to turn it off), else an ``fsync`` of each file as it
   is written, on the caller's threads;
2. each value is linked under its key (exclusive, as ``create``);
3. each folder that gained a key is flushed once, not once per key.

A value is linked only after its bytes are on disk, so a crash never leaves a torn value under a
key; a crash before step 3 ends may lose links, never what they point to.
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
        # With syncfs the files are flushed all at once at commit; without, each as written.
        self._flush_at_commit = self._durable and syncfs_enabled()
        self._staged: list[tuple[str, Path, StagedFile]] = []
        self._lock = threading.Lock()
        self._finished = False

    def create(self, key: str, data: Data) -> None:
        path = self._store._path(key)
        self._check_open()
        with self._store._failures(key, "create"):
            staged = StagedFile.of(
                self._store._staging, data, durable=self._durable and not self._flush_at_commit
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
            if staged and self._flush_at_commit:
                with self._store._failures(None, "flush a batch of creates in"):
                    _flush_filesystem(self._store._staging)
            folders: dict[Path, None] = {}
            for key, path, file in staged:
                with self._store._failures(key, "create"):
                    if not self._link(key, path, file):
                        existed.append(key)
                        continue
                folders[path.parent] = None
            if self._durable:
                for folder in folders:
                    with self._store._failures(None, f"flush the folder {folder.name!r} in"):
                        fsync_dir(folder)
        finally:
            for _, _, file in staged:
                file.abort()
        return existed

    def _link(self, key: str, path: Path, file: StagedFile) -> bool:
        ensure_dir(path.parent, durable=self._durable, key=key)
        try:
            os.link(file.path, path)
        except FileExistsError:
            if path.is_dir():
                raise folder_conflict(key) from None
            return False
        return True

    def abort(self) -> None:
        with self._lock:
            self._finished = True
            staged, self._staged = self._staged, []
        with self._store._failures(None, "discard a batch of creates in"):
            for _, _, file in staged:
                file.abort()
