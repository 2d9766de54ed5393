"""Code run in child processes by the gc-race and killed-writer tests."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO

from modelyard.artifacts import ArtifactStore, Encoded, Payload, register_codec
from modelyard.storage import LocalStore

SETTLE = 0.2  # seconds; the gc's wait for registrations, shortened where none run


def disable_leases() -> None:
    """Switch the put/gc lease protocol off in this process (puts never wait, gc never defers),
    to show what it prevents."""
    from modelyard.artifacts import _gc, _store

    def never_wait(self: ArtifactStore, waiter: str) -> None:
        return None

    _store.ArtifactStore._wait_for_gc = never_wait  # type: ignore[method-assign]
    _gc.live_holders = lambda *args, **kwargs: ([], [])  # type: ignore[assignment]


def _settle_quickly() -> None:
    from modelyard.artifacts import _references

    _references.SETTLE = SETTLE


def putter(root: str, tag: str, rounds: int, results: str, protocol: bool = True) -> None:
    """Put content first as garbage (unnamed), then again under a name: the named put is a dedup
    hit on a blob a concurrent gc wants to delete."""
    if not protocol:
        disable_leases()
    artifacts = ArtifactStore(LocalStore(root))
    rng = random.Random(tag)
    lines = []
    for i in range(rounds):
        content = f"{i % 7}".encode() * rng.randint(1, 50_000)
        artifacts.put(content)
        ref = artifacts.put(content, name=f"keep-{tag}-{i}")
        lines.append(f"{ref.id} {ref.digest} {len(content)}\n")
        time.sleep(rng.uniform(0, 0.01))
    Path(results).write_text("".join(lines))


def collector(root: str, stop: str, results: str, protocol: bool = True) -> None:
    from datetime import timedelta

    _settle_quickly()
    if not protocol:
        disable_leases()
        from modelyard.artifacts import _references

        _references.SETTLE = 0.0
    artifacts = ArtifactStore(LocalStore(root))
    swept = deferred = removed = 0
    while not os.path.exists(stop):
        report = artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=True)
        if report.deferred:
            deferred += 1
        else:
            swept += 1
            removed += len(report.artifacts)
    Path(results).write_text(f"{swept} {deferred} {removed}")


class SlowCodec:
    """Writes ``size`` bytes in 256 KiB pieces; after the first MiB it says so and slows down."""

    name = "test-slow"

    def can_encode(self, obj: Any) -> bool:
        return False

    def encode(self, obj: Any) -> Encoded:
        ready, size = obj

        def write(sink: IO[bytes]) -> None:
            piece = b"x" * (256 * 1024)
            written = 0
            while written < size:
                sink.write(piece)
                written += len(piece)
                if written == 1024 * 1024:
                    Path(ready).touch()
                if written > 1024 * 1024:
                    time.sleep(0.05)

        return Encoded("application/octet-stream", write)

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return payload.read()


def slow_put(root: str, ready: str, parent: str) -> None:
    register_codec(SlowCodec(), clobber=True)
    artifacts = ArtifactStore(LocalStore(root))
    artifacts.put((ready, 64 * 1024 * 1024), codec="test-slow", name="slow", parents=[parent])


def busy_putter(root: str, seed: int) -> None:
    """Puts forever (until killed): files, bytes and directories, with names and parents."""
    artifacts = ArtifactStore(LocalStore(root))
    rng = random.Random(seed)
    work = Path(root).parent / f"work-{seed}"
    work.mkdir(exist_ok=True)
    previous = None
    while True:
        kind = rng.choice(["bytes", "file", "dir"])
        if kind == "bytes":
            obj: Any = rng.randbytes(rng.randint(1, 1_000_000))
        else:
            folder = work / f"d{rng.randint(0, 1 << 30)}"
            folder.mkdir()
            for n in range(rng.randint(1, 4)):
                (folder / f"f{n}.bin").write_bytes(rng.randbytes(rng.randint(0, 300_000)))
            obj = folder if kind == "dir" else folder / "f0.bin"
        parents = [previous] if previous is not None else []
        previous = artifacts.put(obj, name=f"busy-{kind}", parents=parents)


def change_on_signal(go: Any, done: Any, action: str, path: str) -> None:
    """Another process changing a folder while it is being stored: append to a file, create one,
    or delete one, once ``go`` is set."""
    if not go.wait(30):
        return
    target = Path(path)
    if action == "append":
        with open(target, "ab") as handle:
            handle.write(b"appended by another process")
    elif action == "create":
        target.write_bytes(b"a file that appeared")
    elif action == "delete":
        target.unlink()
    done.set()


class SlowBlobListing(LocalStore):
    """Listing the blobs takes ``delay`` seconds, as on a large bucket; ``trigger`` is touched
    when it starts."""

    def __init__(self, root: str, trigger: str, delay: float) -> None:
        super().__init__(root)
        self.trigger, self.delay = trigger, delay

    def list(self, prefix: str = "") -> list[str]:
        if prefix == "blobs/sha256/":
            Path(self.trigger).touch()
            time.sleep(self.delay)
        return super().list(prefix)


class SlowAfterBlobCheck(LocalStore):
    """Asking whether a blob exists answers, then touches ``trigger`` and takes ``delay``
    seconds before returning the (by then perhaps outdated) answer."""

    def __init__(self, root: str, trigger: str, delay: float) -> None:
        super().__init__(root)
        self.trigger, self.delay = trigger, delay

    def exists(self, key: str) -> bool:
        found = super().exists(key)
        if key.startswith("blobs/"):
            Path(self.trigger).touch()
            time.sleep(self.delay)
        return found


def put_stalled(
    root: str, trigger: str, delay: float, content: bytes, ttl: float, out: str
) -> None:
    """Put ``content`` named "reused" through :class:`SlowAfterBlobCheck`; write "stored" or the
    name of the error raised to ``out``."""
    from datetime import timedelta

    store = SlowAfterBlobCheck(root, trigger, delay)
    try:
        ArtifactStore(store, lease_ttl=timedelta(seconds=ttl)).put(content, name="reused")
    except Exception as exc:
        Path(out).write_text(type(exc).__name__)
    else:
        Path(out).write_text("stored")


class SlowDeletes(LocalStore):
    """Each delete takes ``delay`` seconds; ``trigger`` is touched at the first one."""

    def __init__(self, root: str, trigger: str, delay: float) -> None:
        super().__init__(root)
        self.trigger, self.delay = trigger, delay

    def delete(self, key: str) -> None:
        if not key.startswith("leases/"):
            Path(self.trigger).touch()
            time.sleep(self.delay)
        super().delete(key)


def put_after(root: str, trigger: str, wait: float, content: bytes, name: str, ttl: float) -> None:
    """Once ``trigger`` exists, wait ``wait`` seconds, then put ``content`` under ``name``."""
    from datetime import timedelta

    while not os.path.exists(trigger):
        time.sleep(0.01)
    time.sleep(wait)
    ArtifactStore(LocalStore(root), lease_ttl=timedelta(seconds=ttl)).put(content, name=name)


def put_slowly(
    root: str, trigger: str, delay: float, content: bytes, name: str, ttl: float
) -> None:
    """Put ``content`` through a store where checking for the blob takes ``delay`` seconds."""
    from datetime import timedelta

    store = SlowAfterBlobCheck(root, trigger, delay)
    ArtifactStore(store, lease_ttl=timedelta(seconds=ttl)).put(content, name=name)


def slow_gc(root: str, trigger: str, delay: float, ttl: float, results: str) -> None:
    """One gc (grace 0, names not kept) whose deletes take ``delay`` seconds each."""
    from datetime import timedelta

    _settle_quickly()
    artifacts = ArtifactStore(SlowDeletes(root, trigger, delay), lease_ttl=timedelta(seconds=ttl))
    report = artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=False)
    Path(results).write_text(f"{int(report.interrupted)} {len(report.artifacts)}")


def slow_get(root: str, ref: str, dest: str, ready: str) -> None:
    """Restore a tree with a store that stalls after every read (until killed); ``ready`` appears
    once some files have been written."""
    import modelyard.artifacts._packs as packs
    from modelyard.artifacts import Progress

    packs._RUN_FILES = 2  # a pack's files are read a few at a time, each read stalls

    class Stalling(LocalStore):
        def read(self, key: str) -> bytes:
            data = super().read(key)
            time.sleep(0.05)
            return data

        def open(self, key: str) -> BinaryIO:
            stream = super().open(key)
            time.sleep(0.05)
            return stream

    def progress(p: Progress) -> None:
        if p.files_done >= 4:
            Path(ready).touch()

    ArtifactStore(Stalling(root), io_threads=4).get(ref, dest=dest, progress=progress)


def slow_packed_put(root: str, folder: str, ready: str) -> None:
    """Put a folder in packs of 2,000 bytes, slowly once a few packs are stored (until killed);
    ``ready`` appears then."""
    import modelyard.artifacts._packs as packs
    from modelyard.artifacts import Progress

    packs.PACK_TARGET = 2000

    def progress(p: Progress) -> None:
        if p.files_done >= 10:
            Path(ready).touch()
            time.sleep(0.05)

    ArtifactStore(LocalStore(root)).put(Path(folder), name="packed", progress=progress)


def context() -> multiprocessing.context.BaseContext:
    """fork where there is fork (quick, and the child sees the parent's test setup), else spawn."""
    return multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )


def kill_when_ready(target: Callable[..., None], args: tuple[Any, ...], ready: Path) -> None:
    """Run ``target(*args)`` in a child process, wait (up to 60 s) until it makes ``ready``,
    then kill it with SIGKILL and check that this is how it ended."""
    child = context().Process(target=target, args=args)
    child.start()
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline and child.is_alive()
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join()
    assert child.exitcode == -signal.SIGKILL
