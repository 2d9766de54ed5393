"""Drift benchmark: modelyard against scipy loops and NumPy passes, as ratios in one run.

    python benchmarks/drift.py                 # both sizes, the Parquet memory test, PASS/FAIL
    python benchmarks/drift.py --quick         # small sizes, for a smoke run
    python benchmarks/drift.py --workers 1     # modelyard on one thread (default: its own)

Data: seeded synthetic float64, reference and current of the same shape, half the columns of the
current shifted by 0.1. Every figure is a ratio of two timings taken in this run on this
machine, so the targets do not depend on the machine's speed. Each modelyard timing is the best
of two runs (the first touches fresh memory); the scipy loop runs once. Window assignment uses
10,000,000 unsorted times over 100 days and is compared with one np.argsort of them. Monitoring
cuts 10,000,000 x 20 into 100 daily windows (PSI, JS, KS, Wasserstein) and is compared with one
compare() of the same rows against the same profile (of 1,000,000 reference rows). The exact KS
p-value of one column of unequal sizes (2,000 vs 2,001 and 10,000 vs 9,999) is compared with
scipy's ks_2samp(method="exact") on the same data. Rows whose two sides are both quick (KS
against np.sort, the exact KS p-value) take the best of five runs of each side in turn, so that
a burst of load on a shared machine does not land on one side only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import modelyard.drift as drift
from modelyard.drift._parallel import default_workers

FIVE = ["psi", "kl", "js", "ks", "wasserstein"]


def data(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    reference = rng.normal(size=(rows, cols))
    current = rng.normal(size=(rows, cols))
    current[:, ::2] += 0.1
    return reference, current


def best(fn: Callable[[], Any], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def paired(
    ours: Callable[[], Any], base: Callable[[], Any], repeat: int = 5
) -> tuple[float, float]:
    """Best of ``repeat`` runs of each, taken in turn: on a shared machine a burst of load then
    hits both sides alike instead of whichever ran during it."""
    mine, theirs = [], []
    for _ in range(repeat):
        for fn, times in ((ours, mine), (base, theirs)):
            gc.collect()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(mine), min(theirs)


def scipy_loop(reference: np.ndarray, current: np.ndarray) -> float:
    from scipy import stats

    start = time.perf_counter()
    for c in range(reference.shape[1]):
        stats.ks_2samp(reference[:, c], current[:, c])
        stats.wasserstein_distance(reference[:, c], current[:, c])
    return time.perf_counter() - start


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(
        self, name: str, ours: float, base_name: str, base: float, target: str, ok: bool
    ) -> None:
        self.rows.append(
            (name, f"{ours:.3f} s", f"{base_name} {base:.3f} s", target, "PASS" if ok else "FAIL")
        )

    def note(self, name: str, value: str, target: str, ok: bool | None) -> None:
        self.rows.append(
            (name, value, "", target, "" if ok is None else ("PASS" if ok else "FAIL"))
        )

    def show(self) -> None:
        header = ("measurement", "modelyard", "baseline", "target", "verdict")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(5)]
        for row in [header, tuple("-" * w for w in widths), *self.rows]:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def speed(table: Table, rows: int, cols: int, workers: int | None, skip_scipy: bool) -> None:
    reference, current = data(rows, cols)
    label = f"{rows:,} x {cols}"

    def full() -> None:
        p = drift.profile(reference, workers=workers)
        drift.compare(p, current, stats=FIVE, workers=workers)

    ours = best(full)
    if not skip_scipy:
        theirs = scipy_loop(reference, current)
        ratio = theirs / ours
        table.add(
            f"profile + compare, 5 statistics, {label}",
            ours,
            "scipy ks_2samp + wasserstein loop",
            theirs,
            f">= 12x faster (got {ratio:.1f}x)",
            ratio >= 12,
        )
    p = drift.profile(reference, workers=workers)
    binned = best(lambda: drift.compare(p, current, stats=["psi", "kl", "js"], workers=workers))
    one_pass = best(lambda: current.sum(axis=0), repeat=5)
    table.add(
        f"compare vs profile, PSI+KL+JS, {label}",
        binned,
        "current.sum(axis=0)",
        one_pass,
        f"<= 4x (got {binned / one_pass:.1f}x)",
        binned <= 4 * one_pass,
    )
    from modelyard.drift._binning import sort_engine, time_sorts

    rows_per_sort = 200 if reference.shape[0] >= 100_000 else 400
    length = min(reference.shape[0], 100_000)
    per_value = time_sorts(rows=rows_per_sort, length=length, repeat=2)
    print(
        f"row sort of {rows_per_sort} rows x {length} values: "
        + ", ".join(
            f"{engine} {seconds * 1e9:.1f} ns/value" for engine, seconds in per_value.items()
        )
        + f"; in use: {sort_engine()} (MODELYARD_SORT=numpy|native|auto)"
    )
    ks, sort = paired(
        lambda: drift.compare(p, current, stats=["ks"], workers=workers),
        lambda: np.sort(current, axis=0),
    )
    table.add(
        f"compare vs profile, KS, {label}",
        ks,
        "np.sort(current, axis=0)",
        sort,
        f"<= 3x (got {ks / sort:.2f}x)",
        ks <= 3 * sort,
    )


def ks_exact(table: Table) -> None:
    """The exact KS p-value of one column of unequal sizes against scipy's exact method."""
    from scipy import stats

    from modelyard.drift import kernels

    rng = np.random.default_rng(5)
    for m, n, shift in [(2_000, 2_001, 0.1), (2_000, 2_001, 0.3), (10_000, 9_999, 0.05)]:
        x, y = rng.normal(size=m), rng.normal(shift, size=n)
        expected = stats.ks_2samp(x, y, method="exact")
        numerator = round(expected.statistic * m * n)

        def ours(m: int = m, n: int = n, numerator: int = numerator) -> Any:
            return kernels.ks_pvalue(numerator / (m * n), m, n, method="exact", numerator=numerator)

        got = float(ours()[0])
        assert got == expected.pvalue or abs(got / expected.pvalue - 1) < 1e-9, (got, expected)
        mine, theirs = paired(ours, lambda x=x, y=y: stats.ks_2samp(x, y, method="exact"))
        table.add(
            f"exact KS p-value, {m:,} vs {n:,} (p = {expected.pvalue:.2g})",
            mine,
            "scipy ks_2samp exact",
            theirs,
            f"<= 3x (got {mine / theirs:.2f}x)",
            mine <= 3 * theirs,
        )


