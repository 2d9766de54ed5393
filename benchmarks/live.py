"""The live monitor: update cost, sustained throughput, and memory over a long run.

    python benchmarks/live.py                      # 20 million rows for the memory figures
    python benchmarks/live.py --rows 100000000     # the full 100 million rows

Update: a 1,000-row x 20-column batch (a mapping of arrays, as a service would hold it) added to
a monitor of tumbling 100,000-row windows, timed against ``np.sort`` of the same batch in the
same run (median of repeated timings); target: at most 3x. Throughput: rows per second per core
over the long run. Memory: the process's resident set size (RSS) sampled through the run; it
must stay flat once the first window has closed (open window: a bounded buffer and sketch;
closed windows: their results alone, compressed, about 6 KB each for 20 columns).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

import modelyard.drift as drift

COLUMNS = 20
BATCH = 1_000


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def batch(rng: np.random.Generator, shift: float = 0.0) -> dict[str, np.ndarray]:
    values = rng.normal(shift, size=(BATCH, COLUMNS))
    return {f"c{j}": values[:, j] for j in range(COLUMNS)}


def timed(call: object, repeat: int) -> tuple[float, float]:
    """Median and mean seconds per call (the mean carries the occasional buffer sort)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.fmean(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    reference = drift.profile({f"c{j}": rng.normal(size=50_000) for j in range(COLUMNS)})
    # Windows too long to close here: the timings are of update alone, buffer sorts included.
    live = drift.LiveMonitor(reference, rows=10**12)
    pool = [batch(rng, 0.0) for _ in range(16)]
    matrix = np.column_stack(list(pool[0].values()))
    for b in pool:  # warm up
        live.update(b)
    sort, sort_mean = timed(lambda: np.sort(matrix, axis=0), 2000)
    turn = iter(range(10**9))
    update, update_mean = timed(lambda: live.update(pool[next(turn) % len(pool)]), 2000)
    print(
        f"update of {BATCH} x {COLUMNS}: median {update * 1e6:.0f} us, mean "
        f"{update_mean * 1e6:.0f} us; np.sort of the batch: median {sort * 1e6:.0f} us, mean "
        f"{sort_mean * 1e6:.0f} us; ratio {update / sort:.2f} (median), "
        f"{update_mean / sort_mean:.2f} (mean) (target <= 3)"
    )

    live = drift.LiveMonitor(reference, rows=100_000)
    samples: list[tuple[int, float]] = []
    done = 0
    cpu = time.process_time()
    wall = time.perf_counter()
    while done < args.rows:
        live.update(pool[(done // BATCH) % len(pool)])
        done += BATCH
        if done % 1_000_000 == 0:
            samples.append((done, rss_mb()))
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    windows = len(live.check().windows)
    print(
        f"{done:,} rows (windows of 100,000 rows closing) in {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU: {done / cpu:,.0f} rows/s per core ({done / wall:,.0f} rows/s "
        f"wall); {windows} windows closed"
    )
    for rows, mb in samples[:: max(1, len(samples) // 10)]:
        print(f"  after {rows:>12,} rows: RSS {mb:7.1f} MiB")
    settled = [mb for rows, mb in samples if rows >= 2_000_000]
    if settled:
        print(
            f"RSS after 2M rows: min {min(settled):.1f} MiB, max {max(settled):.1f} MiB, "
            f"growth {max(settled) - settled[0]:.1f} MiB"
        )


if __name__ == "__main__":
    main()
