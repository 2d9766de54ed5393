"""Profiles of partitions: the exact merge and profiling a DataFrame, as ratios in one run.

    python benchmarks/profile_parts.py          # 10 parts of 1,000,000 x 20; a 1,000,000 x 20 frame
    python benchmarks/profile_parts.py --quick  # 10 parts of 100,000 x 20; a 200,000 x 20 frame

- Exact merge: ``drift.merge`` of 10 exact profiles against the sort it replaces,
  ``np.sort(np.concatenate(samples), axis=0)`` (the sort alone, the baseline); target: at least
  3x faster. Peak memory allocated by the merge, as a multiple of its result's sample.
- DataFrame against Arrow: ``profile(df)`` against ``profile(pa.Table)`` of the same float64 data,
  exact and as a sketch (``sample_size=1000``), time ratio and peak memory allocated (tracemalloc);
  targets: at most 1.5x Arrow's time and memory.

Every modelyard timing is the best of two runs (the first touches fresh memory).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import modelyard.drift as drift


def best(fn: Callable[[], Any], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    part_rows, frame_rows = (100_000, 200_000) if args.quick else (1_000_000, 1_000_000)
    rng = np.random.default_rng(0)
    failed = []

    parts = [drift.profile(rng.normal(size=(part_rows, 20)), workers=1) for _ in range(10)]
    baseline = best(lambda: np.sort(np.concatenate([p.sample for p in parts]), axis=0), 1)
    merged_time = best(lambda: drift.merge(*parts))
    merged = drift.merge(*parts)
    merge_peak = peak(lambda: drift.merge(*parts)) / merged.sample.nbytes
    ratio = baseline / merged_time
    print(
        f"exact merge, 10 x {part_rows:,} x 20: {merged_time:.2f} s; stacked np.sort "
        f"{baseline:.2f} s; {ratio:.1f}x faster (>= 3x); peak {merge_peak:.2f}x the result"
    )
    if ratio < 3:
        failed.append("merge")

    frame = pd.DataFrame(rng.normal(size=(frame_rows, 20)), columns=[f"c{i}" for i in range(20)])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for size in (None, 1000):
        t_frame = best(lambda s=size: drift.profile(frame, sample_size=s))
        t_table = best(lambda s=size: drift.profile(table, sample_size=s))
        m_frame = peak(lambda s=size: drift.profile(frame, sample_size=s))
        m_table = peak(lambda s=size: drift.profile(table, sample_size=s))
        print(
            f"profile {frame_rows:,} x 20, sample_size={size}: DataFrame {t_frame:.2f} s / "
            f"Arrow {t_table:.2f} s = {t_frame / t_table:.2f}x (<= 1.5x); peak "
            f"{m_frame / 2**20:.0f} / {m_table / 2**20:.0f} MiB = "
            f"{m_frame / max(m_table, 1):.2f}x (<= 1.5x)"
        )
        if t_frame > 1.5 * t_table or m_frame > 1.5 * max(m_table, 1 << 20):
            failed.append(f"dataframe sample_size={size}")
    print("FAIL: " + ", ".join(failed) if failed else "PASS")


if __name__ == "__main__":
    main()
