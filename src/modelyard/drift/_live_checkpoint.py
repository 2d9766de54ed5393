"""Where a live monitor keeps its state across restarts: any object with ``save`` and ``load``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Checkpoint"]


@runtime_checkable
class Checkpoint(Protocol):
    """Storage for a :class:`LiveMonitor`'s state.

    ``save`` must replace the stored state whole or not at all (a reader never sees half of
    one); ``load`` returns the last state saved, or ``None`` when there is none.

    Example:
        >>> class InMemory:
        ...     def __init__(self) -> None:
        ...         self.data: bytes | None = None
        ...     def save(self, data: bytes) -> None:
        ...         self.data = data
        ...     def load(self) -> bytes | None:
        ...         return self.data
        >>> isinstance(InMemory(), Checkpoint)
        True
    """

    def save(self, data: bytes) -> None:
        """Store ``data``, replacing what was stored."""

    def load(self) -> bytes | None:
        """The data last stored, or ``None``."""
