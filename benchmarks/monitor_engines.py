"""Monitoring a Parquet lake over time on Dask, beside a plain profile of the same files and
``drift.monitor`` in one process.

    python benchmarks/monitor_engines.py            # 4,000,000 x 10 over 30 days
    python benchmarks/monitor_engines.py --quick    # 400,000 x 10, a smoke run

Data: seeded float64, 10 columns and a time column ``ts`` spread evenly over 30 days, written
once to a temporary folder as 8 Parquet files (each spans about four days, so files straddle
window edges); column ``c00`` moves by 0.5 on the last five days. The reference is an exact
profile of 200,000 rows of the unshifted distribution.

Paths, all on one ``distributed.LocalCluster`` of 2 worker processes of one thread (started
before the clock), each timed as the best of 2 runs:

- ``profile``: ``modelyard.drift.dask.profile(files, kinds=reference)``, one pass, no windows;
- ``monitor 1D``: ``modelyard.drift.dask.monitor(reference, files, time="ts", every="1D")``;
- ``monitor 7D/1D``: rolling windows, each row in seven of them;
- ``one process``: ``pq.read_table(files)`` and ``drift.monitor`` on the table.

Figures are ratios of timings taken in this run: the cost of the windows over a plain profile,
and the engine against one process. The verdicts of both monitors must agree on which days
drift.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = 10
FILES = 8
DAYS = 30
SHIFTED_DAYS = 5


def write_lake(folder: Path, rows: int) -> list[Path]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    start = pd.Timestamp("2026-06-01", tz="UTC").value
    span = DAYS * 86_400 * 10**9
    times = start + np.sort(rng.integers(0, span, size=rows))
    values = rng.normal(size=(rows, COLUMNS))
    values[times >= start + (DAYS - SHIFTED_DAYS) * 86_400 * 10**9, 0] += 0.5
    table = pa.table(
        {
            "ts": pa.array(times, pa.timestamp("ns", tz="UTC")),
            **{f"c{j:02d}": values[:, j] for j in range(COLUMNS)},
        }
    )
    paths = []
    per_file = rows // FILES
    for i in range(FILES):
        path = folder / f"part-{i:02d}.parquet"
        pq.write_table(table.slice(i * per_file, per_file), path, row_group_size=131_072)
        paths.append(path)
    return paths


def best(function: Callable[[], Any], repeat: int = 2) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return min(times), result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="400,000 rows instead of 4,000,000")
    args = parser.parse_args(argv)
    rows = 400_000 if args.quick else 4_000_000

    import warnings

    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster

    import modelyard.drift as drift
    from modelyard.drift import dask as on_dask

    rng = np.random.default_rng(3)
    reference = drift.profile(
        {f"c{j:02d}": rng.normal(size=200_000) for j in range(COLUMNS)}, sample_size=None
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in write_lake(Path(tmp), rows)]
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            on_dask.profile(paths[:1], kinds=reference)  # workers import modelyard
            t_profile, _ = best(lambda: on_dask.profile(paths, kinds=reference))
            t_daily, daily = best(lambda: on_dask.monitor(reference, paths, time="ts", every="1D"))
            t_rolling, rolling = best(
                lambda: on_dask.monitor(reference, paths, time="ts", every="7D", step="1D")
            )

        def one_process() -> drift.Monitoring:
            table = pq.read_table(paths)
            return drift.monitor(reference, table, time="ts", every="1D")

        t_single, single = best(one_process)

    engine_days = [w.window for w in daily.windows if "c00" in w.drifted]
    single_days = [w.window for w in single.windows if "c00" in w.drifted]
    print(f"{rows:,} rows x {COLUMNS} columns, {len(daily.windows)} daily windows, {FILES} files")
    print(f"  profile (no windows)      {t_profile:7.2f} s   1.00x")
    print(f"  monitor 1D                {t_daily:7.2f} s   {t_daily / t_profile:.2f}x profile")
    print(
        f"  monitor 7D/1D ({len(rolling.windows)} windows) {t_rolling:7.2f} s   "
        f"{t_rolling / t_profile:.2f}x profile"
    )
    print(f"  one process, 1D           {t_single:7.2f} s   {t_daily / t_single:.2f}x (engine/one)")
    print(f"  drifting windows: engine {engine_days}, one process {single_days}")
    agree = engine_days == single_days
    print("verdicts agree" if agree else "VERDICTS DIFFER")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
