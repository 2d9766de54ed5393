"""``open_yard``: one object holding a store, its artifacts and its registry."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from modelyard._internal.clock import Clock
from modelyard.artifacts import ArtifactStore
from modelyard.lifecycle import Lifecycle
from modelyard.registry import Registry
from modelyard.storage import Store, open_store

__all__ = ["DEFAULT_LOCATION", "Yard", "open_yard"]

#: Where :func:`open_yard` keeps everything when given no location: a folder in the working dir.
DEFAULT_LOCATION = "./.modelyard"


class Yard:
    """A store with its :class:`~modelyard.artifacts.ArtifactStore` and
    :class:`~modelyard.registry.Registry`. Safe to share between threads."""

    def __init__(
        self,
        store: Store,
        *,
        lifecycle: Lifecycle | Callable[[str], Lifecycle] | None = None,
        clock: Clock | None = None,
        actor: str | None = None,
        allow_non_atomic_create: bool = False,
    ) -> None:
        self.store = store
        self.artifacts = ArtifactStore(store, clock=clock)
        self.registry = Registry(
            store,
            self.artifacts,
            lifecycle=lifecycle,
            clock=clock,
            actor=actor,
            allow_non_atomic_create=allow_non_atomic_create,
        )

    def __repr__(self) -> str:
        return f"Yard({self.store!r})"


def open_yard(
    location: str | os.PathLike[str] | Store = DEFAULT_LOCATION,
    *,
    lifecycle: Lifecycle | Callable[[str], Lifecycle] | None = None,
    clock: Clock | None = None,
    actor: str | None = None,
    allow_non_atomic_create: bool = False,
    **store_options: Any,
) -> Yard:
    """Open (or create) a yard at a local folder, any fsspec URL, or on a :class:`Store`.

    ``store_options`` go to :func:`~modelyard.storage.open_store` (for example
    ``endpoint_url=...`` for S3). ``lifecycle`` governs every model (or pass a function of the
    model name); ``actor`` is recorded on changes that do not name one.

    >>> import modelyard as my, tempfile
    >>> yard = my.open_yard(tempfile.mkdtemp())
    >>> ref = yard.artifacts.put([1, 2, 3], name="numbers")
    >>> yard.artifacts.get("numbers@latest")
    [1, 2, 3]
    """
    store = open_store(location, **store_options)
    return Yard(
        store,
        lifecycle=lifecycle,
        clock=clock,
        actor=actor,
        allow_non_atomic_create=allow_non_atomic_create,
    )
