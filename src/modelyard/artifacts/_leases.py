"""Leases: how puts and gc tell each other they are running, with no lock and no server.

A put writes ``leases/put/<id>`` before it touches anything, then looks for gc leases; a gc writes
``leases/gc/<id>`` before it decides anything, then looks for put leases. Each writes its own lease
before reading the other's, so with a store whose reads see completed writes (every built-in store,
S3 included) at least one of them sees the other: either the put waits until the gc has finished,
or the gc defers its sweep. Leases carry a timestamp and are renewed every quarter of their
time-to-live; one older than that belongs to a process that died, and is ignored.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from modelyard._internal.canonical import canonical_json, loads
from modelyard._internal.clock import Clock
from modelyard.errors import NotFoundError
from modelyard.storage import Store

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Lease", "fresh_leases", "wait_for_no_leases"]


class Lease:
    """One held lease. ``renew()`` is cheap to call often: it writes only every ``ttl / 4``."""

    def __init__(self, store: Store, prefix: str, clock: Clock, ttl: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._interval = ttl.total_seconds() / 4
        self.key = f"{prefix}{uuid.uuid4().hex}"
        self._written = 0.0
        self._write()

    def _write(self) -> None:
        body = {"at": self._clock.now().isoformat(), "pid": os.getpid()}
        self._store.write(self.key, canonical_json(body))
        self._written = time.monotonic()

    def renew(self) -> None:
        if time.monotonic() - self._written >= self._interval:
            self._write()

    def release(self) -> None:
        with contextlib.suppress(NotFoundError):
            self._store.delete(self.key)


def _leases(store: Store, prefix: str) -> Iterator[tuple[str, datetime | None]]:
    for key in store.list(prefix):
        gone, moment = _read_lease(store, key)
        if not gone:
            yield key, moment


def _read_lease(store: Store, key: str) -> tuple[bool, datetime | None]:
    """``(gone, time)``: time is None for an unreadable lease, which counts as stale."""
    try:
        body = loads(store.read(key))
        return False, datetime.fromisoformat(body["at"])
    except NotFoundError:
        return True, None  # released while we listed
    except (ValueError, KeyError, TypeError):
        return False, None


def fresh_leases(
    store: Store, prefix: str, clock: Clock, ttl: timedelta, *, exclude: str = ""
) -> tuple[list[str], list[str]]:
    """``(fresh, stale)`` lease keys under ``prefix``."""
    now = clock.now()
    fresh, stale = [], []
    for key, moment in _leases(store, prefix):
        if key == exclude:
            continue
        if moment is not None and now - moment < ttl:
            fresh.append(key)
        else:
            stale.append(key)
    return fresh, stale


def wait_for_no_leases(
    store: Store, prefix: str, clock: Clock, ttl: timedelta, *, own: Lease
) -> None:
    """Block while a lease that was fresh under ``prefix`` when we looked is still there.

    Only the leases seen at the first look are waited for: one written later was written after
    ``own``, so its holder sees ``own`` and stands back. That keeps a put from starving behind a
    gc that runs in a loop.
    """
    blocking = set(fresh_leases(store, prefix, clock, ttl)[0])
    delay = 0.01
    while blocking:
        own.renew()
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
        blocking &= set(fresh_leases(store, prefix, clock, ttl)[0])
