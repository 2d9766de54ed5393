"""LocalStore's batched creates: the bytes reach the disk before any key is linked, each folder
that gained a key is flushed once, and a failure or a killed process leaves only whole values.

The promises every batching store keeps are checked by the conformance suite; these are the local
store's own: how it flushes, and what it leaves behind."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import modelyard.storage._atomic as atomic
import modelyard.storage._local_batch as local_batch
from modelyard.errors import InputError, InvalidKeyError, StoreError
from modelyard.storage import LocalStore, SupportsCreateBatch
from modelyard.storage._local import STAGING


class Flushes:
    """Counts file flushes, folder flushes and filesystem flushes while installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, syncfs: bool) -> None:
        self.count: Counter[str] = Counter()
        real_fsync = os.fsync
        counted = self.count

        def fsync(fd: int) -> None:
            counted["file"] += 1
            real_fsync(fd)

        def fsync_dir(path: Path) -> None:
            counted[str(path)] += 1
            fd = os.open(path, os.O_RDONLY)
            try:
                real_fsync(fd)
            finally:
                os.close(fd)

        def syncfs_offered(fd: int) -> int:
            counted["syncfs"] += 1
            os.sync()
            return 0

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(atomic, "fsync_dir", fsync_dir)
        monkeypatch.setattr(local_batch, "fsync_dir", fsync_dir)
        offered = syncfs_offered if syncfs else None
        monkeypatch.setattr(local_batch, "_syncfs", lambda: offered)

    def folders(self) -> dict[str, int]:
        return {k: v for k, v in self.count.items() if k not in {"file", "syncfs"}}


def _values(count: int, folders: int) -> dict[str, bytes]:
    return {f"blobs/{i % folders}/{i:04d}": i.to_bytes(2, "big") * 300 for i in range(count)}


def test_the_local_store_batches(tmp_path: Path) -> None:
    assert isinstance(LocalStore(tmp_path), SupportsCreateBatch)


def test_with_syncfs_a_batch_flushes_the_filesystem_twice_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)
    flushes = Flushes(monkeypatch, syncfs=True)
    batch = store.create_batch()
    for key, value in _values(200, 4).items():  # into 4 new folders
        batch.create(key, value)
    assert batch.commit() == []
    assert flushes.count == {"syncfs": 2}
    assert len(store.list("blobs/")) == 200


def test_without_syncfs_each_file_then_each_folder_is_flushed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)
    for folder in range(3):
        store.create(f"blobs/{folder}/seed", b"makes the folder exist")
    flushes = Flushes(monkeypatch, syncfs=False)
    seen_at_first_link: list[int] = []
    real_publish = local_batch._rename_noreplace

    def publish(temp: str, path: str) -> bool:
        seen_at_first_link.append(flushes.count["file"])
        return real_publish(temp, path)

    monkeypatch.setattr(local_batch, "_rename_noreplace", publish)
    batch = store.create_batch()
    for key, value in _values(60, 3).items():
        batch.create(key, value)
    assert flushes.count["file"] == 0  # flushed together at commit, on a pool
    batch.commit()
    assert seen_at_first_link[0] == 60  # every file before the first is published
    assert flushes.count["file"] == 60
    assert flushes.count["syncfs"] == 0
    assert flushes.folders() == {str(tmp_path / "blobs" / str(f)): 1 for f in range(3)}


def test_without_an_exclusive_rename_values_are_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_batch, "_renameat2", lambda: None)
    store = LocalStore(tmp_path)
    store.create("blobs/1/0001", b"first")
    values = _values(20, 2)
    batch = store.create_batch()
    for key, value in values.items():
        batch.create(key, value)
    assert batch.commit() == ["blobs/1/0001"]
    assert {k: store.read(k) for k in store.list("blobs/")} == {**values, "blobs/1/0001": b"first"}
    assert os.listdir(tmp_path / STAGING) == []


def test_syncfs_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_batch, "_syncfs", lambda: print)
    assert local_batch.syncfs_enabled()
    for off in ("0", "false", "off"):
        monkeypatch.setenv("MODELYARD_SYNCFS", off)
        assert not local_batch.syncfs_enabled()


