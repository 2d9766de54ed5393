"""CountingStore counts every request by kind, LatencyStore delays each one, and both pass the
wrapped store's abilities through unchanged."""

from __future__ import annotations

import io
import pickle
import threading
import time
from pathlib import Path

import pytest

from modelyard.errors import InputError, KeyExistsError, NotFoundError
from modelyard.storage import (
    CountingStore,
    LatencyStore,
    LocalStore,
    MemoryStore,
    SupportsStaging,
    SupportsVolatileWrite,
)

from .sqlite_store import SQLiteStore


def test_each_primitive_is_counted_under_its_kind() -> None:
    store = CountingStore(MemoryStore())
    store.write("a/1", b"x")
    store.create("a/2", io.BytesIO(b"y"))
    with pytest.raises(KeyExistsError):
        store.create("a/2", b"z")  # a lost create is still a request
    assert store.read("a/1") == b"x"
    with store.open("a/2") as handle:
        assert handle.read() == b"y"
    assert store.exists("a/1")
    assert store.list("a/") == ["a/1", "a/2"]
    store.delete("a/1")
    with pytest.raises(NotFoundError):
        store.read("a/1")
    _ = store.capabilities  # not a request
    assert store.counts == {
        "read": 2,
        "open": 1,
        "exists": 1,
        "list": 1,
        "write": 1,
        "create": 2,
        "delete": 1,
    }
    assert store.total == 9
    assert list(store.counts) == [kind for kind in CountingStore.KINDS if kind in store.counts]


def test_reset_returns_the_counts_and_starts_again() -> None:
    store = CountingStore(MemoryStore())
    store.write("a", b"1")
    assert store.reset() == {"write": 1}
    assert store.counts == {} and store.total == 0
    store.read("a")
    assert store.counts == {"read": 1}


def test_counts_are_exact_under_threads() -> None:
    store = CountingStore(MemoryStore())
    store.write("a", b"1")
    store.reset()

    def reader() -> None:
        for _ in range(500):
            store.read("a")

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.counts == {"read": 4000}


def test_staging_is_offered_only_when_the_wrapped_store_has_it(tmp_path: Path) -> None:
    local = CountingStore(LocalStore(tmp_path / "store"))
    memory = CountingStore(MemoryStore())  # stages, but has no volatile writes
    plain = LatencyStore(SQLiteStore(tmp_path / "store.db"), latency=0)  # neither
    # Callers pick their write path by isinstance: the wrapper must not change which one.
    assert isinstance(local, SupportsStaging) and isinstance(local, SupportsVolatileWrite)
    assert isinstance(memory, SupportsStaging)
    assert not isinstance(memory, SupportsVolatileWrite)
    assert not isinstance(plain, SupportsStaging | SupportsVolatileWrite)
    with pytest.raises(AttributeError):
        memory.write_volatile  # noqa: B018
    assert isinstance(local, CountingStore) and isinstance(plain, LatencyStore)

    staged = local.stage()
    staged.write(b"staged bytes")
    assert isinstance(staged.fileno(), int)  # early writeback stays possible
    assert staged.commit("blob") is True
    again = local.stage()
    again.write(b"other")
    assert again.commit("blob") is False
    local.write_volatile("marker", b"1")
    assert local.read("blob") == b"staged bytes"
    assert local.counts == {"read": 1, "write_volatile": 1, "commit": 2}


def test_a_wrapped_store_is_described_as_the_store_it_wraps(tmp_path: Path) -> None:
    inner = LocalStore(tmp_path / "store")
    assert CountingStore(inner).root == inner.root
    assert LatencyStore(CountingStore(inner), latency=0).root == inner.root
    assert "LocalStore" in repr(CountingStore(inner))
    assert CountingStore(inner).inner is inner


def test_copies_in_other_processes_start_from_zero(tmp_path: Path) -> None:
    store = CountingStore(LocalStore(tmp_path / "store"))
    store.write("a", b"1")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.counts == {}
    assert copy.read("a") == b"1" and copy.counts == {"read": 1}
    slow = pickle.loads(pickle.dumps(LatencyStore(store.inner, latency=0.003)))
    assert isinstance(slow, LatencyStore) and slow.latency == 0.003


def test_latency_is_added_to_every_request() -> None:
    counted = CountingStore(MemoryStore())
    store = LatencyStore(counted, latency=0.02)
    started = time.perf_counter()
    store.write("a", b"1")
    store.read("a")
    store.exists("a")
    store.list()
    elapsed = time.perf_counter() - started
    assert counted.total == 4
    assert elapsed >= 4 * 0.02
    assert LatencyStore(MemoryStore()).latency == 0.02  # the documented default


def test_threads_wait_in_parallel() -> None:
    store = LatencyStore(MemoryStore(), latency=0.2)
    store.inner.write("a", b"1")
    threads = [threading.Thread(target=store.read, args=("a",)) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Serialised waits would take 0.8 s; parallel ones about 0.2 s.
    assert time.perf_counter() - started < 0.6


@pytest.mark.parametrize("latency", [-0.01, float("nan"), float("inf"), "20ms", True])
def test_a_bad_latency_is_refused(latency: object) -> None:
    with pytest.raises(InputError, match="latency must be a finite number of seconds"):
        LatencyStore(MemoryStore(), latency=latency)  # type: ignore[arg-type]


def test_only_a_store_can_be_wrapped(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="CountingStore wraps a Store, got str"):
        CountingStore(str(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="LatencyStore wraps a Store"):
        LatencyStore({}, latency=0.02)  # type: ignore[arg-type]
