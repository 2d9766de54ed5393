"""Folders of many small files: stored and restored by a bounded pool of threads, with progress a
caller can switch off, each distinct content stored once, and a restore that leaves nothing
half-written behind (even when its process is killed)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modelyard.artifacts import ArtifactStore, Progress
from modelyard.artifacts._layout import blob_key
from modelyard.artifacts._progress import run_bounded
from modelyard.errors import InputError, IntegrityError
from modelyard.storage import LatencyStore, LocalStore, MemoryStore
from tests.artifacts import _workers


@pytest.fixture
def one_blob_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Store every file of a folder as a blob of its own, as releases before packs did."""
    monkeypatch.setenv("MODELYARD_PACK_FILES", "0")


def _tree(root: Path, count: int, *, size: int = 1000) -> Path:
    for i in range(count):
        folder = root / f"part{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:05d}.bin").write_bytes(i.to_bytes(4, "big") * (size // 4))
    return root


class Counting(MemoryStore):
    """A memory store that counts the calls made to it, by kind."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    def _count(self, kind: str) -> None:
        with self._calls_lock:
            self.calls[kind] += 1

    def create(self, key: str, data: Any) -> None:
        self._count("create")
        super().create(key, data)

    def exists(self, key: str) -> bool:
        self._count("exists")
        return super().exists(key)

    def read(self, key: str) -> bytes:
        self._count("read")
        return super().read(key)

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


def test_progress_counts_every_file_and_byte_on_the_calling_thread(tmp_path: Path) -> None:
    folder = _tree(tmp_path / "data", 40)
    artifacts = ArtifactStore(MemoryStore(), io_threads=4)
    seen: list[Progress] = []
    threads: set[int] = set()

    def progress(p: Progress) -> None:
        seen.append(p)
        threads.add(threading.get_ident())

    ref = artifacts.put(folder, progress=progress)
    assert [p.files_done for p in seen] == list(range(41))
    assert seen[0] == Progress(0, 40, 0, 40_000)
    assert seen[-1] == Progress(40, 40, 40_000, 40_000) and seen[-1].fraction == 1.0
    assert [p.bytes_done for p in seen] == sorted(p.bytes_done for p in seen)
    seen.clear()
    out = artifacts.get(ref, dest=tmp_path / "out", progress=progress)
    assert [p.files_done for p in seen] == list(range(41))
    assert seen[-1] == Progress(40, 40, 40_000, 40_000)
    assert threads == {threading.get_ident()}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.bin")) == sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*.bin")
    )


@pytest.mark.parametrize("silent", [None, False])
def test_progress_can_be_switched_off(tmp_path: Path, silent: Any) -> None:
    folder = _tree(tmp_path / "data", 5)
    artifacts = ArtifactStore(MemoryStore())
    ref = artifacts.put(folder, progress=silent)
    assert artifacts.get(ref, dest=tmp_path / "out", progress=silent).is_dir()


def test_a_progress_that_is_not_callable_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    folder = _tree(tmp_path / "data", 3)
    store = MemoryStore()
    artifacts = ArtifactStore(store)
    with pytest.raises(InputError, match="progress must be a callable"):
        artifacts.put(folder, progress=True)  # type: ignore[arg-type]
    assert store.list("") == []
    ref = artifacts.put(folder)
    with pytest.raises(InputError, match="progress must be a callable"):
        artifacts.get(ref, dest=tmp_path / "out", progress="bar")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_io_threads_must_be_a_positive_whole_number(bad: Any) -> None:
    with pytest.raises(InputError, match="io_threads"):
        ArtifactStore(MemoryStore(), io_threads=bad)


def test_io_threads_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_IO_THREADS", "3")
    assert ArtifactStore(MemoryStore()).io_threads == 3
    monkeypatch.setenv("MODELYARD_IO_THREADS", "many")
    with pytest.raises(InputError, match="MODELYARD_IO_THREADS='many'"):
        ArtifactStore(MemoryStore())
    monkeypatch.delenv("MODELYARD_IO_THREADS")
    assert ArtifactStore(LatencyStore(MemoryStore())).io_threads == 8


def test_a_local_store_moves_one_file_at_a_time_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELYARD_IO_THREADS", raising=False)
    assert ArtifactStore(LocalStore(tmp_path)).io_threads == 1
    assert ArtifactStore(MemoryStore()).io_threads == 1
    assert ArtifactStore(LatencyStore(LocalStore(tmp_path))).io_threads == 8
    assert ArtifactStore(LatencyStore(LocalStore(tmp_path), latency=0)).io_threads == 1
    assert ArtifactStore(LocalStore(tmp_path), io_threads=4).io_threads == 4
    monkeypatch.setenv("MODELYARD_IO_THREADS", "6")
    assert ArtifactStore(LocalStore(tmp_path)).io_threads == 6


def test_the_pool_size_does_not_change_what_is_stored(tmp_path: Path) -> None:
    folder = _tree(tmp_path / "data", 60)
    (folder / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # streamed, not read whole
    serial = ArtifactStore(MemoryStore(), io_threads=1)
    one = serial.manifest(serial.put(folder))
    store = MemoryStore()
    many = ArtifactStore(store, io_threads=8)
    ref = many.put(folder)
    assert many.manifest(ref).digest == one.digest
    assert many.manifest(ref).tree == one.tree
    out = many.get(ref, dest=tmp_path / "out")
    assert (out / "big.bin").read_bytes() == (folder / "big.bin").read_bytes()
    assert many.verify(ref).ok


@pytest.mark.usefixtures("one_blob_each")
def test_a_re_put_with_one_changed_file_writes_one_blob_and_asks_nothing_else(
    tmp_path: Path,
) -> None:
    folder = _tree(tmp_path / "data", 200)
    store = Counting()
    artifacts = ArtifactStore(store, io_threads=4)
    artifacts.put(folder, name="images")
    first = store.take()
    # One create per file, plus a constant (listing, manifest, name entry, lease); no lookups
    # per file.
    assert 200 <= first["create"] <= 200 + 6
    assert first["exists"] <= 6
    (folder / "part3" / "00010.bin").write_bytes(b"changed")
    blobs_before = set(store.list("blobs/"))
    ref = artifacts.put(folder, name="images")
    again = store.take()
    tree = artifacts.manifest(ref).tree
    assert tree is not None
    changed = next(e for e in tree if e.path == "part3/00010.bin")
    assert set(store.list("blobs/")) - blobs_before == {
        blob_key(changed.digest),
        blob_key(artifacts.manifest(ref).digest),  # the new listing
    }
    assert again["create"] <= 1 + 6
    assert again["exists"] <= 6
    assert again["read"] <= 6


def test_identical_files_in_one_tree_are_stored_once(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(50):
        (folder / f"{i}.txt").write_bytes(b"same bytes")
    store = Counting()
    ref = ArtifactStore(store, io_threads=8).put(folder)
    assert store.calls["create"] <= 1 + 4
    assert len(store.list("blobs/")) == 2  # the file's bytes and the listing
    out = ArtifactStore(store).get(ref, dest=tmp_path / "out")
    assert {p.read_bytes() for p in out.iterdir()} == {b"same bytes"}


def test_trees_stored_file_by_file_before_are_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tree stored one blob per file (as before packs) reads back, and a put of it with packs
    # on stores nothing of it again: only a changed file goes into a (new) pack.
    folder = _tree(tmp_path / "data", 20)
    store = MemoryStore()
    monkeypatch.setenv("MODELYARD_PACK_FILES", "0")
    artifacts = ArtifactStore(store, io_threads=1)
    ref = artifacts.put(folder, name="t")
    monkeypatch.delenv("MODELYARD_PACK_FILES")
    assert artifacts.manifest(ref).schema_version < 3
    out = ArtifactStore(store, io_threads=6).get(ref, dest=tmp_path / "out")
    for path in folder.rglob("*.bin"):
        assert (out / path.relative_to(folder)).read_bytes() == path.read_bytes()
    (folder / "part0" / "00000.bin").write_bytes(b"new")
    blobs = set(store.list("blobs/"))
    again = artifacts.manifest(artifacts.put(folder, name="t"))
    assert len(set(store.list("blobs/")) - blobs) == 2  # a pack of the new file, the listing
    assert again.packs[0].size == 3 and again.tree is not None
    assert [e.pack for e in again.tree].count(None) == 19


@pytest.mark.parametrize("packed", [True, False], ids=["packs", "one-blob-each"])
def test_a_failed_parallel_get_leaves_nothing_and_no_thread_writes_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: bool
) -> None:
    import modelyard.artifacts._packs as packs

    monkeypatch.setattr(packs, "_RUN_FILES", 5)  # 20 runs of one pack for 8 threads
    monkeypatch.setenv("MODELYARD_PACK_FILES", "1" if packed else "0")
    folder = _tree(tmp_path / "data", 100)
    store = MemoryStore()
    artifacts = ArtifactStore(store, io_threads=8)
    ref = artifacts.put(folder)
    manifest = artifacts.manifest(ref)
    assert manifest.tree is not None
    entry = manifest.tree[37]
    if packed:
        assert entry.offset is not None
        key = blob_key(manifest.packs[0].digest)
        data = bytearray(store.read(key))
        data[entry.offset] ^= 1
        store.write(key, bytes(data))
    else:
        store.write(blob_key(entry.digest), b"tampered")
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(IntegrityError):
        artifacts.get(ref, dest=dest)
    time.sleep(0.2)
    assert list(dest.iterdir()) == []


def test_the_pool_stops_at_the_first_failure_and_waits_for_what_is_in_flight() -> None:
    started: list[int] = []
    lock = threading.Lock()
    finished: list[int] = []

    def work(i: int) -> int:
        with lock:
            started.append(i)
        if i == 5:
            raise ValueError("five")
        time.sleep(0.01)
        with lock:
            finished.append(i)
        return i

    with pytest.raises(ValueError, match="five"):
        run_bounded(range(1000), work, threads=3, on_done=lambda _: None)
    count = len(started)
    time.sleep(0.1)
    assert len(started) == count < 30  # bounded: never more than twice the pool ahead
    assert sorted(finished) == sorted(i for i in started if i != 5)
    assert run_bounded(range(50), lambda i: i * 2, threads=4, on_done=lambda _: None) == [
        i * 2 for i in range(50)
    ]


@pytest.mark.skipif(sys.platform != "linux", reason="a dead writer is recognised through /proc")
def test_a_killed_get_leaves_no_half_written_tree_and_the_next_get_cleans_up(
    tmp_path: Path,
) -> None:
    root = str(tmp_path / "store")
    folder = _tree(tmp_path / "data", 200)
    artifacts = ArtifactStore(LocalStore(root))
    ref = artifacts.put(folder, name="images")
    dest = tmp_path / "out"
    dest.mkdir()
    ready = tmp_path / "ready"
    _workers.kill_when_ready(_workers.slow_get, (root, ref.id, str(dest), str(ready)), ready)
    # The tree's name never appeared: what was written sits in one hidden staging folder.
    left = list(dest.iterdir())
    assert len(left) == 1 and left[0].name.startswith(".data.") and left[0].name.endswith(".part")
    assert not (dest / "data").exists()
    out = artifacts.get(ref, dest=dest)
    assert [p.name for p in dest.iterdir()] == ["data"]
    assert len(list(out.rglob("*.bin"))) == 200


def test_a_live_writers_staging_folder_is_left_alone(tmp_path: Path) -> None:
    folder = _tree(tmp_path / "data", 3)
    artifacts = ArtifactStore(MemoryStore())
    ref = artifacts.put(folder)
    dest = tmp_path / "out"
    dest.mkdir()
    from modelyard.artifacts._materialize import _staging_name

    busy = dest / _staging_name("data")  # this (live) process's name
    busy.mkdir()
    artifacts.get(ref, dest=dest)
    assert busy.is_dir()


def _stored(store: LocalStore) -> dict[str, bytes]:
    return {key: store.read(key) for key in store.list("blobs/")}


@pytest.mark.usefixtures("one_blob_each")
def test_a_batched_put_stores_what_one_create_per_file_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _tree(tmp_path / "data", 60)
    (folder / "same.bin").write_bytes((folder / "part0" / "00000.bin").read_bytes())
    (folder / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))  # streamed, never batched
    monkeypatch.setenv("MODELYARD_BATCH_CREATE", "0")
    one_by_one = LocalStore(tmp_path / "one")
    plain = ArtifactStore(one_by_one, code_lineage=False)
    first = plain.manifest(plain.put(folder, name="files"))
    monkeypatch.delenv("MODELYARD_BATCH_CREATE")
    batched = LocalStore(tmp_path / "batched")
    artifacts = ArtifactStore(batched, code_lineage=False)
    second = artifacts.put(folder, name="files")
    assert artifacts.manifest(second).digest == first.digest
    assert artifacts.manifest(second).tree == first.tree
    assert _stored(batched) == _stored(one_by_one)
    out = artifacts.get(second, dest=tmp_path / "out")
    assert (out / "big.bin").read_bytes() == (folder / "big.bin").read_bytes()
    assert artifacts.verify(second).ok


@pytest.mark.usefixtures("one_blob_each")
def test_a_large_folder_is_committed_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelyard.artifacts._writing as writing

    monkeypatch.setattr(writing, "BATCH_FILES", 7)
    store = LocalStore(tmp_path / "store")
    made: list[Any] = []
    real = LocalStore.create_batch

    def create_batch(self: LocalStore) -> Any:
        made.append(real(self))
        return made[-1]

    monkeypatch.setattr(LocalStore, "create_batch", create_batch)
    folder = _tree(tmp_path / "data", 50)
    artifacts = ArtifactStore(store, io_threads=4, code_lineage=False)
    ref = artifacts.put(folder)
    assert len(made) == 8  # ceil(50 / 7)
    assert len(artifacts.manifest(ref).tree or ()) == 50
    assert artifacts.verify(ref).ok


@pytest.mark.usefixtures("one_blob_each")
def test_a_failed_batched_put_publishes_nothing_of_its_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelyard.artifacts._writing as writing

    real = writing.read_small
    calls = Counter[str]()

    def failing(path: Path, stamp: Any) -> bytes:
        calls["read"] += 1
        if calls["read"] == 30:
            raise OSError("the disk went away")
        return real(path, stamp)

    monkeypatch.setattr(writing, "read_small", failing)
    store = LocalStore(tmp_path / "store")
    with pytest.raises(OSError, match="went away"):
        ArtifactStore(store, io_threads=4, code_lineage=False).put(_tree(tmp_path / "data", 40))
    assert store.list("") == []
    assert os.listdir(tmp_path / "store" / ".staging") == []


def test_the_listing_is_each_entry_as_json_and_validates_on_reading(tmp_path: Path) -> None:
    from modelyard._internal.canonical import canonical_json
    from modelyard._internal.hashing import digest_bytes
    from modelyard.artifacts import TreeEntry

    artifacts = ArtifactStore(LocalStore(tmp_path / "store"), code_lineage=False)
    manifest = artifacts.manifest(artifacts.put(_tree(tmp_path / "data", 12)))
    assert manifest.tree is not None
    entries = [TreeEntry.model_validate(e.model_dump()) for e in manifest.tree]
    # Where a file is stored (its pack and offset) is not part of what the folder is.
    listing = [e.model_dump(mode="json", exclude={"pack", "offset"}) for e in entries]
    assert digest_bytes(canonical_json(listing)) == manifest.digest
    assert all(e.pack == 0 for e in entries)


def test_a_misspelt_batch_switch_is_refused_and_nothing_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELYARD_BATCH_CREATE", "of")
    store = LocalStore(tmp_path / "store")
    with pytest.raises(InputError, match="MODELYARD_BATCH_CREATE='of' is not understood"):
        ArtifactStore(store, code_lineage=False).put(_tree(tmp_path / "data", 5), name="files")
    assert store.list("") == []
