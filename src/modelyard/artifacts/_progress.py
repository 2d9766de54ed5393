"""Progress of a folder's put or get, and the bounded pool its files are moved with.

A folder of 100,000 small files is dominated by per-file latency (an open, a request, an fsync),
not by bytes, so its files are stored and restored by a pool of threads. At most twice the pool's
size are in flight at once, so memory is bounded by the pool (each small file is held whole while
it moves), never by the tree. Results are collected, and progress reported, on the calling thread:
a callback never has to be thread-safe.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from modelyard.errors import InputError

__all__ = [
    "IO_THREADS_ENV",
    "Progress",
    "ProgressCallback",
    "Tracker",
    "io_threads_setting",
    "run_bounded",
]

#: The environment variable that sets the default pool size of an ArtifactStore.
IO_THREADS_ENV = "MODELYARD_IO_THREADS"

#: Threads moving a folder's files when neither the store nor the environment says otherwise:
#: enough to hide a remote store's request latency, few enough not to swamp a small machine.
DEFAULT_IO_THREADS = 8


@dataclass(frozen=True)
class Progress:
    """How far a folder's ``put`` or ``get`` has come.

    Attributes:
        files_done: files stored (or restored) so far, unchanged ones included.
        files_total: files in the folder.
        bytes_done: bytes of those files.
        bytes_total: bytes of every file in the folder.

    >>> p = Progress(files_done=1, files_total=4, bytes_done=10, bytes_total=40)
    >>> p.fraction
    0.25
    """

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int

    @property
    def fraction(self) -> float:
        """Share of the bytes done (of the files, for a folder of empty files); 1.0 when empty."""
        if self.bytes_total:
            return self.bytes_done / self.bytes_total
        return self.files_done / self.files_total if self.files_total else 1.0


#: What ``put(..., progress=)`` and ``get(..., progress=)`` accept: called with a
#: :class:`Progress` on the calling thread, once before the first file and after every file.
ProgressCallback = Callable[[Progress], object]


class Tracker:
    """Counts what is done and tells the callback, if there is one."""

    def __init__(self, callback: ProgressCallback | None, sizes: Sequence[int]) -> None:
        self._callback = callback
        self._files_total = len(sizes)
        self._bytes_total = sum(sizes)
        self._files = 0
        self._bytes = 0
        self._report()

    def done(self, size: int) -> None:
        self._files += 1
        self._bytes += size
        self._report()

    def _report(self) -> None:
        if self._callback is not None:
            self._callback(Progress(self._files, self._files_total, self._bytes, self._bytes_total))


def check_progress(progress: object) -> ProgressCallback | None:
    """``progress`` as a callback, None for silent; refused before anything is written."""
    if progress is None or progress is False:
        return None
    if not callable(progress):
        raise InputError(
            f"progress must be a callable taking a Progress, or None/False for none, not "
            f"{type(progress).__name__}"
        )
    return progress


def io_threads_setting(value: int | None, *, local: bool = False) -> int:
    """The pool size: ``value`` if given, else ``$MODELYARD_IO_THREADS``, else 8, or 1 for a
    ``local`` store (see ``StoreCapabilities.local``: with no round trip to overlap, threads only
    contend; 8 threads moved 100,000 small files 3x slower than one on a local disk).

    >>> io_threads_setting(4), io_threads_setting(None, local=True)
    (4, 1)
    """
    if value is None:
        raw = os.environ.get(IO_THREADS_ENV, "").strip()
        if not raw:
            return 1 if local else DEFAULT_IO_THREADS
        try:
            value = int(raw)
        except ValueError:
            raise InputError(
                f"{IO_THREADS_ENV}={raw!r} is not a whole number: set it to how many threads "
                "move a folder's files at once (1 or more), or unset it for the default of "
                f"{DEFAULT_IO_THREADS}",
                variable=IO_THREADS_ENV,
            ) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"io_threads must be a whole number of at least 1, not {value!r}")
    return value


Item = TypeVar("Item")
Result = TypeVar("Result")


def run_bounded(
    items: Iterable[Item],
    work: Callable[[Item], Result],
    *,
    threads: int,
    on_done: Callable[[Result], object],
    ordered: bool = False,
) -> list[Result]:
    """``work`` on every item, ``threads`` at a time, results in the order of ``items``.

    ``on_done`` sees each result on the calling thread as it completes, or with ``ordered`` in
    the order of ``items`` (then no item starts more than ``2 * threads`` places after the
    oldest one not yet seen by ``on_done``, so that results held back for order stay bounded).
    The first failure stops new work; what is in flight is waited for (so no thread writes after
    this returns), and the failure is raised.

    >>> run_bounded(range(5), lambda i: i * i, threads=2, on_done=print, ordered=True)
    0
    1
    4
    9
    16
    [0, 1, 4, 9, 16]
    """
    results: dict[int, Result] = {}
    if threads == 1:
        for index, item in enumerate(items):
            results[index] = work(item)
            on_done(results[index])
        return [results[i] for i in range(len(results))]
    pending: dict[Future[Result], int] = {}
    limit = 2 * threads
    source = enumerate(items)
    reported = 0  # with ``ordered``: the first result on_done has not seen
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="modelyard-io") as pool:
        try:
            exhausted = False
            while pending or not exhausted:
                while not exhausted and len(pending) < limit:
                    if ordered and len(results) - reported + len(pending) >= limit:
                        break
                    try:
                        index, item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[pool.submit(work, item)] = index
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    results[index] = future.result()
                    if not ordered:
                        on_done(results[index])
                while ordered and reported in results:
                    on_done(results[reported])
                    reported += 1
        except BaseException:
            for future in pending:
                future.cancel()
            wait(pending)
            raise
    return [results[i] for i in range(len(results))]
