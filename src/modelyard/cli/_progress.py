"""A progress bar on a terminal, nothing anywhere else.

Drawn on stderr only when stderr is a terminal and ``--json`` is off, so logs of a pipeline and
the JSON a script reads never carry it. ``MODELYARD_PROGRESS=0`` turns it off on a terminal too.
"""

from __future__ import annotations

import os
import time
from typing import TextIO

__all__ = ["Progress", "wanted"]


def wanted(stream: TextIO, *, json: bool) -> bool:
    """Whether a bar should be drawn on ``stream``."""
    if json or os.environ.get("MODELYARD_PROGRESS", "1") == "0":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """``update(done, total)`` redraws at most ten times a second; ``close()`` ends the line."""

    def __init__(self, stream: TextIO, label: str, *, unit: str = "") -> None:
        self._stream = stream
        self._label = label
        self._unit = unit
        self._last = 0.0
        self._drawn = False

    def update(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and (total is None or done < total):
            return
        self._last = now
        if total:
            filled = int(30 * min(done, total) / total)
            bar = "#" * filled + "-" * (30 - filled)
            text = f"{self._label} [{bar}] {done}/{total}{self._unit}"
        else:
            text = f"{self._label} {done}{self._unit}"
        self._stream.write("\r" + text)
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
