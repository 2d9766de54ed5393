"""Functions run in child processes by the catalog's multi-process tests."""

from __future__ import annotations

from typing import Any

from modelyard.yard import open_yard


def register_and_announce(path: str, worker: int, count: int, barrier: Any, out: Any) -> None:
    """Register ``count`` versions over a few models; announce each after register returned."""
    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    for n in range(count):
        name = f"w{worker}-m{n % 3}"
        mv = registry.register(name, b"w", tags={"team": "risk" if n % 2 else "ops"})
        out.put((mv.name, mv.version))
    out.put(None)


def search_after_announcements(
    path: str, writers: int, cold_every: int, announced: Any, out: Any
) -> None:
    """Search after every announcement; report each announced version a search missed."""
    registry = open_yard(path).registry
    seen: set[tuple[str, int]] = set()
    done = searches = 0
    missed: list[tuple[str, int]] = []
    while done < writers:
        item = announced.get(timeout=120)
        if item is None:
            done += 1
            continue
        seen.add(tuple(item))
        searches += 1
        if searches % cold_every == 0:
            registry = open_yard(path).registry  # a new object: the stored catalog, then the feed
        found = {(v.name, v.version) for v in registry.search()}
        missed += sorted(seen - found)
    out.put((searches, missed))