def windowing(table: Table, rows: int) -> None:
    """Window assignment against one sort of the same times (what a sort-based grouping costs)."""
    rng = np.random.default_rng(7)
    span = 100 * 86_400 * 10**9
    times = np.datetime64("2026-01-01", "ns") + rng.integers(0, span, rows).astype("m8[ns]")
    label = f"{rows:,} rows"
    sort = best(lambda: np.argsort(times))
    assign = best(lambda: drift.windows(times, every="1D"))
    table.add(
        f"windows every=1D (100 windows), {label}",
        assign,
        "np.argsort(times)",
        sort,
        f"<= 0.25x (got {assign / sort:.2f}x)",
        assign <= 0.25 * sort,
    )
    rows_of = best(lambda: drift.windows(times, every="1D").memberships())
    table.add(
        f"windows every=1D + rows of each window, {label}",
        rows_of,
        "np.argsort(times)",
        sort,
        f"<= 0.5x (got {rows_of / sort:.2f}x)",
        rows_of <= 0.5 * sort,
    )
    rolling = best(lambda: drift.windows(times, every="7D", step="1D"))
    table.add(
        f"windows every=7D step=1D (rolling), {label}",
        rolling,
        "np.argsort(times)",
        sort,
        f"<= 1.5x (got {rolling / sort:.2f}x)",
        rolling <= 1.5 * sort,
    )


def monitoring(table: Table, rows: int, cols: int, workers: int | None) -> None:
    """100 daily windows with PSI, JS, KS and Wasserstein against one compare of all the rows."""
    reference, current = data(rows, cols)
    del reference
    rng = np.random.default_rng(11)
    reference = rng.normal(size=(min(rows, 1_000_000), cols))
    p = drift.profile(reference, workers=workers)
    del reference
    span = 100 * 86_400 * 10**9
    times = np.datetime64("2026-01-01", "ns") + np.sort(rng.integers(0, span, rows)).astype(
        "m8[ns]"
    )
    stats = ["psi", "js", "ks", "wasserstein"]
    label = f"{rows:,} x {cols}"
    once = best(lambda: drift.compare(p, current, stats=stats, workers=workers))
    windowed = best(
        lambda: drift.monitor(p, current, time=times, every="1D", stats=stats, workers=workers)
    )
    table.add(
        f"monitor, 100 daily windows, PSI+JS+KS+W, {label}",
        windowed,
        "one compare of all rows",
        once,
        f"<= 2x (got {windowed / once:.2f}x)",
        windowed <= 2 * once,
    )


