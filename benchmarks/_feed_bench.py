"""The event feed's figures for ``benchmarks/registry.py``: what an idle poll costs with 1,000
models, how soon a watcher sees a commit, and how fast ``events()`` reads a feed."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from modelyard.registry import Registry
from modelyard.storage import LocalStore, Store


class CountingStore:
    """A store that counts the calls of each primitive."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


def feed_rows(root: Path, models: int = 1000, commits: int = 20, poll: float = 0.1) -> list[str]:
    store = CountingStore(LocalStore(root, durable=False))
    writer = Registry(store)
    for m in range(models):
        writer.register(f"m{m:04d}", b"w")

    time.sleep(0.5)  # the writer's last markers are written on a thread of their own
    reader = Registry(store)
    start = time.perf_counter()
    page = reader.events()
    read_s = time.perf_counter() - start
    cursor = page.cursor
    store.calls.clear()
    polls = 10
    for _ in range(polls):
        cursor = reader.events(cursor).cursor
    per_poll = {name: count / polls for name, count in sorted(store.calls.items())}

    stop = threading.Event()
    seen: dict[int, float] = {}
    ready = threading.Event()

    def watch() -> None:
        watching = Registry(store).watch(poll=poll, stop=stop, reconcile_every=None)
        ready.set()
        for event in watching:
            if event.model == "m0001":
                seen[event.seq] = time.perf_counter()

    thread = threading.Thread(target=watch)
    thread.start()
    ready.wait()
    committed: dict[int, float] = {}
    for n in range(commits):
        writer.set_alias("m0001", "champion", 1)
        committed[n + 2] = time.perf_counter()
        time.sleep(poll * 1.37)  # not in step with the polls
    time.sleep(poll * 3)
    stop.set()
    thread.join()
    latencies = [seen[seq] - at for seq, at in committed.items() if seq in seen]
    costs = ", ".join(f"{count:g} {name}" for name, count in per_poll.items())
    return [
        f"{'feed: idle poll, 1,000 models (store calls)':52} {costs}",
        f"{'feed: commit -> watcher sees it, poll ' + str(poll) + ' s, median ms':52} "
        f"{statistics.median(latencies) * 1000:12.1f}  ({len(latencies)}/{commits} seen)",
        f"{'feed: events() from the start, new Registry (ev/s)':52} {len(page) / read_s:12.0f}"
        f"  ({len(page)} events)",
    ]
