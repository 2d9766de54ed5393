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
import contextlib
import ctypes
import ctypes.util
import functools
import itertools
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard._internal.switches import env_switch
from modelyard.storage._atomic import ensure_dir, folder_conflict, fsync_dir, write_new
from modelyard.storage._protocol import Data

if TYPE_CHECKING:
    from modelyard.storage._local import LocalStore

__all__ = ["LocalCreateBatch", "syncfs_enabled"]


@functools.cache
def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except (OSError, TypeError):
        return None


@functools.cache
def _syncfs() -> object:
    """libc's ``syncfs``, or None where there is none (not Linux, or a libc without it)."""
    function = getattr(_libc(), "syncfs", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


@functools.cache
def _renameat2() -> Any:
    """libc's ``renameat2``, which renames without replacing (``RENAME_NOREPLACE``): one call
    instead of a link and an unlink. None where there is none."""
    function = getattr(_libc(), "renameat2", None)
    if function is None:
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
#: Files flushed at once when a batch has no syncfs: each fsync waits on the disk, not the CPU.
_FSYNC_THREADS = 8


def syncfs_enabled() -> bool:
    """Whether a durable batch flushes the filesystem once (``syncfs``) rather than each file."""
    wanted = env_switch("MODELYARD_SYNCFS", off="flush each file of a batch, not the filesystem")
    return wanted and _syncfs() is not None


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


def _flush_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalCreateBatch:
    """A :class:`~modelyard.storage.CreateBatch` of a :class:`LocalStore`."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._durable = store.durable
        self._syncfs = self._durable and syncfs_enabled()
        # (key, its file, the temp file holding its value)
        self._staged: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._finished = False
        self._temp = os.path.join(store._staging, f"{uuid.uuid4().hex}-")
        self._count = itertools.count()
        with store._failures(None, "stage a batch of creates in"):
            store._staging.mkdir(parents=True, exist_ok=True)

    def create(self, key: str, data: Data) -> None:
        path = self._store._file(key)  # a string: a Path per value would cost more than the link
        self._check_open()
        temp = f"{self._temp}{next(self._count)}.tmp"
        with self._store._failures(key, "create"):
            write_new(temp, data)
        with self._lock:
            if self._finished:
                _discard(temp)
                self._check_open()
            self._staged.append((key, path, temp))

    def _check_open(self) -> None:
        if self._finished:
            raise ValueError("this batch is finished (committed or aborted); start a new one")

    def commit(self) -> builtins.list[str]:
        with self._lock:
            self._check_open()
            self._finished = True
            staged, self._staged = self._staged, []
        existed: list[str] = []
        published = 0
        try:
            if staged and self._durable:
                self._flush_values([temp for _, _, temp in staged])
            folders: dict[str, None] = {}
            for key, path, temp in staged:
                with self._store._failures(key, "create"):
                    if not self._publish(key, path, temp, folders):
                        existed.append(key)
                published += 1
            if folders and self._syncfs:
                self._flush_filesystem()
            elif folders and self._durable:
                for folder in folders:
                    with self._store._failures(None, f"flush the folder {folder!r} in"):
                        fsync_dir(Path(folder))
        finally:
            for _, _, temp in staged[published:]:
                _discard(temp)
        return existed

    def _flush_values(self, temps: builtins.list[str]) -> None:
        """Every value's bytes on disk before the first is published."""
        if self._syncfs:
            self._flush_filesystem()
            return
        with (
            self._store._failures(None, "flush a batch of creates in"),
            ThreadPoolExecutor(_FSYNC_THREADS, thread_name_prefix="modelyard-fsync") as pool,
        ):
            for _ in pool.map(_flush_file, temps):
                pass

    def _flush_filesystem(self) -> None:
        with self._store._failures(None, "flush a batch of creates in"):
            _flush_filesystem(self._store._staging)

    def _publish(self, key: str, path: str, temp: str, folders: dict[str, None]) -> bool:
        """Move one value under its key unless the key exists (then drop it); ``folders``
        collects the folders that gained a key."""
        folder = os.path.dirname(path)
        if folder not in folders:
            # A new folder is flushed with the others: by the closing syncfs, or here.
            ensure_dir(Path(folder), durable=self._durable and not self._syncfs, key=key)
        if _rename_noreplace(temp, path):
            folders[folder] = None
            return True
        try:
            os.link(temp, path)
        except FileExistsError:
            if os.path.isdir(path):
                raise folder_conflict(key) from None
            return False
        finally:
            _discard(temp)
        folders[folder] = None
        return True

    def abort(self) -> None:
        with self._lock:
            self._finished = True
            staged, self._staged = self._staged, []
        with self._store._failures(None, "discard a batch of creates in"):
            for _, _, temp in staged:
                _discard(temp)


def _rename_noreplace(temp: str, path: str) -> bool:
    """Rename ``temp`` to ``path`` if nothing is there; False if the filesystem cannot (or
    something is there: the caller's link then says which)."""
    function = _renameat2()
    if function is None:
        return False
    done = function(_AT_FDCWD, os.fsencode(temp), _AT_FDCWD, os.fsencode(path), _RENAME_NOREPLACE)
    return bool(done == 0)


def _discard(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
