"""Leases: renewed in every phase, dead holders passed over quickly, waits explained, full disks."""

from __future__ import annotations

import errno
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard._internal.clock import SystemClock
from modelyard.artifacts import ArtifactStore, _holders, _leases
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock
from tests.artifacts import _workers

TTL = 1.0  # seconds: short leases, so that the tests outlast them


def _context() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )


def _wait_for(path: Path, process: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline and process.is_alive()
        time.sleep(0.01)


def _whole(artifacts: ArtifactStore, name: str) -> bool:
    return artifacts.exists(f"{name}@latest") and artifacts.verify(f"{name}@latest").ok


@pytest.mark.slow
def test_gc_renews_its_lease_while_it_lists_a_large_store(tmp_path: Path) -> None:
    # Listing the blobs takes 3 lease lifetimes. A put that starts meanwhile must still see the
    # gc as alive and wait; it reuses the blob of garbage that this gc deletes.
    root = str(tmp_path / "store")
    trigger = tmp_path / "listing"
    ttl = timedelta(seconds=TTL)
    plain = ArtifactStore(LocalStore(root), lease_ttl=ttl)
    content = b"shared content " * 1000
    plain.put(content)  # garbage, unnamed
    child = _context().Process(
        target=_workers.put_after,
        args=(root, str(trigger), 1.5 * TTL, content, "reused", TTL),
    )
    child.start()
    slow = ArtifactStore(_workers.SlowBlobListing(root, str(trigger), 3 * TTL), lease_ttl=ttl)
    report = slow.gc(grace=timedelta(0), dry_run=False)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert _whole(plain, "reused")
    assert report.complete and len(report.artifacts) == 1


@pytest.mark.slow
def test_a_put_renews_its_lease_during_one_long_store_call(tmp_path: Path) -> None:
    # One call of the put (a slow request) lasts 3 lease lifetimes, with no chunk written in
    # between: the put must still look alive, so gc defers instead of deleting the blob it reuses.
    root = str(tmp_path / "store")
    trigger = tmp_path / "checking"
    ttl = timedelta(seconds=TTL)
    artifacts = ArtifactStore(LocalStore(root), lease_ttl=ttl)
    content = b"shared content " * 1000
    artifacts.put(content)  # garbage, unnamed
    child = _context().Process(
        target=_workers.put_slowly, args=(root, str(trigger), 3 * TTL, content, "reused", TTL)
    )
    child.start()
    _wait_for(trigger, child)
    time.sleep(1.5 * TTL)
    report = artifacts.gc(grace=timedelta(0), dry_run=False)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert _whole(artifacts, "reused")
    assert report.deferred and report.in_flight == 1 and report.artifacts == ()


@pytest.mark.slow
def test_a_gc_paused_past_its_lease_deletes_nothing_more(tmp_path: Path) -> None:
    # The gc is stopped (SIGSTOP, as a VM pause or swap storm would) in its sweep for longer than
    # its lease: a put then passes it over and reuses the blob of an artifact the gc is about to
    # delete. Once resumed, the gc must see that it lost its lease and stop.
    root = str(tmp_path / "store")
    trigger = tmp_path / "sweeping"
    results = tmp_path / "gc.txt"
    ttl = timedelta(seconds=2 * TTL)
    artifacts = ArtifactStore(LocalStore(root), lease_ttl=ttl)
    contents = [f"garbage {i} ".encode() * 100 for i in range(20)]
    for content in contents:
        artifacts.put(content)
    child = _context().Process(
        target=_workers.slow_gc, args=(root, str(trigger), 0.15, 2 * TTL, str(results))
    )
    child.start()
    _wait_for(trigger, child)
    os.kill(child.pid, signal.SIGSTOP)  # type: ignore[arg-type]
    try:
        began = time.monotonic()
        artifacts.put(contents[-1], name="reused")  # waits until the paused gc looks dead
        waited = time.monotonic() - began
    finally:
        os.kill(child.pid, signal.SIGCONT)  # type: ignore[arg-type]
    child.join(timeout=60)
    assert child.exitcode == 0
    interrupted, removed = map(int, results.read_text().split())
    assert interrupted == 1 and removed < len(contents)
    assert waited < 10
    assert _whole(artifacts, "reused")


@pytest.mark.slow
def test_a_put_paused_past_its_lease_checks_again_before_it_commits(tmp_path: Path) -> None:
    # The put found the blob stored (a dedup hit), then was stopped for longer than its lease; a
    # gc passed it over and deleted that blob. Resumed, the put must not write a manifest that
    # refers to the deleted blob.
    root = str(tmp_path / "store")
    trigger, out = tmp_path / "checked", tmp_path / "put.txt"
    ttl = timedelta(seconds=TTL)
    artifacts = ArtifactStore(LocalStore(root), lease_ttl=ttl)
    content = b"shared content " * 1000
    artifacts.put(content)  # garbage, unnamed
    child = _context().Process(
        target=_workers.put_stalled, args=(root, str(trigger), 0.5, content, TTL, str(out))
    )
    child.start()
    _wait_for(trigger, child)
    os.kill(child.pid, signal.SIGSTOP)  # type: ignore[arg-type]
    try:
        time.sleep(1.5 * TTL)
        report = artifacts.gc(grace=timedelta(0), dry_run=False)
    finally:
        os.kill(child.pid, signal.SIGCONT)  # type: ignore[arg-type]
    child.join(timeout=60)
    assert artifacts.find("reused") == [] and artifacts.verify().ok
    assert out.read_text() == "ConcurrentModificationError"
    assert len(report.blobs) == 1  # the gc took the stopped put for dead


@pytest.mark.slow
def test_a_killed_gc_on_this_host_is_passed_over_at_once(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    trigger = tmp_path / "sweeping"
    artifacts = ArtifactStore(LocalStore(root))  # the default one-minute lease
    for i in range(10):
        artifacts.put(f"garbage {i}".encode())
    child = _context().Process(
        target=_workers.slow_gc, args=(root, str(trigger), 0.5, 60.0, str(tmp_path / "gc.txt"))
    )
    child.start()
    _wait_for(trigger, child)
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join()
    assert len(artifacts.store.list("leases/gc/")) >= 1  # it died holding its lease
    began = time.monotonic()
    ref = artifacts.put(b"after the crash", name="after")
    assert time.monotonic() - began < 5  # not the lease's minute, let alone ten
    assert artifacts.get(ref) == b"after the crash"
    report = artifacts.gc(grace=timedelta(hours=1), dry_run=False)
    assert report.complete and artifacts.store.list("leases/") == []  # the dead lease is gone


def _foreign_gc_lease(store: Store, clock: FakeClock) -> str:
    """A gc lease as another machine writes it (its host id is not ours)."""
    when = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    key = f"leases/gc/{when}_feedc0de00000000_{when}_abcdef012345_4242_12345"
    store.write(key, b"")
    return key


def test_a_put_waits_for_a_gc_on_another_host_until_its_lease_expires_and_says_so(
    clock: FakeClock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_holders, "WAIT_NOTICE_AFTER", 0.05)
    store = MemoryStore()
    artifacts = ArtifactStore(store, clock=clock)  # the default one-minute lease
    key = _foreign_gc_lease(store, clock)
    done = threading.Event()
    caplog.set_level(logging.WARNING, logger="modelyard.artifacts")
    thread = threading.Thread(target=lambda: (artifacts.put(b"x", name="x"), done.set()))
    thread.start()
    time.sleep(0.3)
    clock.advance(seconds=59)
    time.sleep(0.6)
    assert not done.is_set() and store.list("names/") == []
    clock.advance(seconds=2)  # 61 s without renewal: the holder is gone
    thread.join(timeout=10)
    assert done.is_set() and artifacts.exists("x@latest")
    (notice, *_) = [r.getMessage() for r in caplog.records if "waited" in r.getMessage()]
    assert notice.startswith("a put has waited")
    assert key in notice and "pid 4242 on another host" in notice
    assert "since 2026-01-01T00:00:00+00:00" in notice and "60 s" in notice


def test_leases_of_the_previous_version_are_honoured_for_ten_minutes(clock: FakeClock) -> None:
    store = MemoryStore()
    artifacts = ArtifactStore(store, clock=clock)
    garbage = artifacts.put(b"garbage")
    clock.advance(hours=2)
    legacy = canonical_json({"at": clock.now().isoformat(), "pid": 1})
    store.write("leases/put/" + "ab" * 16, legacy)
    clock.advance(minutes=9)  # far past today's one-minute lease, within the old ten minutes
    assert artifacts.gc(dry_run=False).deferred
    clock.advance(minutes=2)
    report = artifacts.gc(dry_run=False)
    assert report.artifacts == (garbage.id,) and store.list("leases/") == []


def test_leases_still_carry_what_the_previous_version_reads(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    clock = FakeClock()
    lease = _leases.Lease(store, "leases/put/", clock, timedelta(minutes=1))
    try:
        (key,) = store.list("leases/put/")
        body = json.loads(store.read(key))
        assert body == {"at": clock.now().isoformat(), "pid": os.getpid()}
        assert lease.held()
    finally:
        lease.release()
    assert store.list("leases/") == []


def test_a_renewed_lease_keeps_its_previous_key_so_no_listing_misses_it(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", durable=False)
    # A ttl of one second: renewed every quarter of it, and only a renewal half a second late (a
    # starved thread on a loaded machine) would make the lease lapse.
    lease = _leases.Lease(store, "leases/gc/", SystemClock(), timedelta(seconds=1))
    seen = set()
    try:
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            keys = store.list("leases/gc/")
            assert keys  # never a moment without a key
            seen.update(keys)
        assert len(seen) >= 5  # it was renewed, under new keys
        assert len(store.list("leases/gc/")) == 2 and lease.held()
        assert {key.split("_")[1] for key in seen} == {lease.token}
    finally:
        lease.release()
    assert store.list("leases/") == []


class _FullStore(MemoryStore):
    """A memory store with no room left: any write of data fails as a full disk does.
    ``room_for_empty`` says whether an empty value (no data blocks) still fits."""

    def __init__(self, *, room_for_empty: bool) -> None:
        super().__init__()
        self.full = False
        self.room_for_empty = room_for_empty
        self.lease_values: list[bytes] = []

    def _check(self, key: str, data: object) -> None:
        size = len(data) if isinstance(data, (bytes, bytearray, memoryview)) else 1
        if self.full and (size or not self.room_for_empty):
            raise OSError(errno.ENOSPC, "No space left on device", key)
        if key.startswith("leases/gc/"):
            self.lease_values.append(bytes(data))  # type: ignore[arg-type]

    def write(self, key: str, data: object) -> None:  # type: ignore[override]
        self._check(key, data)
        super().write(key, data)  # type: ignore[arg-type]

    def create(self, key: str, data: object) -> None:  # type: ignore[override]
        self._check(key, data)
        super().create(key, data)  # type: ignore[arg-type]


def test_gc_runs_on_a_full_store_with_an_empty_lease(clock: FakeClock) -> None:
    store = _FullStore(room_for_empty=True)
    artifacts = ArtifactStore(store, clock=clock)
    garbage = artifacts.put(b"garbage" * 100)
    kept = artifacts.put(b"kept", name="kept")
    clock.advance(hours=2)
    store.full = True
    report = artifacts.gc(dry_run=False)
    assert report.complete and report.artifacts == (garbage.id,)
    assert report.bytes == len(b"garbage" * 100)
    assert store.lease_values == [b""]  # announced with an empty value
    assert artifacts.get(kept) == b"kept" and store.list("leases/") == []


def test_gc_on_a_store_without_room_for_a_lease_deletes_nothing_and_says_why(
    clock: FakeClock,
) -> None:
    store = _FullStore(room_for_empty=False)
    artifacts = ArtifactStore(store, clock=clock)
    artifacts.put(b"garbage")
    clock.advance(hours=2)
    store.full = True
    before = store.list("")
    report = artifacts.gc(dry_run=False)
    assert not report.complete and report.artifacts == ()
    assert "no room even for an empty lease" in report.refused[0]
    assert store.list("") == before


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    """A 4 MiB tmpfs (needs root); skipped where it cannot be mounted."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = os.system(f"mount -t tmpfs -o size=4m tmpfs {mount} 2>/dev/null")
    if result != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    os.system(f"umount {mount}")


def _free(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def test_gc_frees_a_really_full_disk(tiny_disk: Path) -> None:
    artifacts = ArtifactStore(LocalStore(tiny_disk / "store"))
    kept = artifacts.put(b"kept", name="kept")
    with pytest.raises(OSError) as full:  # noqa: PT012
        for i in range(100):
            artifacts.put(os.urandom(256 * 1024) + bytes([i]))
    assert full.value.errno == errno.ENOSPC
    filler = open(tiny_disk / "filler", "wb", buffering=0)  # noqa: SIM115
    with filler, pytest.raises(OSError, match="No space left"):  # noqa: PT012 (the last bytes)
        while True:
            filler.write(b"\0" * 4096)
    assert _free(tiny_disk) == 0
    report = artifacts.gc(grace=timedelta(0), dry_run=False)
    assert report.complete and len(report.artifacts) >= 10
    assert _free(tiny_disk) >= report.bytes > 2 * 1024 * 1024
    assert artifacts.get(kept) == b"kept" and artifacts.verify().ok
    artifacts.put(b"room again", name="after")
