"""A store that passes every request to another store, announcing each one first.

The counting and the latency stores are this one class with a different announcement. A
request is one call of a primitive of the :class:`Store` protocol, or the ``commit`` of a staged
write (the moment staged bytes are published): what a remote store turns into network round
trips. ``capabilities`` is a property, not a request, and the reads of an open stream belong to
the ``open`` that made it.

The optional abilities (:class:`SupportsStaging`, :class:`SupportsVolatileWrite`) are offered
exactly when the wrapped store has them, because callers choose their path by ``isinstance``:
a wrapper that always offered staging would change what it measures. Batched creates
(:class:`SupportsCreateBatch`) are never offered: a wrapper stands for a remote bucket, which
has no batch, so a folder's files are counted and delayed one ``create`` each.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any, BinaryIO, TypeVar, cast

from modelyard.errors import InputError
from modelyard.storage._protocol import (
    Data,
    Store,
    StoreCapabilities,
    SupportsStaging,
    SupportsVolatileWrite,
)

__all__ = ["REQUEST_KINDS", "WrappedStore"]

#: Every kind of request a wrapper sees, in the order tables show them.
REQUEST_KINDS = (
    "read",
    "open",
    "exists",
    "list",
    "write",
    "write_volatile",
    "create",
    "commit",
    "delete",
)

_W = TypeVar("_W", bound="WrappedStore")

# Plain attributes that say where a store is (never requests); forwarded so that a wrapped
# store is described as the store it wraps.
_DESCRIPTIVE = frozenset({"url", "root"})


class WrappedStore:
    """The wrapped store's behaviour, with :meth:`_request` called before each request."""

    def __new__(cls: type[_W], inner: Store, *args: Any, **kwargs: Any) -> _W:
        mixins = tuple(
            mixin
            for mixin, ability in ((_Staging, SupportsStaging), (_Volatile, SupportsVolatileWrite))
            if isinstance(inner, ability) and not issubclass(cls, mixin)
        )
        chosen: type[WrappedStore] = _with_abilities(cls, mixins) if mixins else cls
        return cast(_W, super().__new__(chosen))

    def __init__(self, inner: Store) -> None:
        if not isinstance(inner, Store):
            raise InputError(
                f"{type(self).__name__} wraps a Store, got {type(inner).__name__}: pass a store "
                "such as LocalStore(path), MemoryStore() or open_store(url)."
            )
        self._inner = inner

    @property
    def inner(self) -> Store:
        """The store every request is passed to."""
        return self._inner

    def _request(self, kind: str) -> None:
        raise NotImplementedError

    @property
    def capabilities(self) -> StoreCapabilities:
        return self._inner.capabilities

    def read(self, key: str) -> bytes:
        self._request("read")
        return self._inner.read(key)

    def open(self, key: str) -> BinaryIO:
        self._request("open")
        return self._inner.open(key)

    def write(self, key: str, data: Data) -> None:
        self._request("write")
        self._inner.write(key, data)

    def create(self, key: str, data: Data) -> None:
        self._request("create")
        self._inner.create(key, data)

    def exists(self, key: str) -> bool:
        self._request("exists")
        return self._inner.exists(key)

    def list(self, prefix: str = "") -> builtins.list[str]:
        self._request("list")
        return self._inner.list(prefix)

    def delete(self, key: str) -> None:
        self._request("delete")
        self._inner.delete(key)

    def __getattr__(self, name: str) -> Any:
        # Reached only for names the class lacks; ``__dict__`` is read directly so that a lookup
        # before ``_inner`` is set (while unpickling) cannot recurse.
        inner = self.__dict__.get("_inner")
        if name in _DESCRIPTIVE and hasattr(inner, name):
            return getattr(inner, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class _Staging:
    """Staging, for a wrapper whose store stages."""

    _inner: Any

    def stage(self) -> _WrappedStagedWrite:
        assert isinstance(self, WrappedStore)
        return _WrappedStagedWrite(self, self._inner.stage())


class _Volatile:
    """Volatile writes, for a wrapper whose store makes them."""

    _inner: Any

    def write_volatile(self, key: str, data: Data) -> None:
        assert isinstance(self, WrappedStore)
        self._request("write_volatile")
        self._inner.write_volatile(key, data)


_SUBCLASSES: dict[tuple[type, tuple[type, ...]], type[WrappedStore]] = {}
_SUBCLASSES_LOCK = threading.Lock()


def _with_abilities(cls: type[WrappedStore], mixins: tuple[type, ...]) -> type[WrappedStore]:
    # A subclass per combination, made once: protocol checks look at the class (on Python 3.12
    # without calling __getattr__), so the methods must really be there, or really be absent.
    with _SUBCLASSES_LOCK:
        made = _SUBCLASSES.get((cls, mixins))
        if made is None:
            namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
            made = _SUBCLASSES[cls, mixins] = type(cls.__name__, (cls, *mixins), namespace)
        return made


class _WrappedStagedWrite:
    """A staged write of the wrapped store whose ``commit`` is announced as a request."""

    def __init__(self, store: WrappedStore, staged: Any) -> None:
        self._store = store
        self._staged = staged

    def write(self, data: bytes | memoryview) -> int:
        return int(self._staged.write(data))

    def commit(self, key: str) -> bool:
        self._store._request("commit")
        return bool(self._staged.commit(key))

    def abort(self) -> None:
        self._staged.abort()

    def __getattr__(self, name: str) -> Any:
        # ``fileno`` lets a durable local store start writeback early; keep that path open.
        if name == "fileno" and hasattr(self.__dict__.get("_staged"), "fileno"):
            return self._staged.fileno
        raise AttributeError(name)
