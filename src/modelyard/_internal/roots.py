"""The table of gc root sources, kept below every layer so the top package can fill it cheaply.

A root source names artifacts that garbage collection must keep (see
``modelyard.artifacts.register_root_source``). The table lives here, not in the artifacts layer,
so that ``modelyard/__init__.py`` can declare the registry's source by dotted path without
importing either layer: every process that imports anything from modelyard then consults it, and
``import modelyard`` stays light. Entries are callables, or ``"module:attribute"`` strings that the
artifacts layer imports when a gc first needs them.
"""

from __future__ import annotations

import threading

__all__ = ["declare", "declared", "withdraw"]

_lock = threading.Lock()
_sources: dict[str, object] = {}


def declare(name: str, source: object) -> None:
    """Add or replace the source called ``name``."""
    with _lock:
        _sources[name] = source


def withdraw(name: str) -> None:
    """Remove the source called ``name`` (no error if there is none)."""
    with _lock:
        _sources.pop(name, None)


def declared() -> dict[str, object]:
    """A copy of the table, in declaration order."""
    with _lock:
        return dict(_sources)