_MEMORY_CHILD = textwrap.dedent(
    """
    import gc, json, resource, sys, threading, time, tracemalloc
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    import modelyard.drift as drift

    path, sample_size = sys.argv[1], sys.argv[2]
    sample_size = None if sample_size == "exact" else int(sample_size)
    parquet = pq.ParquetFile(path, memory_map=True, pre_buffer=False)
    names = parquet.schema_arrow.names
    page = resource.getpagesize()

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    def read(index):
        # Column by column: the Parquet reader's decoding buffers are then one column's worth
        # rather than a whole row group's (about 2.4x the table when read at once).
        columns = [parquet.read_row_group(index, columns=[n], use_threads=False).column(0)
                   for n in names]
        return pa.Table.from_arrays(columns, names=names)

    def batches():
        for index in range(parquet.num_row_groups):
            yield read(index)

    # Warm up imports and allocators on one row group.
    # Exact profiles are told the row count, so the sample is allocated once and filled in place.
    expected = parquet.metadata.num_rows if sample_size is None else None
    drift.profile(read(0), sample_size=sample_size)
    gc.collect()
    before = rss()
    peak = before
    done = False

    def watch() -> None:
        global peak
        while not done:
            peak = max(peak, rss())
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    # NumPy and Python allocations are traced; Arrow's come from its memory pool's peak.
    tracemalloc.start()
    profile = drift.profile(batches(), sample_size=sample_size, expected_rows=expected)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    done = True
    watcher.join()
    peak = max(peak, rss())
    held = profile.sample.nbytes + profile.edges.nbytes + profile.bin_counts.nbytes
    print(json.dumps({
        "allocated": traced_peak + pa.default_memory_pool().max_memory(),
        "numpy_peak": traced_peak,
        "arrow_peak": pa.default_memory_pool().max_memory(),
        "rss_growth": peak - before,
        "profile_bytes": held,
        "rows": profile.rows,
    }))
    """
)


def write_parquet(path: Path, rows: int, cols: int, group: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    names = [f"f{i}" for i in range(cols)]
    schema = pa.schema([(n, pa.float64()) for n in names])
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for start in range(0, rows, group):
            size = min(group, rows - start)
            block = rng.normal(size=(size, cols))
            writer.write_table(
                pa.Table.from_arrays(list(block.T), schema=schema), row_group_size=size
            )
    return group * cols * 8


def memory(table: Table, rows: int, cols: int, group: int, modes: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference.parquet"
        group_bytes = write_parquet(path, rows, cols, group)
        for mode in modes:
            out = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, str(path), mode],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            budget = 1.5 * group_bytes + result["profile_bytes"]
            what = "exact sample" if mode == "exact" else f"sketch of {int(mode):,} values"
            mib = 2**20
            table.note(
                f"profile {rows:,} x {cols} from Parquet ({rows // group} row groups), {what}",
                f"peak {result['allocated'] / mib:.0f} MiB allocated "
                f"(NumPy {result['numpy_peak'] / mib:.0f} + Arrow {result['arrow_peak'] / mib:.0f}; "
                f"RSS +{result['rss_growth'] / mib:.0f})",
                f"<= 1.5 x row group ({group_bytes / mib:.0f} MiB) + profile "
                f"({result['profile_bytes'] / mib:.1f} MiB) = {budget / mib:.0f} MiB "
                f"(got {result['allocated'] / max(budget, 1):.2f} of it)",
                result["allocated"] <= budget,
            )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "--workers", type=int, default=None, help="modelyard threads (default: the library's)"
    )
    parser.add_argument("--skip-scipy", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-windows", action="store_true")
    parser.add_argument("--skip-monitor", action="store_true")
    parser.add_argument("--skip-ks", action="store_true", help="skip the exact KS p-value rows")
    parser.add_argument(
        "--monitor-rows", type=int, default=None, help="rows of the monitor test (10,000,000)"
    )
    parser.add_argument(
        "--memory-modes", default="20000,exact", help="comma-separated: sketch sizes and/or 'exact'"
    )
    args = parser.parse_args(argv)
    sizes = [(20_000, 40), (200_000, 8)] if args.quick else [(100_000, 200), (1_000_000, 20)]
    table = Table()
    threads = args.workers or f"{default_workers()} (default)"
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, modelyard workers={threads}")
    for rows, cols in [] if args.skip_speed else sizes:
        speed(table, rows, cols, args.workers, args.skip_scipy)
        gc.collect()
    if not args.skip_ks:
        ks_exact(table)
    if not args.skip_windows:
        windowing(table, 1_000_000 if args.quick else 10_000_000)
        gc.collect()
    if not args.skip_monitor:
        monitor_rows = args.monitor_rows or (200_000 if args.quick else 10_000_000)
        monitoring(table, monitor_rows, 20, args.workers)
        gc.collect()
    if not args.skip_memory:
        parquet_rows, group = (1_000_000, 100_000) if args.quick else (10_000_000, 500_000)
        memory(table, parquet_rows, 20, group, args.memory_modes.split(","))
    table.show()


if __name__ == "__main__":
    main(sys.argv[1:])
