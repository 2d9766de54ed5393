"""Watching the feed: poll it, and heal markers that were lost by reconciling with the logs.

A marker is lost when writing it failed (its event is written all the same), or the machine
crashes before a marker that was written without waiting for the disk reaches it. The event is
committed all the same, so a watcher that should never miss one reconciles every
``reconcile_every`` seconds: it lists the models and reads each model's head (a full scan, a few
requests per model), and delivers, checked along the chain, every event after what it had seen
when it started that it has not delivered yet. Healed events come late and out of feed order, but
exactly once: their marker names go into the cursor, so a marker that was only slow is skipped.
What the watcher had delivered is kept in memory; it starts with one such scan.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from modelyard.errors import ModelyardError, StoreError
from modelyard.registry._cursor import Cursor
from modelyard.registry._events import Event
from modelyard.registry._feed import Feed, Marker, feed_event
from modelyard.registry._layout import marker_at
from modelyard.registry._records import FeedEvent

__all__ = ["Reconciler", "watch_feed"]

logger = logging.getLogger("modelyard.registry")


class Reconciler:
    """Which events of each model a watcher has delivered: all up to ``floor``, and ``extra``."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.floor: dict[str, int] = {}
        self.extra: dict[str, set[int]] = {}
        for name, head in self._heads():
            self.floor[name] = head

    def saw(self, event: FeedEvent) -> None:
        name, floor = event.model, self.floor.get(event.model, 0)
        if event.seq <= floor:
            return
        extra = self.extra.setdefault(name, set())
        extra.add(event.seq)
        while floor + 1 in extra:
            floor += 1
            extra.discard(floor)
        self.floor[name] = floor

    def heal(self, cursor: Cursor) -> tuple[list[FeedEvent], Cursor]:
        """The committed events not delivered yet, in feed order, and the cursor after them."""
        found: list[tuple[Marker, Event]] = []
        for name, head in self._heads():
            floor, extra = self.floor.get(name, 0), self.extra.get(name, set())
            missing = [seq for seq in range(floor + 1, head + 1) if seq not in extra]
            if missing:
                for seq, event in self.feed.checked_events(name, missing).items():
                    found.append((Marker(marker_at(event.at), name, seq), event))
        healed: list[FeedEvent] = []
        for marker, event in sorted(found, key=lambda item: item[0]):
            logger.info("feed: %s had no marker; delivered by reconciling", marker.name)
            cursor = cursor.after([marker.name], None)
            healed.append(feed_event(marker.model, event, cursor.encode()))
            self.saw(healed[-1])
        return healed, cursor

    def _heads(self) -> Iterator[tuple[str, int]]:
        for name in self.feed.log.names():
            try:
                yield name, self.feed.log.state(name).head
            except ModelyardError as exc:
                logger.warning("feed: cannot reconcile model %r: %s", name, exc)


def watch_feed(
    feed: Feed,
    cursor: Cursor,
    now: Callable[[], datetime],
    *,
    poll: float,
    stop: threading.Event | None,
    timeout: float | None,
    reconcile_every: float | None,
) -> Iterator[FeedEvent]:
    """Watch the feed from ``cursor``; the first reconciling scan runs now, not at the first
    ``next()``, so that nothing committed between the call and the first poll is taken as seen."""
    reconciler = Reconciler(feed) if reconcile_every is not None else None
    return _poll(feed, cursor, now, reconciler, poll, stop, timeout, reconcile_every)


def _poll(
    feed: Feed,
    cursor: Cursor,
    now: Callable[[], datetime],
    reconciler: Reconciler | None,
    poll: float,
    stop: threading.Event | None,
    timeout: float | None,
    reconcile_every: float | None,
) -> Iterator[FeedEvent]:
    deadline = None if timeout is None else time.monotonic() + timeout
    next_scan = time.monotonic() + (reconcile_every or 0.0)
    while stop is None or not stop.is_set():
        try:
            events, cursor = feed.read(cursor, now())
        except StoreError as exc:  # a store that is briefly unreachable: try at the next poll
            logger.warning("feed: poll failed, retrying in %.1f s: %s", poll, exc)
            events = []
        for event in events:
            if reconciler is not None:
                reconciler.saw(event)
            yield event
        if reconciler is not None and reconcile_every is not None and time.monotonic() >= next_scan:
            try:
                healed, cursor = reconciler.heal(cursor)
            except StoreError as exc:
                logger.warning("feed: reconciling failed, retrying at the next poll: %s", exc)
            else:
                yield from healed
                next_scan = time.monotonic() + reconcile_every
        delay = poll
        if deadline is not None:
            delay = min(delay, deadline - time.monotonic())
            if delay <= 0:
                return
        if stop is not None:
            stop.wait(delay)
        else:
            time.sleep(delay)
