"""A store that waits a fixed time before each request, as a remote bucket makes its callers wait.

On a local folder a request takes microseconds; on S3 each one is a network round trip of 10 to 50
ms. Running an operation over this wrapper shows how its time grows with the requests it makes,
before it meets a real bucket. The wait is a sleep, so threads that issue requests in parallel
wait in parallel, as they would on the network.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from modelyard.errors import InputError
from modelyard.storage._protocol import Store, StoreCapabilities
from modelyard.storage._wrapping import WrappedStore

__all__ = ["LatencyStore"]


class LatencyStore(WrappedStore):
    """A :class:`~modelyard.storage.Store` that adds ``latency`` seconds to every request.

    A request is what :class:`~modelyard.storage.CountingStore` counts: a call of a primitive
    (``read``, ``open``, ``exists``, ``list``, ``write``, ``create``, ``delete``,
    ``write_volatile``) or the commit of a staged write. The default, 20 ms, is a typical round
    trip to S3 from the same region.

    >>> import time
    >>> from modelyard.storage import LatencyStore, MemoryStore
    >>> store = LatencyStore(MemoryStore(), latency=0.05)
    >>> started = time.perf_counter()
    >>> store.write("a", b"1"); store.read("a")
    b'1'
    >>> time.perf_counter() - started >= 0.1  # two requests
    True
    """

    def __init__(self, inner: Store, latency: float = 0.02) -> None:
        if (
            isinstance(latency, bool)
            or not isinstance(latency, (int, float))
            or not math.isfinite(latency)
            or latency < 0
        ):
            raise InputError(
                f"latency must be a finite number of seconds, 0 or more, got {latency!r}: pass "
                "for example latency=0.02 for 20 ms per request."
            )
        super().__init__(inner)
        self._latency = float(latency)

    @property
    def latency(self) -> float:
        """The seconds added to each request."""
        return self._latency

    @property
    def capabilities(self) -> StoreCapabilities:
        """The wrapped store's, but never ``local`` when requests wait: a round trip is what
        overlapping requests saves."""
        inner = self._inner.capabilities
        return dataclasses.replace(inner, local=inner.local and not self._latency)

    def _request(self, kind: str) -> None:
        if self._latency:
            time.sleep(self._latency)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LatencyStore, (self._inner, self._latency))

    def __repr__(self) -> str:
        return f"LatencyStore({self._inner!r}, latency={self._latency!r})"
