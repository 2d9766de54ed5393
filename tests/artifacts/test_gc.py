"""Garbage collection: reachability, grace, dry runs; safety against concurrent and killed puts."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard.artifacts import ArtifactStore
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock
from tests.artifacts import _workers

HOUR = timedelta(hours=1)


def _keys(store: Store, prefix: str) -> set[str]:
    return set(store.list(prefix))


@pytest.fixture
def populated(mem_artifacts: ArtifactStore, clock: FakeClock) -> dict[str, object]:
    a = mem_artifacts
    refs = {}
    refs["raw"] = a.put(b"raw data", name="raw")
    refs["clean"] = a.put(b"clean data", parents=[refs["raw"]])
    refs["model"] = a.put(b"model", parents=[refs["clean"]])
    refs["scratch"] = a.put(b"scratch", parents=[refs["clean"]])
    refs["copy"] = a.put(b"model")  # shares the model's blob
    refs["lonely"] = a.put(b"lonely")
    clock.advance(hours=2)
    return refs


def test_keeps_roots_and_their_ancestors(mem_artifacts: ArtifactStore, populated: dict) -> None:
    a = mem_artifacts
    dry = a.gc(roots=[populated["model"]], grace=HOUR, keep_named=False)
    before = _keys(a.store, "")
    assert _keys(a.store, "") == before  # dry run deletes nothing
    report = a.gc(roots=[populated["model"]], grace=HOUR, dry_run=False, keep_named=False)
    assert (report.artifacts, report.blobs) == (dry.artifacts, dry.blobs) and dry.dry_run
    gone = {populated[n].id for n in ("scratch", "copy", "lonely")}
    assert set(report.artifacts) == gone
    assert report.kept == 3
    for name in ("raw", "clean", "model"):
        assert a.get(populated[name]) is not None
        assert a.verify(populated[name]).ok
    for name in ("scratch", "copy", "lonely"):
        assert not a.exists(populated[name])
    # The model's blob stays (shared with "copy"); scratch's and lonely's go.
    assert set(report.blobs) == {populated["scratch"].digest, populated["lonely"].digest}
    assert report.bytes == len(b"scratch") + len(b"lonely")
    assert not [k for k in a.store.list("names/") if "raw" not in k]
    assert a.lineage(populated["clean"], "descendants").descendants == (populated["model"],)
    assert a.verify().ok and a.verify().orphans == ()


def test_named_artifacts_are_roots_by_default(
    mem_artifacts: ArtifactStore, populated: dict
) -> None:
    report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    # "raw" is named; "clean" is only its child, so it is not kept by the name.
    assert set(report.artifacts) == {
        populated[n].id for n in ("clean", "model", "scratch", "copy", "lonely")
    }
    assert mem_artifacts.exists("raw@latest")


def test_grace_keeps_young_artifacts(mem_artifacts: ArtifactStore, clock: FakeClock) -> None:
    old = mem_artifacts.put(b"old")
    clock.advance(minutes=50)
    young = mem_artifacts.put(b"young")
    clock.advance(minutes=20)
    report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    assert report.artifacts == (old.id,)
    assert mem_artifacts.exists(young)
    assert mem_artifacts.gc(grace=timedelta(0), dry_run=False).artifacts == (young.id,)
    assert mem_artifacts.store.list("") == []


def test_roots_accept_every_reference_spelling(
    mem_artifacts: ArtifactStore, clock: FakeClock
) -> None:
    kept = [mem_artifacts.put(i, name=f"n{i}") for i in range(3)]
    clock.advance(hours=2)
    report = mem_artifacts.gc(
        roots=[kept[0], kept[1].id, "n2@latest"], grace=HOUR, dry_run=False, keep_named=False
    )
    assert report.artifacts == () and report.kept == 3


def test_in_flight_put_defers_the_sweep(mem_artifacts: ArtifactStore, clock: FakeClock) -> None:
    garbage = mem_artifacts.put(b"garbage")
    clock.advance(hours=2)
    lease = "leases/put/someone"
    mem_artifacts.store.write(lease, canonical_json({"at": clock.now().isoformat(), "pid": 1}))
    report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    assert report.deferred and report.in_flight == 1 and report.artifacts == ()
    assert mem_artifacts.exists(garbage)
    # A lease older than its time-to-live belongs to a dead writer: ignored, then removed.
    clock.advance(minutes=11)
    report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    assert not report.deferred and report.artifacts == (garbage.id,)
    assert mem_artifacts.store.list("leases/") == []


def test_put_waits_for_a_running_gc(clock: FakeClock) -> None:
    store = MemoryStore()
    artifacts = ArtifactStore(store, clock=clock)
    store.write("leases/gc/other", canonical_json({"at": clock.now().isoformat(), "pid": 1}))
    done = threading.Event()
    thread = threading.Thread(target=lambda: (artifacts.put(b"x", name="x"), done.set()))
    thread.start()
    time.sleep(0.3)
    assert not done.is_set()
    assert store.list("names/") == [] and store.list("blobs/") == []
    store.delete("leases/gc/other")
    thread.join(timeout=10)
    assert done.is_set() and artifacts.exists("x@latest")


def _run_put_gc_race(tmp_path: Path, *, protocol: bool) -> tuple[list[list[str]], int, int]:
    """Two processes put garbage then the same content named, while a third runs gc in a loop.
    Returns the named puts (id, digest, size), and how many sweeps ran and removed something."""
    root = str(tmp_path / "store")
    ArtifactStore(LocalStore(root))  # create the folder
    ctx = _workers.context()
    stop = tmp_path / "stop"
    gc_result = tmp_path / "gc.txt"
    collector = ctx.Process(
        target=_workers.collector, args=(root, str(stop), str(gc_result), protocol)
    )
    collector.start()
    putters = [
        ctx.Process(
            target=_workers.putter, args=(root, tag, 40, str(tmp_path / f"{tag}.txt"), protocol)
        )
        for tag in ("a", "b")
    ]
    for process in putters:
        process.start()
    for process in putters:
        process.join(timeout=120)
        assert process.exitcode == 0
    stop.touch()
    collector.join(timeout=60)
    assert collector.exitcode == 0
    swept, _deferred, removed = map(int, gc_result.read_text().split())
    stored = [
        line.split()
        for tag in ("a", "b")
        for line in (tmp_path / f"{tag}.txt").read_text().splitlines()
    ]
    return stored, swept, removed


@pytest.mark.slow
def test_without_leases_gc_racing_puts_loses_data(tmp_path: Path) -> None:
    # The scenario below, with the lease protocol switched off: named puts reuse blobs that the
    # concurrent gc found unreferenced and deletes.
    stored, swept, removed = _run_put_gc_race(tmp_path, protocol=False)
    artifacts = ArtifactStore(LocalStore(tmp_path / "store"))
    lost = [i for i, _, _ in stored if not (artifacts.exists(i) and artifacts.verify(i).ok)]
    assert swept > 0 and removed > 0
    assert lost, "the race did not show: the gc never deleted a blob a put had just reused"


@pytest.mark.slow
def test_gc_racing_puts_in_other_processes_loses_nothing(tmp_path: Path) -> None:
    stored, swept, removed = _run_put_gc_race(tmp_path, protocol=True)
    assert swept > 0 and removed > 0  # the gc really ran, and collected garbage, during the puts
    root = str(tmp_path / "store")
    artifacts = ArtifactStore(LocalStore(root))
    assert len(stored) == 80
    for artifact_id, digest, size in stored:
        assert artifacts.verify(artifact_id).ok
        data = artifacts.get(artifact_id)
        assert len(data) == int(size) and artifacts.manifest(artifact_id).digest == digest
    final = artifacts.gc(grace=timedelta(0), dry_run=False)
    assert not final.deferred
    assert artifacts.verify().ok and artifacts.verify().orphans == ()
    assert len(artifacts.store.list("manifests/")) == 80


def _invariants(artifacts: ArtifactStore) -> None:
    """Nothing partial is visible: every name has its manifest, every manifest its blobs."""
    store = artifacts.store
    report = artifacts.verify()
    assert report.ok, report.problems
    manifests = {k.replace("/", "")[len("manifestssha256") :] for k in store.list("manifests/")}
    for key in store.list("names/"):
        assert key.rsplit("-", 1)[1] in manifests
    for key in store.list("lineage/"):
        parent = key.split("/")[1]
        assert parent in manifests  # a parent always exists before its child's hint


@pytest.mark.slow
def test_writer_killed_mid_put_leaves_nothing_visible(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    artifacts = ArtifactStore(LocalStore(root))
    parent = artifacts.put(b"parent", name="parent")
    ready = tmp_path / "ready"
    _workers.kill_when_ready(_workers.slow_put, (root, str(ready), parent.id), ready)
    assert artifacts.find("slow") == []
    assert len(artifacts.store.list("manifests/")) == 1
    assert len(artifacts.store.list("blobs/")) == 1
    assert artifacts.store.list("lineage/") == []
    _invariants(artifacts)
    # The dead writer's lease names its process on this host: it is passed over at once (not
    # after the lease's time-to-live), and gc cleans it up.
    assert len(artifacts.store.list("leases/put/")) == 1
    assert not artifacts.gc(dry_run=False).deferred
    assert artifacts.store.list("leases/") == []
    assert artifacts.get("parent@latest") == b"parent"


@pytest.mark.slow
def test_writers_killed_at_random_moments(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    artifacts = ArtifactStore(LocalStore(root))
    ctx = _workers.context()
    rng = random.Random(5)
    for seed in range(4):
        child = ctx.Process(target=_workers.busy_putter, args=(root, seed))
        child.start()
        time.sleep(rng.uniform(0.3, 0.8))
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join()
        _invariants(artifacts)
    assert len(artifacts.store.list("manifests/")) > 0
