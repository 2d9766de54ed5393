"""Feed markers of a durable local yard are written on a thread of their own.

On a local disk, creating a file right after the fsyncs of a durable commit waits for the
filesystem's journal: about half a millisecond, a third of a registration, where the same
create costs 20 µs on its own. A writer thread takes that wait, and a registration costs what
it did before the feed (other stores write the marker inline: it is cheap there, or, on S3, a
request like the others). The thread is not a daemon and lingers a moment after its last marker,
so a process that exits normally (a script, a ``multiprocessing`` child) writes every marker
first; a killed process may lose the markers it had not written, which watchers heal. The
registry's own reads of the feed flush first, so a process always sees its own commits.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable

__all__ = ["MarkerWriter"]

logger = logging.getLogger("modelyard.registry")

#: How long the thread waits for another marker before it ends (and an exiting process waits).
LINGER = 0.1


class MarkerWriter:
    """Calls ``write(key)`` for each queued key, in order, on a thread of its own."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._changed = threading.Condition(threading.Lock())
        self._queue: deque[str] = deque()
        self._pending = 0
        self._running = False

    def put(self, key: str) -> None:
        if self._pid != os.getpid():  # a forked child has the queue but not the thread
            self._reset()
        with self._changed:
            self._queue.append(key)
            self._pending += 1
            if self._running:
                self._changed.notify_all()
                return
            thread = threading.Thread(target=self._run, name="modelyard-feed-markers")
            try:
                thread.start()
            except RuntimeError:  # no new threads while the interpreter shuts down
                self._queue.pop()
                self._pending -= 1
            else:
                self._running = True
                return
        self._write(key)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued marker is written (or ``timeout`` seconds pass)."""
        if self._pid != os.getpid():
            return
        with self._changed:
            self._changed.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._queue:
                    self._changed.wait(LINGER)
                if not self._queue:
                    self._running = False
                    return
                key = self._queue.popleft()
            try:
                self._write(key)
            finally:
                with self._changed:
                    self._pending -= 1
                    self._changed.notify_all()
