"""A live monitor's checkpoint kept in a yard, as versions of one named artifact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from modelyard.yard import Yard

__all__ = ["YardCheckpoint"]


class YardCheckpoint:
    """Saves a :class:`~modelyard.drift.LiveMonitor`'s state to ``yard`` as a new version of the
    artifact ``name``, and loads the latest version (a :class:`~modelyard.drift.Checkpoint`).

    An artifact is stored whole before its name points at it, so a process killed while saving
    leaves the previous version as the latest; the bytes are checked against their digest on
    load. Older versions stay until the yard's ``gc`` removes them.

    Example:
        >>> import numpy as np
        >>> import modelyard as my
        >>> import modelyard.drift as drift
        >>> yard = my.open_yard("memory://doctest-live-checkpoint")
        >>> keep = my.YardCheckpoint(yard, "churn-live")
        >>> reference = {"x": np.arange(100.0)}
        >>> live = drift.LiveMonitor(reference, rows=50, checkpoint=keep)
        >>> live.update({"x": np.arange(70.0)})
        >>> live.close()
        >>> drift.LiveMonitor(reference, rows=50, checkpoint=keep).check().data_rows
        70
    """

    def __init__(self, yard: Yard, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise InputError(f"name= must be an artifact name, not {name!r}")
        self.yard, self.name = yard, name

    def save(self, data: bytes) -> None:
        """Store ``data`` as the latest version of the artifact."""
        self.yard.artifacts.put(bytes(data), name=self.name)

    def load(self) -> bytes | None:
        """The latest version's bytes, or ``None`` when nothing was saved under the name."""
        if not self.yard.artifacts.exists(self.name):
            return None
        try:
            found = self.yard.artifacts.get(self.name)
        except NotFoundError:
            return None
        return bytes(found)

    def __repr__(self) -> str:
        return f"YardCheckpoint({self.yard!r}, {self.name!r})"
