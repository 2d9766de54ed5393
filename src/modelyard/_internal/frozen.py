"""A read-only mapping that prints like a dict, for values of public records and configs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only mapping that is hashable when its values are.

    Unlike :class:`types.MappingProxyType` it owns a private copy of its items, compares equal to
    any mapping with the same items, and hashes like a ``frozenset`` of its items, so value objects
    that hold one stay hashable.

    >>> m = FrozenMap({"auc": 0.9})
    >>> m, m == {"auc": 0.9}, hash(m) == hash(FrozenMap({"auc": 0.9}))
    ({'auc': 0.9}, True, True)
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data) if data is not None else {}
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        # Computing twice under a race is harmless: both threads store the same number.
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))
