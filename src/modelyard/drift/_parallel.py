"""Run a kernel over blocks of columns on a few threads.

NumPy releases the GIL inside sorting and elementwise loops, so blocks of columns sorted or
merged on separate threads run in parallel. Results are identical to the single-threaded ones:
each block is computed the same way whatever thread runs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from modelyard.errors import DriftInputError

__all__ = ["THREADS_VARIABLE", "column_blocks", "default_workers", "run_blocks", "sort_block"]

_MAX_DEFAULT_WORKERS = 4


#: Threads when a caller does not say, for users who run modelyard under a pool of their own.
THREADS_VARIABLE = "MODELYARD_THREADS"


def default_workers() -> int:
    """Threads used when a caller does not say: ``MODELYARD_THREADS`` if set, else the usable
    CPUs, at most 4."""
    setting = os.environ.get(THREADS_VARIABLE, "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise DriftInputError(
                f"{THREADS_VARIABLE}={setting!r} is not a thread count; set it to a whole number "
                "of at least 1, or unset it to use one thread per CPU (at most 4)"
            )
        return int(setting)
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, _MAX_DEFAULT_WORKERS))


def column_blocks(columns: int, block: int) -> list[slice]:
    return [slice(start, min(start + block, columns)) for start in range(0, columns, block)]


def run_blocks(work: Callable[[slice], None], blocks: list[slice], workers: int | None) -> None:
    """Call ``work(block)`` for every block; ``work`` writes its results in place."""
    threads = default_workers() if workers is None else max(1, workers)
    if threads == 1 or len(blocks) == 1:
        for part in blocks:
            work(part)
        return
    with ThreadPoolExecutor(max_workers=min(threads, len(blocks))) as pool:
        for future in [pool.submit(work, part) for part in blocks]:
            future.result()


# Bytes of one column block sorted at a time (its transposed buffer is as large again).
_SORT_BLOCK_BYTES = 48 << 20


def sort_block(rows: int, columns: int, workers: int | None) -> int:
    """Columns per block for sorting: at least 8 where memory allows (one cache line of a row,
    so transposing the block reads each line once), at most ``_SORT_BLOCK_BYTES``, and as many
    blocks as a multiple of the threads, so that they finish together."""
    threads = default_workers() if workers is None else max(1, workers)
    limit = max(1, _SORT_BLOCK_BYTES // (8 * max(rows, 1)))
    block = min(max(8, -(-columns // (2 * threads))), limit, max(columns, 1))
    count = -(-columns // block)
    count = -(-count // threads) * threads
    return max(1, -(-columns // count))
