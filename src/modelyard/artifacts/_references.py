"""Recording a reference to an artifact while a gc may run, without writing anything extra.

A gc keeps what the root sources refer to (``_roots.py``). Whoever records a new reference (the
registry's ``register`` writing its event) races a gc that has already read the roots: that gc
may delete the artifact a moment after the reference lands. Puts avoid the same race with leases
(``_leases.py``), but a lease costs writes, and a registration must stay one write (its event).
So a reference is guarded by a listing and a clock instead, and a lease only when a gc is seen.

**gc** writes its lease (completed at time G), then reads the root sources only once ``SETTLE``
seconds have passed since G, and once every :class:`ReferenceGuard` of its own process that was
open at G has closed.

**A guard** around the write that records a reference to artifact A:

1. when made: reads A's manifest (checked against its id) and checks that its blobs exist, so a
   reference to a missing or incomplete artifact is refused before anything is written;
2. on entry: notes the time t0, then lists gc leases.
   *Slow path*, if a live gc lease is visible: write a put lease, wait for the gc leases then
   alive, check A again (:class:`~modelyard.errors.NotFoundError` if it was removed), and hold
   the put lease until the write is done. This is exactly a put (see ``_leases.py``).
   *Fast path* otherwise: nothing more;
3. the caller writes (completed at time t1);
4. on exit from the fast path: if ``t1 - t0 < SETTLE / 2``, done. Otherwise list gc leases
   again, wait for every live one, and check A: if it is gone, raise
   :class:`~modelyard.errors.ConcurrentModificationError`.

**Proof of the fast path** (``t1 - t0 < SETTLE / 2``). Take any gc. Had its lease been written
before the listing started, the listing would have shown it (listings see completed writes) and
the guard would be on the slow path; so G > t0. The gc reads the roots at
R >= G + SETTLE > t0 + SETTLE > t1: the reference was complete before the gc read the roots, so
the gc sees it and keeps A with its ancestors. Each side measures its own interval on its own
monotonic clock (``_leases.elapsed``, which keeps counting while a machine sleeps); clock rates
differ by parts per million, far inside the factor of two.

**Exit check** (``t1 - t0 >= SETTLE / 2``: the guarded write stalled). Any gc that reads the roots
after t1 sees the reference. One that read them before t1 wrote its lease before that, so the
second listing, after t1, shows it unless it has already ended. Once every one shown has ended,
no gc that could have missed the reference is left, so A's state is final: whole, or reported.
This case is detected rather than prevented: nothing that writes nothing before the reference can
prevent it, because the writer may stall for any time between its last look and its write (a put
holding a lease has the same limit: ``Lease.held``). It needs a single store write stalled for
more than ``SETTLE / 2``, a gc starting in that window, and A being otherwise unreferenced and
older than that gc's grace.

**Within one process** the guards are exact: gc waits for the guards already open when its lease
was complete, and a guard opened later lists after that lease and takes the slow path (a guard on
the slow path closes its entry before it waits, so the two never wait for each other). That is
all a store that no other process sees needs, so gc skips ``SETTLE`` on such stores.
"""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from types import TracebackType

from modelyard._internal.clock import Clock
from modelyard.artifacts._catalog import read_manifest
from modelyard.artifacts._holders import live_holders, wait_while_alive
from modelyard.artifacts._layout import LEASES_GC, LEASES_PUT, blob_key
from modelyard.artifacts._leases import Lease, elapsed
from modelyard.artifacts._manifest import Manifest
from modelyard.errors import ConcurrentModificationError, NotFoundError
from modelyard.storage import Store

__all__ = ["SETTLE", "ReferenceGuard", "open_guards", "wait_for_guards"]

#: Seconds a gc waits after announcing itself before it reads the root sources (see above).
SETTLE = 4.0

_cond = threading.Condition()
_open: set[int] = set()
_tokens = itertools.count()


def open_guards() -> set[int]:
    """The guards of this process open right now."""
    with _cond:
        return set(_open)


def wait_for_guards(guards: set[int]) -> None:
    """Block until every guard in ``guards`` has closed."""
    with _cond:
        while guards & _open:
            _cond.wait(1.0)


def _close(token: int | None) -> None:
    if token is None:
        return
    with _cond:
        _open.discard(token)
        _cond.notify_all()


class ReferenceGuard:
    """Guards the write that records a reference to one artifact against a concurrent gc.

    Made by :meth:`ArtifactStore.reference_guard`, which checks that the artifact is whole;
    use it as a context manager around the one write that records the reference, and nothing
    else. ``manifest`` is the artifact's manifest, read and checked when the guard was made.
    """

    def __init__(
        self, store: Store, artifact_id: str, manifest: Manifest, clock: Clock, ttl: timedelta
    ) -> None:
        self.artifact_id = artifact_id
        self.manifest = manifest
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._token: int | None = None
        self._lease: Lease | None = None
        self._began = 0.0
        self._check_blobs()

    def check(self) -> None:
        """Raise :class:`~modelyard.errors.NotFoundError` unless the manifest and every blob of
        the artifact are stored."""
        read_manifest(self._store, self.artifact_id)
        self._check_blobs()

    def _check_blobs(self) -> None:
        for digest in self.manifest.blob_digests():
            if not self._store.exists(blob_key(digest)):
                raise NotFoundError(
                    f"artifact {self.artifact_id} is incomplete: its blob {digest} is missing. "
                    "Run verify() on the artifact store, and put the object again",
                    id=self.artifact_id,
                    digest=digest,
                )

    def __enter__(self) -> ReferenceGuard:
        with _cond:
            self._token = next(_tokens)
            _open.add(self._token)
        self._began = elapsed()
        try:
            if live_holders(self._store, LEASES_GC, self._clock, self._ttl)[0]:
                _close(self._token)
                self._token = None
                self._lease = Lease(self._store, LEASES_PUT, self._clock, self._ttl)
                wait_while_alive(
                    self._store,
                    LEASES_GC,
                    self._clock,
                    self._ttl,
                    waiter=f"recording a reference to {self.artifact_id}",
                )
                self.check()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        took = elapsed() - self._began
        try:
            if exc_type is not None or self._lease is not None:
                return
            if took < SETTLE / 2 or not self._store.capabilities.shared_across_processes:
                return
            _close(self._token)
            wait_while_alive(
                self._store,
                LEASES_GC,
                self._clock,
                self._ttl,
                waiter=f"checking a reference to {self.artifact_id}",
            )
            try:
                self.check()
            except NotFoundError as error:
                raise ConcurrentModificationError(
                    f"the reference to artifact {self.artifact_id} was recorded, but the write "
                    f"took {took:.1f} s, and a garbage collection that started meanwhile removed "
                    f"the artifact ({error}). Store the object again and record a new reference",
                    id=self.artifact_id,
                ) from error
        finally:
            self._release()

    def _release(self) -> None:
        _close(self._token)
        self._token = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None
