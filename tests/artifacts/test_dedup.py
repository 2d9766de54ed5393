"""Dedup of large content through the size index: unchanged bytes are hashed, never written."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from modelyard.artifacts import ArtifactStore, _writing
from modelyard.storage import Store

MIB = 1024 * 1024
SIZE = 2 * MIB + 17  # above the index threshold, not a multiple of the pipeline's chunk


class Passes:
    """Counts the passes over content (each ``copy_hashing`` call) and the blobs staged."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hash_only = 0
        self.written = 0
        real = _writing.copy_hashing

        def counting(source: Any, write: Any, **kwargs: Any) -> tuple[str, int]:
            if write is None:
                self.hash_only += 1
            else:
                self.written += 1
            return real(source, write, **kwargs)

        monkeypatch.setattr(_writing, "copy_hashing", counting)

    def take(self) -> tuple[int, int]:
        seen = (self.hash_only, self.written)
        self.hash_only = self.written = 0
        return seen


def _file(path: Path, seed: int, size: int = SIZE) -> Path:
    path.write_bytes(hashlib.shake_256(str(seed).encode()).digest(size))
    return path


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_unnamed_put_of_a_stored_file_only_hashes(
    any_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = ArtifactStore(any_store)
    passes = Passes(monkeypatch)
    first = _file(tmp_path / "a.bin", 1)

    ref = artifacts.put(first)
    assert passes.take() == (0, 1)  # a size never stored: written while hashed, one pass
    assert any_store.list("sizes/") == [f"sizes/{SIZE}"]

    copy = tmp_path / "copy.bin"
    copy.write_bytes(first.read_bytes())
    again = artifacts.put(copy)  # same bytes, another path, no name: no hint but the size
    assert passes.take() == (1, 0)
    assert again.digest == ref.digest == _sha(first)
    assert len(any_store.list("blobs/")) == 1

    other = _file(tmp_path / "b.bin", 2)  # same size, other bytes: hashed, then written
    changed = artifacts.put(other)
    assert passes.take() == (1, 1)
    assert changed.digest == _sha(other)
    assert len(any_store.list("blobs/")) == 2
    assert artifacts.get(changed, dest=tmp_path / "out").read_bytes() == other.read_bytes()
    assert artifacts.verify().ok


def test_small_content_gets_no_size_marker(any_store: Store, tmp_path: Path) -> None:
    artifacts = ArtifactStore(any_store)
    artifacts.put(_file(tmp_path / "small.bin", 3, size=MIB - 1))
    artifacts.put(b"x" * 1000)
    assert any_store.list("sizes/") == []


def test_a_missing_marker_only_costs_a_write(
    any_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer killed between publishing the blob and its marker leaves no marker behind.
    artifacts = ArtifactStore(any_store)
    source = _file(tmp_path / "a.bin", 4)
    ref = artifacts.put(source)
    any_store.delete(f"sizes/{SIZE}")
    passes = Passes(monkeypatch)
    assert artifacts.put(source).digest == ref.digest
    assert passes.take() == (0, 1)
    assert any_store.list("sizes/") == [f"sizes/{SIZE}"]  # healed
    assert len(any_store.list("blobs/")) == 1


def test_large_bytes_already_stored_are_not_written_again(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = ArtifactStore(any_store)
    data = os.urandom(SIZE)
    ref = artifacts.put(data)
    staged: list[str] = []
    real = _writing.open_target
    monkeypatch.setattr(
        _writing,
        "open_target",
        lambda store, **options: staged.append("x") or real(store, **options),
    )
    assert artifacts.put(bytearray(data)).digest == ref.digest
    assert staged == []
    other = bytes(reversed(data))
    assert artifacts.get(artifacts.put(other)) == other
    assert staged == ["x"]


def test_directory_files_use_the_size_index(
    any_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = ArtifactStore(any_store)
    shared = _file(tmp_path / "weights.bin", 5)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(shared.read_bytes())
    (folder / "config.json").write_text("{}")
    artifacts.put(shared, name="weights")
    passes = Passes(monkeypatch)
    tree = artifacts.put(folder, name="model")  # another name: no previous version to hint
    # The large file hashed only; the small one is read whole and stored with one create, not
    # streamed.
    assert passes.take() == (1, 0)
    assert len(any_store.list("blobs/")) == 3  # weights, config, tree listing
    out = artifacts.get(tree, dest=tmp_path / "out")
    assert (out / "weights.bin").read_bytes() == shared.read_bytes()


def test_gc_removes_markers_of_sizes_no_blob_has(any_store: Store, tmp_path: Path) -> None:
    artifacts = ArtifactStore(any_store)
    kept = artifacts.put(_file(tmp_path / "a.bin", 6), name="kept")
    artifacts.put(_file(tmp_path / "b.bin", 7, size=3 * MIB))
    assert len(any_store.list("sizes/")) == 2
    dry = artifacts.gc(grace=timedelta(0), dry_run=True, keep_named=True)
    assert len(dry.blobs) == 1 and len(any_store.list("sizes/")) == 2
    artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=True)
    assert any_store.list("sizes/") == [f"sizes/{SIZE}"]
    out = artifacts.get(kept, dest=tmp_path / "out")
    assert out.read_bytes() == (tmp_path / "a.bin").read_bytes()


@pytest.mark.slow
@pytest.mark.s3
def test_size_index_on_s3(
    s3_url: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.storage import FsspecStore

    store = FsspecStore(s3_url, endpoint_url=s3_endpoint, key="testing", secret="testing")
    artifacts = ArtifactStore(store)
    source = _file(tmp_path / "a.bin", 8)
    ref = artifacts.put(source)
    passes = Passes(monkeypatch)
    assert artifacts.put(source).digest == ref.digest
    assert passes.take() == (1, 0)
    assert store.list("sizes/") == [f"sizes/{SIZE}"]
    artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=False)
    assert store.list("sizes/") == [] and store.list("blobs/") == []
