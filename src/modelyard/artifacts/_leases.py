"""Leases: how puts and gc tell each other they are running, with no lock and no server.

A put writes a lease under ``leases/put/`` before it touches anything, then looks for gc leases;
a gc writes one under ``leases/gc/`` before it decides anything, then looks for put leases. Each
writes its own lease before reading the other's, so with a store whose listings see completed
writes (every built-in store, S3 included) at least one of them sees the other: either the put
waits until the gc has finished, or the gc defers its sweep.

**What a lease says.** Everything is in the key (``_layout.lease_key``): when it was last renewed,
a random token, when the holder started, and the holder's host, pid and process start time. The
value is the JSON ``{"at", "pid"}`` that earlier versions read, or empty when the store has no
room for it: an empty value needs no data blocks, so gc can still announce itself on a full disk.
One listing shows every holder; no lease is read unless it is one of an earlier version.

**Renewal.** One daemon thread per process renews every held lease every ``ttl / 4``, whatever
the holder is doing (hashing a huge file, marking a large bucket, waiting for one long upload):
it writes the lease under a new key with a fresh time, then deletes the key before the previous
one. Readers group keys by token and take the newest. Keeping the previous key matters: a listing
is not a snapshot, and one that ran while a key was replaced could miss both the old key and the
new one; the previous key exists for a whole renewal interval around any listing shorter than
that interval, so no listing misses a live lease. The thread dies with the process, so a dead
holder stops renewing.

**Alive or dead.** A lease is alive while its newest renewal is younger than ``ttl`` by the
reader's clock. A holder on the reader's own host whose process is gone (``_processes.py``) is dead
at once, whatever the time. Earlier versions renewed only every 2.5 minutes, so their leases count
as alive for ``max(ttl, 10 minutes)`` after their ``at``; an unreadable lease of theirs is dead,
as it was for them. Readers are in ``_holders.py``.

**Losing a lease.** A holder that could not renew for ``ttl / 2`` by its own monotonic clock (it
was paused, or the store refused the writes) may already look dead to others, so it stops relying
on its lease: :meth:`Lease.held` turns False, gc then deletes nothing more, and a put re-announces
itself and re-checks what it relies on before it commits. This is safe when the clocks of the
machines sharing a store differ by less than ``ttl / 2`` (30 s with the default one-minute ttl):
a live holder's newest renewal is then at most ``ttl / 2`` old in real time, younger than any
reader can take for ``ttl``.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import uuid
from datetime import datetime, timedelta

from modelyard._internal.canonical import canonical_json
from modelyard._internal.clock import Clock
from modelyard.artifacts._layout import LeaseKey, lease_key, stamp
from modelyard.artifacts._processes import host_id, start_of
from modelyard.errors import NotFoundError
from modelyard.storage import Store

__all__ = ["Lease", "elapsed"]

logger = logging.getLogger("modelyard.artifacts")

_FULL = {errno.ENOSPC, errno.EDQUOT}


def elapsed() -> float:
    """Seconds on a clock that never goes back and, where the system has one, keeps counting
    while the machine sleeps (a suspended laptop must not look like no time passed)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return time.clock_gettime(boottime)
    return time.monotonic()


class Lease:
    """One held lease, renewed in the background until :meth:`release`.

    Raises what the store raises if the first announcement cannot be written (an ``OSError``
    with ``errno.ENOSPC`` only if even an empty value does not fit).
    """

    def __init__(self, store: Store, prefix: str, clock: Clock, ttl: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl.total_seconds()
        self._interval = max(self._ttl / 4, 0.01)
        self._lock = threading.Lock()
        self._released = False
        self._lapsed = False
        self._full = False
        started = stamp(clock.now())
        pid = os.getpid()
        token = uuid.uuid4().hex[:16]
        self._parts = LeaseKey(prefix, started, token, started, host_id(), pid, start_of(pid))
        self.key = ""
        self._previous = ""
        self._renewed_at = 0.0
        self.next_due = 0.0
        self._renew(first=True)
        _heartbeat.add(self)

    @property
    def token(self) -> str:
        """The random part of the key that stays the same across renewals."""
        return self._parts.token

    def held(self) -> bool:
        """Whether every other process has seen this lease alive all along (see the module doc).

        Once a renewal came too late, this stays False even after later renewals succeed: others
        may have passed the holder over in between. :meth:`renew_now` starts afresh.
        """
        if self._released or self._lapsed:
            return False
        return elapsed() - self._renewed_at < self._ttl / 2

    def renew_now(self) -> None:
        """Renew at once and start afresh (:meth:`held` is True again); raises what the store
        raises if it cannot. The caller must then look again at what others announced."""
        self._renew(first=False, strict=True)
        self._lapsed = False

    def renew_if_due(self) -> None:
        """Called by the heartbeat thread; never raises (a failed renewal is retried soon)."""
        if elapsed() >= self.next_due:
            self._renew(first=False)

    def _renew(self, *, first: bool, strict: bool = False) -> None:
        with self._lock:
            if self._released:
                return
            moment = elapsed()
            now = self._clock.now()
            key = lease_key(self._parts._replace(renewed=stamp(now)))
            try:
                self._write(key, now)
            except Exception:
                if first or strict:
                    raise
                logger.debug("renewing lease %s failed; retrying", self.key, exc_info=True)
                self.next_due = moment + self._interval / 4
                return
            older, self._previous, self.key = self._previous, self.key, key
            # Until this write completed, only the older keys spoke for us.
            if self._renewed_at and elapsed() - self._renewed_at >= self._ttl / 2:
                self._lapsed = True
            self._renewed_at = moment
            self.next_due = moment + self._interval
            if older and older not in (self._previous, key):
                _delete_quietly(self._store, older)

    def _write(self, key: str, now: datetime) -> None:
        if not self._full:
            body = canonical_json({"at": now.isoformat(), "pid": os.getpid()})
            try:
                self._store.write(key, body)
                return
            except OSError as exc:
                if exc.errno not in _FULL:
                    raise
                self._full = True  # from now on, announce with empty values
        self._store.write(key, b"")

    def release(self) -> None:
        """Stop renewing and delete the lease. Safe to call twice."""
        _heartbeat.remove(self)
        with self._lock:
            if self._released:
                return
            self._released = True
            for key in dict.fromkeys((self.key, self._previous)):
                if key:
                    _delete_quietly(self._store, key)


def _delete_quietly(store: Store, key: str) -> None:
    try:
        store.delete(key)
    except NotFoundError:
        pass
    except Exception:
        # A leftover key of a live lease is harmless (its newer key governs) and a leftover key of
        # a released one is dead by its time; gc removes both.
        logger.debug("could not delete lease key %s", key, exc_info=True)


class _Heartbeat:
    """The one thread per process that renews every held lease."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._leases: set[Lease] = set()
        self._thread: threading.Thread | None = None

    def add(self, lease: Lease) -> None:
        with self._cond:
            self._leases.add(lease)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="modelyard-leases", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def remove(self, lease: Lease) -> None:
        with self._cond:
            self._leases.discard(lease)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._leases:
                    self._cond.wait(60.0)
                    continue
                now = elapsed()
                due = min(lease.next_due for lease in self._leases)
                if due > now:
                    self._cond.wait(due - now)
                    continue
                todo = [lease for lease in self._leases if lease.next_due <= now]
            for lease in todo:
                lease.renew_if_due()


_heartbeat = _Heartbeat()


def _after_fork() -> None:
    # A child does not inherit the thread, and must not renew the leases its parent holds.
    global _heartbeat
    _heartbeat = _Heartbeat()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
