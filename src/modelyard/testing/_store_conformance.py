"""The conformance suite every :class:`~modelyard.storage.Store` must pass."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from modelyard.errors import InvalidKeyError, KeyExistsError, NotFoundError
from modelyard.storage import CreateBatch, Store, StoreCapabilities, SupportsCreateBatch

__all__ = ["StoreConformance"]

_MIB = 1024 * 1024

#: Keys every store must refuse with InvalidKeyError (see ``modelyard.storage.validate_key``).
BAD_KEYS: list[Any] = [
    "",
    "/abs",
    "a//b",
    "a/",
    "../up",
    "a/../b",
    "a/./b",
    "a/.",
    "a/..",
    ".",
    "..",
    "a\x00b",
    "a\nb",
    "a\rb",
    "tab\tkey",
    "del\x7f",
    "c1\x85control",
    "a\\b",
    "x" * 300,
    "é" * 128,  # 256 bytes in UTF-8: one more than a segment may hold
    "a/" * 512 + "a",  # 1025 bytes
    b"bytes",
    None,
    42,
]

#: Prefixes every store must refuse in ``list`` (see ``modelyard.storage.validate_prefix``).
BAD_PREFIXES: list[Any] = [
    "/abs",
    "a//",
    "a//b",
    "../",
    "a/../",
    "./",
    "a\x00",
    "a\nb",
    "a\\b",
    None,
    b"a/",
]

#: Keys every store must accept and give back unchanged.
GOOD_KEYS = [
    "a b/c d",
    "ünïcode/ключ/鍵",
    "emoji/\U0001f600",
    "dots.in.name/v1.2.json",
    "-dash/_underscore",
    "a/.hidden",
    "s" * 255,
    "/".join(["segment"] * 60),
]

#: Keys whose sorted order tells code point order (S3's order, Python's) from others: "/" sorts
#: after "-" and ".", upper case before lower case, and U+FF61 before U+1F600 (UTF-16 would not).
ORDER_KEYS = [
    "k/B",
    "k/a-b",
    "k/a.b",
    "k/a/b",
    "k/a0",
    "k/b",
    "k/é",
    "k/\uff61",
    "k/\U0001f600",
    "k/10",
    "k/9",
]


class StoreConformance:
    """Checks every promise of the :class:`~modelyard.storage.Store` protocol.

    Subclass it in a test module (the subclass name must start with ``Test``) and supply a
    ``store`` fixture that returns a new, empty store::

        class TestMyStore(StoreConformance):
            @pytest.fixture
            def store(self, tmp_path):
                return MyStore(tmp_path)

    Multi-process checks run when ``store.capabilities.shared_across_processes`` is true (the
    store must then be picklable, so child processes can reopen it). Race checks require
    ``atomic_create``, torn-write checks require ``atomic_write``; a store that does not claim a
    guarantee is not tested for it. A key and a folder of the same name must be refused when
    ``hierarchical_keys`` is claimed (the default), and kept apart when it is not. Class
    attributes tune the heavy checks.

    The checks cover what modelyard's artifacts and registry rely on: exact key and prefix
    validation, listings sorted by code point with plain string prefixes, folders that are not
    keys, all-or-nothing writes, exclusive creates, replacing writes, ``NotFoundError`` for what is
    absent. A store that offers batched creates (:class:`~modelyard.storage.SupportsCreateBatch`)
    is checked for them too.
    """

    #: Processes racing ``create`` on one key; exactly one must win.
    race_processes: ClassVar[int] = 8
    #: Keys raced in turn by those processes (more rounds, more chances to catch a race).
    race_rounds: ClassVar[int] = 5
    #: Size of the value a writer is killed in the middle of.
    kill_value_size: ClassVar[int] = 64 * _MIB

    # -- basics ----------------------------------------------------------------------------------

    def test_capabilities(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert isinstance(store.capabilities, StoreCapabilities)

    @pytest.mark.parametrize("size", [0, 1, 1000, 5 * _MIB + 3])
    def test_write_then_read(self, store: Store, size: int) -> None:
        data = os.urandom(size)
        store.write("blob/value.bin", data)
        value = store.read("blob/value.bin")
        assert type(value) is bytes, f"read() must return bytes, not {type(value).__name__}"
        assert value == data
        assert store.exists("blob/value.bin") is True
        with store.open("blob/value.bin") as handle:
            assert _read_in_chunks(handle) == data

    def test_write_accepts_bytes_like_and_streams(self, store: Store) -> None:
        import io

        store.write("k/bytearray", bytearray(b"abc"))
        store.write("k/memoryview", memoryview(b"defgh")[1:4])
        store.write("k/stream", io.BytesIO(b"x" * (3 * _MIB)))
        store.create("k/created-from-stream", io.BytesIO(b"yz"))
        assert store.read("k/bytearray") == b"abc"
        assert store.read("k/memoryview") == b"efg"
        assert store.read("k/stream") == b"x" * (3 * _MIB)
        assert store.read("k/created-from-stream") == b"yz"

    def test_write_replaces(self, store: Store) -> None:
        store.write("k", b"old")
        store.write("k", b"new value")
        assert store.read("k") == b"new value"
        store.write("k", b"new")  # shorter: nothing of the previous value may remain
        assert store.read("k") == b"new"
        store.create("c", b"created")
        store.write("c", b"replaced")
        assert store.read("c") == b"replaced"
        assert store.list() == ["c", "k"]

    def test_a_failing_stream_stores_nothing(self, store: Store) -> None:
        # All or nothing: the registry's and the artifacts' "nothing half-written" rests on it.
        store.write("kept", b"old value")
        before = store.list()
        for call, key in ((store.create, "fresh"), (store.write, "fresh"), (store.write, "kept")):
            with pytest.raises(Exception, match="source failed"):
                call(key, _FailingStream())  # type: ignore[arg-type]
            assert store.list() == before, f"{call.__name__}() stored part of a failed stream"
        assert store.read("kept") == b"old value"
        assert not store.exists("fresh")

    def test_create_is_exclusive(self, store: Store) -> None:
        store.create("log/1.json", b"first")
        with pytest.raises(KeyExistsError) as info:
            store.create("log/1.json", b"second")
        assert isinstance(info.value, FileExistsError)
        assert store.read("log/1.json") == b"first"
        store.create("log/2.json", b"")
        assert store.read("log/2.json") == b""

    def test_large_create_from_a_stream_is_exclusive(self, store: Store) -> None:
        import io

        value = _big_value(60 * _MIB)  # past the multipart threshold of object stores
        store.create("big/value", io.BytesIO(value))
        with pytest.raises(KeyExistsError):
            store.create("big/value", io.BytesIO(b"other" * _MIB))
        assert hashlib.sha256(store.read("big/value")).digest() == hashlib.sha256(value).digest()

    def test_missing_keys_raise_not_found(self, store: Store) -> None:
        assert not store.exists("nope")
        for call in (store.read, store.open, store.delete):
            with pytest.raises(NotFoundError) as info:
                call("nope/missing.bin")
            assert isinstance(info.value, LookupError)
            assert "nope/missing.bin" in str(info.value)

    def test_delete(self, store: Store) -> None:
        store.write("a/b", b"1")
        store.write("a/c", b"2")
        for neighbour in ("a/bc", "a/b-c", "a/b.c"):
            store.write(neighbour, b"stays")
        store.delete("a/b")
        assert not store.exists("a/b")
        assert store.list("a/") == ["a/b-c", "a/b.c", "a/bc", "a/c"], "delete removed other keys"
        with pytest.raises(NotFoundError):
            store.read("a/b")
        store.create("a/b", b"again")  # a deleted key can be created anew
        assert store.read("a/b") == b"again"

    def test_list_by_prefix_is_complete_and_exact(self, store: Store) -> None:
        keys = [
            "a/b/c",
            "a/b-c",
            "a/b.c",
            "a/bc",
            "a/bd/e",
            "ab",
            "b/1",
            "b/2",
            "b/10",
            "models/churn/log/00000001.json",
            "models/churn/log/00000002.json",
            "models/churn-v2/log/00000001.json",
            "unicodé/ключ",
        ]
        for key in keys:
            store.write(key, key.encode())
        prefixes = [
            "",
            "a",
            "a/",
            "a/b",
            "a/b/",
            "a/bc",
            "ab",
            "b/1",
            "b/",
            "c",
            "models/churn",
            "models/churn/",
            "models/churn/log/0",
            "unicodé/",
            "zzz/",
        ]
        for prefix in prefixes:
            expected = sorted(key for key in keys if key.startswith(prefix))
            assert store.list(prefix) == expected, prefix
        assert all(isinstance(key, str) for key in store.list())
        for key in store.list():
            assert store.read(key) == key.encode(), f"list() gave {key!r}, which is no value"

    def test_list_is_sorted_by_code_point(self, store: Store) -> None:
        # The registry takes the last snapshot of a sorted listing as the newest; S3 lists in this
        # order too (by UTF-8 bytes, which is the same).
        for key in reversed(ORDER_KEYS):
            store.write(key, b"")
        assert store.list("k/") == sorted(ORDER_KEYS)
        assert store.list() == sorted(ORDER_KEYS)

    def test_valid_keys_are_accepted_as_they_are(self, store: Store) -> None:
        for key in GOOD_KEYS:
            store.create(key, key.encode())
        for key in GOOD_KEYS:
            assert store.read(key) == key.encode()
            assert store.exists(key)
        assert store.list() == sorted(GOOD_KEYS)

    def test_a_folder_is_not_a_key(self, store: Store) -> None:
        store.write("f/a/b", b"value")
        for folder in ("f", "f/a"):
            assert store.exists(folder) is False, f"exists({folder!r}) is true for a folder"
            for call in (store.read, store.open, store.delete):
                with pytest.raises(NotFoundError):
                    call(folder)
        # Below a value there is nothing either.
        assert store.exists("f/a/b/c") is False
        with pytest.raises(NotFoundError):
            store.read("f/a/b/c")
        assert store.list() == ["f/a/b"]
        assert store.read("f/a/b") == b"value"

    def test_a_key_and_a_folder_of_the_same_name(self, store: Store) -> None:
        hierarchical = store.capabilities.hierarchical_keys
        for call in (store.write, store.create):
            name = call.__name__
            store.write(f"{name}/value", b"a value")
            store.write(f"{name}/folder/key", b"in a folder")
            before = store.list()
            pairs = (
                (f"{name}/value/below", "a key below a value"),
                (f"{name}/folder", "a key over a folder"),
            )
            for key, what in pairs:
                if hierarchical:
                    try:
                        call(key, b"conflict")
                    except InvalidKeyError:
                        pass
                    else:
                        raise AssertionError(
                            f"{name}({key!r}) stored {what}, but capabilities.hierarchical_keys "
                            "is true: refuse it with InvalidKeyError, or declare "
                            "hierarchical_keys=False if keys are flat (as on S3)"
                        )
                    assert store.list() == before, f"a refused {name}() wrote something"
                else:
                    call(key, b"conflict")  # flat keys: two independent values
                    assert store.read(key) == b"conflict"
            assert store.read(f"{name}/value") == b"a value"
            assert store.read(f"{name}/folder/key") == b"in a folder"
        if not hierarchical:
            store.delete("write/value")
            assert store.read("write/value/below") == b"conflict"
            store.delete("create/folder")
            assert store.read("create/folder/key") == b"in a folder"

    def test_invalid_keys_raise_and_write_nothing(self, store: Store) -> None:
        store.write("keep", b"1")
        for key in BAD_KEYS:
            for call, args in (
                (store.write, (b"x",)),
                (store.create, (b"x",)),
                (store.read, ()),
                (store.open, ()),
                (store.exists, ()),
                (store.delete, ()),
            ):
                with pytest.raises(InvalidKeyError) as info:
                    call(key, *args)
                assert isinstance(info.value, ValueError)
        for prefix in BAD_PREFIXES:
            with pytest.raises(InvalidKeyError):
                store.list(prefix)
        assert store.list("") == ["keep"]
        assert store.list("kee") == ["keep"]

    # -- threads ---------------------------------------------------------------------------------

    def test_threads_racing_create_have_one_winner(self, store: Store) -> None:
        if not store.capabilities.atomic_create:
            pytest.skip("the store does not claim an atomic create")
        for round_ in range(5):
            key = f"race/thread-{round_}"
            outcomes = _race_threads(store, key, 16)
            winners = [index for index, outcome in outcomes.items() if outcome == "won"]
            assert len(winners) == 1, outcomes
            assert all(o in ("won", "exists") for o in outcomes.values()), outcomes
            assert store.read(key) == _payload(winners[0])

    def test_readers_never_see_a_torn_write(self, store: Store) -> None:
        if not store.capabilities.atomic_write:
            pytest.skip("the store does not claim atomic writes")
        values = [bytes([i]) * (2 * _MIB) for i in (1, 2)]
        store.write("torn", values[0])
        stop = threading.Event()
        seen: list[bytes] = []

        def writer() -> None:
            for i in range(12):
                store.write("torn", values[i % 2])
            stop.set()

        thread = threading.Thread(target=writer)
        thread.start()
        while not stop.is_set():
            value = store.read("torn")
            if value not in values:
                seen.append(value[:16])
        thread.join()
        assert not seen, "a reader saw bytes that were neither the old nor the new value"

    # -- batched creates (stores that offer them) -------------------------------------------------

    def test_a_batch_publishes_on_commit_only(self, store: Store) -> None:
        batch = _batch_of(store)
        values = {f"batch/{i % 3}/v{i}": _payload(i) for i in range(20)}
        for key, value in values.items():
            batch.create(key, value)
        assert store.list("batch/") == []
        assert batch.commit() == []
        assert {key: store.read(key) for key in store.list("batch/")} == values

    def test_a_batch_keeps_what_exists_and_says_so(self, store: Store) -> None:
        batch = _batch_of(store)
        store.create("batch/b", b"first")
        store.create("batch/d", b"first")
        for key in ("batch/a", "batch/b", "batch/c", "batch/d"):
            batch.create(key, key.encode())
        assert batch.commit() == ["batch/b", "batch/d"]
        assert [store.read(k) for k in ("batch/a", "batch/b", "batch/c", "batch/d")] == [
            b"batch/a",
            b"first",
            b"batch/c",
            b"first",
        ]

    def test_a_batch_refuses_invalid_keys_before_writing(self, store: Store) -> None:
        batch = _batch_of(store)
        batch.create("batch/ok", b"ok")
        for key in BAD_KEYS:
            with pytest.raises(InvalidKeyError):
                batch.create(key, b"x")
        assert batch.commit() == []
        assert store.list("") == ["batch/ok"]

    def test_an_aborted_batch_publishes_nothing(self, store: Store) -> None:
        batch = _batch_of(store)
        for i in range(5):
            batch.create(f"batch/{i}", _payload(i))
        batch.abort()
        batch.abort()
        assert store.list("") == []
        with pytest.raises(ValueError, match="finished"):
            batch.create("batch/late", b"x")

    def test_a_batch_is_finished_by_its_commit(self, store: Store) -> None:
        batch = _batch_of(store)
        batch.create("batch/one", b"1")
        batch.commit()
        batch.abort()  # does nothing after a commit
        assert store.read("batch/one") == b"1"
        with pytest.raises(ValueError, match="finished"):
            batch.create("batch/two", b"2")
        with pytest.raises(ValueError, match="finished"):
            batch.commit()

    def test_a_batch_takes_values_from_threads(self, store: Store) -> None:
        batch = _batch_of(store)

        def add(first: int) -> None:
            for i in range(first, first + 25):
                batch.create(f"batch/t{i:03d}", _payload(i))

        threads = [threading.Thread(target=add, args=(25 * t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert batch.commit() == []
        keys = store.list("batch/")
        assert keys == [f"batch/t{i:03d}" for i in range(100)]
        assert all(store.read(f"batch/t{i:03d}") == _payload(i) for i in range(100))

    # -- processes -------------------------------------------------------------------------------

    def test_store_pickles_for_other_processes(self, store: Store) -> None:
        if not store.capabilities.shared_across_processes:
            pytest.skip("the store is not shared across processes")
        store.write("shared", b"seen by a copy")
        clone = pickle.loads(pickle.dumps(store))
        assert clone.read("shared") == b"seen by a copy"

    def test_processes_racing_create_have_one_winner(self, store: Store) -> None:
        caps = store.capabilities
        if not (caps.shared_across_processes and caps.atomic_create):
            pytest.skip("needs a store shared across processes with an atomic create")
        ctx = multiprocessing.get_context("spawn")
        n = self.race_processes
        barrier = ctx.Barrier(n)
        queue = ctx.Queue()
        keys = [f"race/process-{round_}" for round_ in range(self.race_rounds)]
        procs = [
            ctx.Process(target=_race_worker, args=(store, keys, i, barrier, queue))
            for i in range(n)
        ]
        for proc in procs:
            proc.start()
        try:
            outcomes = _collect(queue, procs, n * len(keys))
        finally:
            for proc in procs:
                proc.join(timeout=60)
        for key in keys:
            results = {index: outcome for k, index, outcome in outcomes if k == key}
            assert len(results) == n
            winners = [index for index, outcome in results.items() if outcome == "won"]
            assert len(winners) == 1, (key, results)
            losers = [outcome for outcome in results.values() if outcome != "won"]
            assert all(outcome == "exists" for outcome in losers), (key, results)
            assert store.read(key) == _payload(winners[0])
        assert all(proc.exitcode == 0 for proc in procs)

    def test_writer_killed_mid_write_leaves_old_value_or_nothing(self, store: Store) -> None:
        caps = store.capabilities
        if not (caps.shared_across_processes and caps.atomic_write):
            pytest.skip("needs a store shared across processes with atomic writes")
        if not hasattr(signal, "SIGKILL"):
            pytest.skip("needs SIGKILL")
        old = b"old value"
        store.write("victim/existing", old)
        before = store.list()
        ctx = multiprocessing.get_context("spawn")
        for key in ("victim/existing", "victim/fresh"):
            progress = ctx.Value("q", 0)
            proc = ctx.Process(
                target=_slow_writer, args=(store, key, self.kill_value_size, progress)
            )
            proc.start()
            deadline = time.monotonic() + 120
            # Kill once more than half of the value has been handed to the store.
            while progress.value < self.kill_value_size // 2 and time.monotonic() < deadline:
                assert proc.is_alive(), "the writer finished or died before it could be killed"
                time.sleep(0.005)
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(timeout=30)
            assert proc.exitcode == -signal.SIGKILL
        assert store.read("victim/existing") == old
        assert not store.exists("victim/fresh")
        assert store.list() == before

    def test_writer_killed_at_any_moment_leaves_old_or_new(self, store: Store) -> None:
        caps = store.capabilities
        if not (caps.shared_across_processes and caps.atomic_write):
            pytest.skip("needs a store shared across processes with atomic writes")
        old = b"old value"
        store.write("victim/any", old)
        ctx = multiprocessing.get_context("spawn")
        new_digest = hashlib.sha256(_big_value(self.kill_value_size)).hexdigest()
        for delay in (0.0, 0.05, 0.2, 0.5):
            started = ctx.Event()
            proc = ctx.Process(
                target=_fast_writer, args=(store, "victim/any", self.kill_value_size, started)
            )
            proc.start()
            assert started.wait(timeout=120)
            time.sleep(delay)
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(timeout=30)
            value = store.read("victim/any")
            assert value == old or hashlib.sha256(value).hexdigest() == new_digest, (
                f"torn value of {len(value)} bytes after a kill at {delay}s"
            )
            store.write("victim/any", old)
        assert store.list("victim/") == ["victim/any"]


# -- helpers run in child processes (module level, so spawn can import them) ----------------------


def _batch_of(store: Store) -> CreateBatch:
    if not isinstance(store, SupportsCreateBatch):
        pytest.skip("the store does not batch creates")
    return store.create_batch()


def _payload(index: int) -> bytes:
    return f"writer-{index}|".encode() * 512


def _big_value(size: int) -> bytes:
    block = hashlib.sha256(b"modelyard").digest() * (_MIB // 32)
    return (block * (size // len(block) + 1))[:size]


def _race_threads(store: Store, key: str, n: int) -> dict[int, str]:
    barrier = threading.Barrier(n)
    outcomes: dict[int, str] = {}

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            store.create(key, _payload(index))
            outcomes[index] = "won"
        except KeyExistsError:
            outcomes[index] = "exists"
        except Exception as exc:
            outcomes[index] = repr(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _race_worker(store: Store, keys: list[str], index: int, barrier: Any, queue: Any) -> None:
    for key in keys:
        barrier.wait(timeout=120)
        try:
            store.create(key, _payload(index))
            queue.put((key, index, "won"))
        except KeyExistsError:
            queue.put((key, index, "exists"))
        except Exception as exc:
            queue.put((key, index, repr(exc)))


class _FailingStream:
    """A source that gives a megabyte, then fails (a network read, a file on a dying disk)."""

    def __init__(self) -> None:
        self._sent = False

    def read(self, n: int = -1) -> bytes:
        if not self._sent:
            self._sent = True
            return b"x" * _MIB
        raise OSError("source failed")


class _SlowStream:
    """A stream that reports progress and slows down after half, so a kill lands mid-write."""

    def __init__(self, size: int, progress: Any) -> None:
        self._data = _big_value(size)
        self._offset = 0
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        if self._offset >= len(self._data):
            return b""
        n = min(n if n > 0 else _MIB, _MIB)
        chunk = self._data[self._offset : self._offset + n]
        self._offset += len(chunk)
        self._progress.value = self._offset
        if self._offset > len(self._data) // 2:
            time.sleep(0.05)
        return chunk


def _slow_writer(store: Store, key: str, size: int, progress: Any) -> None:
    store.write(key, _SlowStream(size, progress))  # type: ignore[arg-type]


def _fast_writer(store: Store, key: str, size: int, started: Any) -> None:
    value = _big_value(size)
    started.set()
    while True:
        store.write(key, value)


def _collect(queue: Any, procs: list[Any], expected: int, timeout: float = 180.0) -> list[Any]:
    """Gather ``expected`` results, failing fast (with exit codes) if the workers died."""
    import queue as queue_module

    results: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(results) < expected:
        try:
            results.append(queue.get(timeout=0.5))
        except queue_module.Empty:
            if all(not proc.is_alive() for proc in procs) and queue.empty():
                codes = [proc.exitcode for proc in procs]
                raise AssertionError(
                    f"workers exited (codes {codes}) after {len(results)} of {expected} results; "
                    "is the store picklable and its module importable in a child process?"
                ) from None
            if time.monotonic() > deadline:
                message = f"timed out with {len(results)} of {expected} results"
                raise AssertionError(message) from None
    return results


def _read_in_chunks(handle: Any) -> bytes:
    parts: Iterator[bytes] = iter(lambda: handle.read(65536), b"")
    return b"".join(parts)
