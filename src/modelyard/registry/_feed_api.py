"""The checks and defaults behind ``Registry.events`` and ``Registry.watch``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from modelyard.errors import InputError
from modelyard.registry._cursor import Cursor
from modelyard.registry._feed import Feed
from modelyard.registry._layout import marker_at
from modelyard.registry._records import FeedEvent, FeedPage
from modelyard.registry._watch import watch_feed

__all__ = ["cursor_now", "read_events", "watch_events"]


def cursor_now(now: datetime) -> Cursor:
    """The cursor at the feed's end as of ``now``: what is committed later comes after it."""
    return Cursor(marker_at(now))


def read_events(feed: Feed, since: str | None, now: datetime, *, limit: int | None) -> FeedPage:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError(f"limit must be a positive int or None, got {limit!r}", limit=limit)
    cursor = Cursor(None) if since is None else Cursor.decode(since)
    events, after = feed.read(cursor, now, limit=limit)
    return FeedPage(tuple(events), after.encode())


def watch_events(
    feed: Feed,
    since: str | None,
    now: Callable[[], datetime],
    *,
    poll: float,
    stop: threading.Event | None,
    timeout: float | None,
    reconcile_every: float | None,
) -> Iterator[FeedEvent]:
    # Checked here, not in the generator, so that bad input fails at the call.
    _seconds("poll", poll, positive=True)
    if timeout is not None:
        _seconds("timeout", timeout, positive=False)
    if reconcile_every is not None:
        _seconds("reconcile_every", reconcile_every, positive=True)
    if stop is not None and not isinstance(stop, threading.Event):
        raise InputError(f"stop must be a threading.Event or None, got {stop!r}", stop=stop)
    cursor = cursor_now(now()) if since is None else Cursor.decode(since)
    return watch_feed(
        feed,
        cursor,
        now,
        poll=poll,
        stop=stop,
        timeout=timeout,
        reconcile_every=reconcile_every,
    )


def _seconds(what: str, value: Any, *, positive: bool) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value < 0
        or (positive and value == 0)
    ):
        bound = "a positive" if positive else "a non-negative"
        raise InputError(
            f"{what} must be {bound} number of seconds, got {value!r}", **{what: value}
        )
