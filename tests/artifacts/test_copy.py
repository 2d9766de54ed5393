"""Copying an artifact and its lineage into another store, by content hash."""

from __future__ import annotations

import os
import threading
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from modelyard.artifacts import ArtifactStore, CopyReport
from modelyard.artifacts._layout import blob_key
from modelyard.errors import InputError, IntegrityError, NotFoundError
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock


def _store(kind: str, path: Path) -> Store:
    return MemoryStore() if kind == "memory" else LocalStore(path, durable=False)


@pytest.fixture(params=["memory", "local"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ArtifactStore, ArtifactStore]:
    other = "local" if request.param == "memory" else "memory"
    return (
        ArtifactStore(_store(request.param, tmp_path / "src")),
        ArtifactStore(_store(other, tmp_path / "dst")),
    )


def test_the_artifact_and_its_ancestors_keep_their_ids_names_and_lineage(
    pair: tuple[ArtifactStore, ArtifactStore],
) -> None:
    source, dest = pair
    raw = source.put(b"raw rows", name="raw")
    clean = source.put({"rows": [1, 2]}, name="clean", parents=[raw])
    model = source.put(b"weights", name="model", parents=[clean], metadata={"auc": 0.9})

    report = source.copy_to(dest, "model@latest")

    assert isinstance(report, CopyReport)
    assert report.ref == model and report.closure == 3
    assert report.artifacts == (raw.id, clean.id, model.id)  # parents before children
    assert report.blobs == 3 and report.bytes == len(b"raw rows") + len(b"weights") + len(
        source.store.read(blob_key(clean.digest))
    )
    assert dest.get(model.id) == b"weights" and dest.get("clean@latest") == {"rows": [1, 2]}
    assert dest.manifest(model) == source.manifest(model)
    assert [r.id for r in dest.lineage(raw, "descendants").nodes] == [raw.id, clean.id, model.id]
    assert dest.resolve("model@latest") == model
    assert dest.verify().ok


def test_only_what_the_destination_lacks_moves(pair: tuple[ArtifactStore, ArtifactStore]) -> None:
    source, dest = pair
    data = source.put(b"training data", name="data")
    first = source.put(b"weights v1", name="model", parents=[data])
    source.copy_to(dest, first)
    second = source.put(b"weights v2", name="model", parents=[data])
    shared = source.put(b"weights v1", name="model")  # same bytes as v1: its blob is there

    report = source.copy_to(dest, second)
    assert report.artifacts == (second.id,) and report.blobs == 1 and report.closure == 2
    report = source.copy_to(dest, shared)
    assert report.artifacts == (shared.id,) and report.blobs == 0 and report.bytes == 0
    again = source.copy_to(dest, second)
    assert not again.copied and again.artifacts == () and again.blobs == 0
    assert dest.find("model") == source.find("model")


def test_an_older_copy_does_not_become_the_latest_version_of_its_name(tmp_path: Path) -> None:
    clock = FakeClock()
    source = ArtifactStore(MemoryStore(), clock=clock)
    dest = ArtifactStore(MemoryStore(), clock=clock)
    old = source.put(b"old", name="model")
    clock.advance(hours=1)
    newer = dest.put(b"made there later", name="model")
    source.copy_to(dest, old)
    assert dest.resolve("model@latest") == newer
    assert [r.id for r in dest.find("model")] == [newer.id, old.id]


def test_a_directory_artifact_is_copied_file_by_file(
    pair: tuple[ArtifactStore, ArtifactStore], tmp_path: Path
) -> None:
    source, dest = pair
    folder = tmp_path / "model-dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha")
    (folder / "sub" / "b.bin").write_bytes(b"beta" * 1000)
    ref = source.put(folder, name="bundle")
    report = source.copy_to(dest, ref)
    assert report.blobs == 2  # the listing, and the pack holding both files
    out = Path(dest.get(ref, dest=tmp_path / "out"))
    assert (out / "a.txt").read_bytes() == b"alpha"
    assert (out / "sub" / "b.bin").read_bytes() == b"beta" * 1000


def test_a_tampered_blob_fails_the_copy_and_no_manifest_reaches_the_destination(
    pair: tuple[ArtifactStore, ArtifactStore],
) -> None:
    source, dest = pair
    data = source.put(b"training data", name="data")
    model = source.put(b"weights", name="model", parents=[data])
    source.store.write(blob_key(data.digest), b"training dat4")  # same size, other bytes

    with pytest.raises(IntegrityError, match=f"artifact data.*{data.digest}") as info:
        source.copy_to(dest, model)
    assert info.value.digest == data.digest
    assert dest.store.list("manifests/") == []
    assert dest.store.list("names/") == []
    assert not dest.store.exists(blob_key(data.digest))
    assert dest.store.list("leases/") == []