def test_a_store_that_is_not_durable_never_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path, durable=False)
    flushes = Flushes(monkeypatch, syncfs=True)
    batch = store.create_batch()
    for key, value in _values(30, 3).items():
        batch.create(key, value)
    batch.commit()
    assert sum(flushes.count.values()) == 0
    assert len(store.list("blobs/")) == 30


def test_nothing_is_linked_before_the_bytes_are_flushed_nor_returned_before_the_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)
    seen_at_flush: list[list[str]] = []

    def syncfs(fd: int) -> int:
        seen_at_flush.append(store.list("blobs/"))
        return 0

    monkeypatch.setattr(local_batch, "_syncfs", lambda: syncfs)
    batch = store.create_batch()
    for key, value in _values(10, 2).items():
        batch.create(key, value)
    batch.commit()
    assert len(seen_at_flush) == 2
    assert seen_at_flush[0] == []  # the bytes are flushed before the first link
    assert len(seen_at_flush[1]) == 10  # and the links before the commit returns


def test_a_failed_flush_publishes_nothing_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)

    def failing(fd: int) -> int:
        return -1

    monkeypatch.setattr(local_batch, "_syncfs", lambda: failing)
    monkeypatch.setattr(local_batch.ctypes, "get_errno", lambda: 5)  # EIO
    batch = store.create_batch()
    for key, value in _values(10, 2).items():
        batch.create(key, value)
    with pytest.raises(StoreError, match="flush a batch"):
        batch.commit()
    assert store.list("") == []
    assert os.listdir(tmp_path / STAGING) == []


def test_temp_files_are_gone_after_a_commit_or_an_abort(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.create("blobs/0/0000", b"already here")
    committed = store.create_batch()
    aborted = store.create_batch()
    for key, value in _values(20, 2).items():
        committed.create(key, value)
        aborted.create(key.replace("blobs", "other"), value)
    assert len(os.listdir(tmp_path / STAGING)) == 40
    assert committed.commit() == ["blobs/0/0000"]
    aborted.abort()
    assert os.listdir(tmp_path / STAGING) == []
    assert store.list("other/") == []


def test_a_key_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.create("taken/inside", b"x")
    batch = store.create_batch()
    batch.create("taken", b"y")
    with pytest.raises(InvalidKeyError, match="folder"):
        batch.commit()
    assert os.listdir(tmp_path / STAGING) == []


def test_a_value_that_is_a_folder_of_another_key_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.create("file", b"x")
    batch = store.create_batch()
    batch.create("file/below", b"y")
    with pytest.raises(InvalidKeyError):
        batch.commit()


def _digest_key(value: bytes) -> str:
    digest = hashlib.sha256(value).hexdigest()
    return f"blobs/{digest[:2]}/{digest}"


def _committer(root: str, count: int, ready: Any) -> None:
    store = LocalStore(root)
    batch = store.create_batch()
    for i in range(count):
        value = i.to_bytes(4, "big") * 1024
        batch.create(_digest_key(value), value)
    ready.set()
    batch.commit()


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
def test_a_committer_killed_at_any_moment_leaves_only_whole_values(
    tmp_path: Path, delay: float
) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_committer, args=(str(tmp_path), 3000, ready))
    proc.start()
    assert ready.wait(120)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    store = LocalStore(tmp_path)
    for key in store.list("blobs/"):
        value = store.read(key)
        assert _digest_key(value) == key, f"{key} holds bytes that are not its value"
    time.sleep(0.01)
    store.sweep_staging(older_than=0)
    assert os.listdir(tmp_path / STAGING) == []


def test_a_misspelt_syncfs_switch_is_refused_before_a_batch_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELYARD_SYNCFS", "fasle")
    with pytest.raises(InputError, match="MODELYARD_SYNCFS='fasle' is not understood"):
        LocalStore(tmp_path).create_batch()
    assert not (tmp_path / STAGING).exists() or os.listdir(tmp_path / STAGING) == []
