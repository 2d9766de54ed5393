"""A store that counts the requests made of it, by kind: what an operation costs on a bucket."""

from __future__ import annotations

import threading
from typing import Any

from modelyard.storage._protocol import Store
from modelyard.storage._wrapping import REQUEST_KINDS, WrappedStore

__all__ = ["CountingStore"]


class CountingStore(WrappedStore):
    """A :class:`~modelyard.storage.Store` that counts each request before passing it on.

    Wrap any store, run an operation, and read how many requests of each kind it made: ``read``,
    ``open``, ``exists``, ``list``, ``write``, ``write_volatile``, ``create``, ``commit`` (the
    publishing of a staged write) and ``delete``. On S3 (:class:`FsspecStore`) a ``read`` is one
    GET, ``exists`` one HEAD, ``list`` one LIST per 1,000 keys, ``write`` and ``create`` one PUT
    (multipart for large values), ``open`` a HEAD and a GET per block read, ``delete`` a HEAD and
    a DELETE; ``docs/storage.md`` tabulates what modelyard's operations cost. Counting is
    thread-safe; a copy of the store in another process counts on its own.

    >>> from modelyard.storage import CountingStore, MemoryStore
    >>> store = CountingStore(MemoryStore())
    >>> store.create("a", b"1")
    >>> store.read("a"), store.exists("b")
    (b'1', False)
    >>> store.counts
    {'read': 1, 'exists': 1, 'create': 1}
    >>> store.reset()  # the counts so far, and start again
    {'read': 1, 'exists': 1, 'create': 1}
    >>> store.total
    0
    """

    #: Every kind of request counted, in the order :attr:`counts` lists them.
    KINDS = REQUEST_KINDS

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self._counts = dict.fromkeys(REQUEST_KINDS, 0)
        self._lock = threading.Lock()

    def _request(self, kind: str) -> None:
        with self._lock:
            self._counts[kind] += 1

    @property
    def counts(self) -> dict[str, int]:
        """The requests made so far, by kind (kinds not seen yet are left out)."""
        with self._lock:
            return {kind: count for kind, count in self._counts.items() if count}

    @property
    def total(self) -> int:
        """The number of requests made so far, of every kind."""
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> dict[str, int]:
        """Start counting from zero; returns the counts until now (as :attr:`counts`)."""
        with self._lock:
            taken = {kind: count for kind, count in self._counts.items() if count}
            self._counts = dict.fromkeys(REQUEST_KINDS, 0)
        return taken

    def __reduce__(self) -> tuple[Any, ...]:
        # A lock does not pickle; a copy sent to another process starts from zero.
        return (CountingStore, (self._inner,))

    def __repr__(self) -> str:
        return f"CountingStore({self._inner!r}, <{self.total} requests>)"