def test_a_missing_source_blob_is_an_integrity_error_before_any_manifest(
    pair: tuple[ArtifactStore, ArtifactStore],
) -> None:
    source, dest = pair
    model = source.put(b"weights", name="model")
    source.store.delete(blob_key(model.digest))
    with pytest.raises(IntegrityError, match="missing"):
        source.copy_to(dest, model)
    assert dest.store.list("manifests/") == []


def test_bad_references_are_refused_before_the_destination_is_touched(
    pair: tuple[ArtifactStore, ArtifactStore],
) -> None:
    source, dest = pair
    with pytest.raises(NotFoundError):
        source.copy_to(dest, "no-such-model@latest")
    with pytest.raises(NotFoundError):
        source.copy_to(dest, "sha256:" + "0" * 64)
    with pytest.raises(InputError, match="another ArtifactStore"):
        source.copy_to(dest.store, "x")  # type: ignore[arg-type]
    assert dest.store.list() == []


def test_a_copy_into_its_own_store_writes_nothing() -> None:
    store = MemoryStore()
    artifacts = ArtifactStore(store)
    ref = artifacts.put(b"weights")
    keys = store.list()
    report = artifacts.copy_to(ArtifactStore(store), ref)
    assert not report.copied and report.closure == 1
    assert store.list() == keys


class _NoWholeBlobReads(LocalStore):
    """Fails any attempt to read a blob in one piece: blobs must be streamed."""

    def read(self, key: str) -> bytes:
        assert not key.startswith("blobs/"), f"{key} was read whole"
        return super().read(key)


def test_large_blobs_are_streamed_with_bounded_memory(tmp_path: Path) -> None:
    source = ArtifactStore(_NoWholeBlobReads(tmp_path / "src", durable=False))
    dest = ArtifactStore(LocalStore(tmp_path / "dst", durable=False))
    big = tmp_path / "big.bin"
    size = 48 * 1024 * 1024
    with open(big, "wb") as handle:
        for _ in range(size // (1 << 20)):
            handle.write(os.urandom(1 << 20))
    ref = source.put(big, name="big")

    tracemalloc.start()
    try:
        report = source.copy_to(dest, ref)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.bytes == size
    assert peak < size // 4, f"copying a {size}-byte blob allocated {peak} bytes"
    assert dest.verify(ref).ok


def test_a_gc_in_the_destination_during_a_copy_collects_none_of_it(tmp_path: Path) -> None:
    """gc runs in another thread while the copy is between its blobs and its manifests."""
    source = ArtifactStore(MemoryStore())
    dest_store = LocalStore(tmp_path / "dst", durable=False)
    dest = ArtifactStore(dest_store, lease_ttl=timedelta(seconds=5))
    data = source.put(b"training data")
    model = source.put(b"weights", parents=[data])
    reports: list[Any] = []

    from modelyard.artifacts import _transfer

    real = _transfer._copy_blob

    def copy_then_collect(*args: Any) -> int:
        count = real(*args)
        worker = threading.Thread(
            target=lambda: reports.append(dest.gc(grace=timedelta(0), dry_run=False))
        )
        worker.start()
        worker.join()
        return count

    _transfer._copy_blob = copy_then_collect  # type: ignore[assignment]
    try:
        with source.transfer(dest, model) as report:
            # Inside the block the copy is still protected (a layer above records its reference
            # here): the artifacts are old by created_at and unnamed, yet gc keeps them.
            dest.gc(grace=timedelta(0), dry_run=False)
            assert dest.verify(model).ok
    finally:
        _transfer._copy_blob = real  # type: ignore[assignment]
    assert report.blobs == 2 and len(reports) == 2
    assert all(r.deferred and not r.blobs and not r.artifacts for r in reports)
    assert dest.get(model) == b"weights" and dest.verify().ok


def test_a_copy_whose_lease_lapsed_checks_again_and_refuses_if_a_gc_took_a_blob(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelyard.artifacts import _leases
    from modelyard.errors import ConcurrentModificationError

    source, dest = ArtifactStore(MemoryStore()), ArtifactStore(MemoryStore())
    ref = source.put(b"weights", name="model")
    monkeypatch.setattr(_leases.Lease, "held", lambda self: False)  # a stall past half the ttl

    def gc_ran_meanwhile(waiter: str) -> None:
        if "could not renew" in waiter:  # the wait after the stall: a gc removed the blob
            dest.store.delete(blob_key(source.manifest(ref).digest))

    monkeypatch.setattr(dest, "_wait_for_gc", gc_ran_meanwhile)
    with pytest.raises(ConcurrentModificationError, match=r"this copy stalled.*copy again"):
        source.copy_to(dest, ref)
    assert [k for k in dest.store.list() if not k.startswith("leases/")] == []


def test_a_copy_whose_lease_lapsed_but_lost_nothing_completes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelyard.artifacts import _leases

    source, dest = ArtifactStore(MemoryStore()), ArtifactStore(MemoryStore())
    ref = source.put(b"weights", name="model")
    monkeypatch.setattr(_leases.Lease, "held", lambda self: False)
    source.copy_to(dest, ref)
    assert dest.get(ref) == b"weights"
