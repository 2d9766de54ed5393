"""Root sources: what the layers above pin in an artifact store, the way git refs keep commits.

The artifact layer knows no model names, so it cannot tell which artifacts a registry serves.
Instead, anything that refers to artifacts from outside the artifact store registers a *root
source*: a function that takes the :class:`~modelyard.storage.Store` and returns the ids of every
artifact it refers to in that store, or raises if it cannot tell (a log it cannot read). Every gc,
whichever object it runs from, asks every registered source; what they return is kept with all
its ancestors. A source that raises stops the sweep: gc deletes nothing and its report says why.

modelyard's own registry is declared by the top-level package, by dotted path, so every process
that imports anything from modelyard consults it (and imports the registry only when it runs a
gc). Nothing is written to pin an artifact: the registry's logs are the roots, so versions
registered before root sources existed are protected too.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from modelyard._internal import roots as _table
from modelyard._internal.hashing import DIGEST_PATTERN
from modelyard.errors import InputError
from modelyard.storage import Store

__all__ = [
    "RootSource",
    "read_roots",
    "register_root_source",
    "registered_root_sources",
    "unregister_root_source",
]


@runtime_checkable
class RootSource(Protocol):
    """Returns the ids of every artifact that something outside the artifact store refers to.

    Called with the store a gc runs on; it must return every id it refers to in that store (an
    empty iterable if none), or raise when it cannot account for them. Raising is always safe:
    the gc then deletes nothing.
    """

    def __call__(self, store: Store) -> Iterable[str]: ...


def register_root_source(name: str, source: RootSource | str, *, clobber: bool = False) -> None:
    """Make every gc in this process keep what ``source`` refers to (and its ancestors).

    ``source`` is a :class:`RootSource`, or a ``"package.module:function"`` string imported when a
    gc first needs it (a source that cannot be imported stops the sweep). A name that is taken
    raises :class:`~modelyard.errors.InputError` unless ``clobber=True``. Register at import time
    of the package that refers to artifacts: a gc in a process that never imported it cannot ask
    it.

    >>> from datetime import timedelta
    >>> from modelyard.artifacts import ArtifactStore
    >>> from modelyard.storage import MemoryStore
    >>> store = MemoryStore()
    >>> artifacts = ArtifactStore(store)
    >>> served = artifacts.put(b"weights")  # unnamed: only the source keeps it
    >>> register_root_source("doctest-pins", lambda s: [served.id] if s is store else [])
    >>> artifacts.gc(grace=timedelta(0), dry_run=False).pinned, artifacts.exists(served)
    (1, True)
    >>> unregister_root_source("doctest-pins")
    """
    if not isinstance(name, str) or not name:
        raise InputError(f"a root source needs a non-empty string name, not {name!r}")
    if isinstance(source, str):
        module, _, attribute = source.partition(":")
        if not module or not attribute:
            raise InputError(
                f"root source {name!r}: {source!r} is not a 'package.module:function' path"
            )
    elif not callable(source):
        raise InputError(
            f"root source {name!r} must be a function of the store returning artifact ids, or "
            f"a 'package.module:function' path, not {type(source).__name__}"
        )
    if name in _table.declared() and not clobber:
        raise InputError(
            f"a root source named {name!r} is already registered; pass clobber=True to replace it",
            name=name,
        )
    _table.declare(name, source)


def unregister_root_source(name: str) -> None:
    """Stop asking the source called ``name`` (no error if there is none)."""
    _table.withdraw(name)


def registered_root_sources() -> Mapping[str, RootSource | str]:
    """A read-only view of the registered sources by name (dotted paths not yet imported).

    >>> "registry" in registered_root_sources()
    True
    """
    return MappingProxyType(dict(_table.declared()))  # type: ignore[arg-type]


def _load(name: str, source: object) -> RootSource:
    if not isinstance(source, str):
        return source  # type: ignore[return-value]
    module, _, attribute = source.partition(":")
    loaded = getattr(importlib.import_module(module), attribute)
    _table.declare(name, loaded)  # import once per process
    return loaded  # type: ignore[no-any-return]


def read_roots(store: Store) -> tuple[set[str], list[str]]:
    """``(ids, problems)``: every id the sources refer to, and why any could not account."""
    ids: set[str] = set()
    problems = []
    for name, declared in _table.declared().items():
        try:
            found = list(_load(name, declared)(store))
        except Exception as exc:
            problems.append(
                f"root source {name!r} could not tell what it refers to ({exc}); nothing was "
                "swept, so that nothing it refers to is lost: fix the cause and run gc again"
            )
            continue
        bad = [
            item
            for item in found
            if not isinstance(item, str) or not DIGEST_PATTERN.fullmatch(item)
        ]
        if bad:
            problems.append(
                f"root source {name!r} returned {bad[0]!r}, which is not an artifact id "
                "('sha256:<64 hex>'); nothing was swept"
            )
            continue
        ids.update(found)
    return ids, problems
