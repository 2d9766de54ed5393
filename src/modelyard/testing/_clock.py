"""A controllable clock: the supported fake for time-dependent tests."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that moves only when told to. Thread-safe.

    Pass it wherever modelyard takes a ``clock`` (the registry does), then ``advance`` it.

    >>> from datetime import datetime, timezone
    >>> clock = FakeClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> clock.advance(hours=1).isoformat()
    '2026-01-01T01:00:00+00:00'
    """

    def __init__(self, start: datetime | None = None, *, tick: timedelta | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime (e.g. tzinfo=timezone.utc)")
        self._now = start
        self._tick = tick or timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current fake time; advances by ``tick`` after each call if one was given."""
        with self._lock:
            current = self._now
            self._now = current + self._tick
            return current

    def advance(
        self, delta: timedelta | None = None, *, seconds: float = 0, minutes: float = 0,
        hours: float = 0, days: float = 0,
    ) -> datetime:  # fmt: skip
        """Move the clock forward and return the new time."""
        step = (delta or timedelta(0)) + timedelta(
            seconds=seconds, minutes=minutes, hours=hours, days=days
        )
        with self._lock:
            self._now += step
            return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"
