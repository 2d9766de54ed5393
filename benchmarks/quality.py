"""Data-quality benchmark: the cost of quality() against compare(), and its false-alarm rate.

    python benchmarks/quality.py            # 1,000,000 x 20 timings and the simulation table
    python benchmarks/quality.py --quick    # 100,000 x 20 and fewer simulated datasets
    python benchmarks/quality.py --monitor  # only the cost of quality=True inside monitor()

Speed: seeded float64 data (NumPy and pandas, plus a pandas frame with four categorical
columns), timed as the ratio of quality() to a default compare() of the same batch against the
same profile, in this run; quality() runs once per window, so it must stay a fraction of a
compare. Each timing is the best of two runs.

Inside monitor(): the cost of ``quality=True`` over ``quality=False`` for 2,000,000 x 20 rows
(16 numeric, 4 categorical, some missing) in 100 count windows, as a share of the monitor's
time in this run, beside a loop of quality() over the windows' rows (what it cost before it was
counted in one pass).

False alarms: the share of datasets with any finding when reference and batch come from the same
distributions (30 columns: normal, lognormal, Poisson counts, 4-level categories, each 9.5 %
missing), at several sizes; the target is at most 5 %. Power: the share of batches in which a
missing-rate jump from 9.5 % to 39.3 % on one column, or a 1 sd shift on one column, is found.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import modelyard.drift as drift


def best(fn: Callable[[], Any], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def speed(rows: int) -> bool:
    rng = np.random.default_rng(42)
    reference, current = rng.normal(size=(rows, 20)), rng.normal(size=(rows, 20))
    current[: rows // 10, 3] = np.nan
    frames = {
        "NumPy 20 numeric": (reference, current),
        "pandas 20 numeric": (
            pd.DataFrame(reference, columns=[str(i) for i in range(20)]),
            pd.DataFrame(current, columns=[str(i) for i in range(20)]),
        ),
    }
    mixed_ref = pd.DataFrame(reference[:, :16], columns=[f"x{i}" for i in range(16)])
    mixed_cur = pd.DataFrame(current[:, :16], columns=[f"x{i}" for i in range(16)])
    for j in range(4):
        mixed_ref[f"c{j}"] = LABELS[rng.integers(0, 4, rows)]
        mixed_cur[f"c{j}"] = LABELS[rng.integers(0, 4, rows)]
    frames["pandas 16 numeric + 4 categorical"] = (mixed_ref, mixed_cur)
    ok = True
    print(f"| data, {rows:,} x 20 | quality() | compare() | ratio (target <= 0.5) |")
    print("|---|---|---|---|")
    for label, (ref, cur) in frames.items():
        profile = drift.profile(ref)
        t_quality = best(lambda p=profile, c=cur: drift.quality(p, c))
        t_compare = best(lambda p=profile, c=cur: drift.compare(p, c))
        ratio = t_quality / t_compare
        ok &= ratio <= 0.5
        print(f"| {label} | {t_quality:.3f} s | {t_compare:.3f} s | {ratio:.2f} |")
    return ok


LABELS = np.array(["a", "b", "c", "d"], dtype=object)


def null_dataset(rng: np.random.Generator, n: int) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for j in range(30):
        kind = j % 4
        if kind == 0:
            values = rng.normal(size=n)
        elif kind == 1:
            values = rng.lognormal(size=n)
        elif kind == 2:
            values = rng.poisson(4, n).astype(float)
        else:
            values = rng.choice(LABELS, n, p=[0.4, 0.3, 0.2, 0.1])
        values[rng.random(n) < 0.095] = None if kind == 3 else np.nan
        columns[f"c{j}"] = values
    return pd.DataFrame(columns)


def simulation(datasets: int) -> bool:
    rng = np.random.default_rng(7)
    ok = True
    print("\n| rows (reference / batch) | datasets | with any finding (target <= 5 %) |")
    print("|---|---|---|")
    sizes = [(100, 100), (300, 300), (2000, 200), (1000, 1000), (100_000, 10_000)]
    for n_ref, n_cur in sizes:
        count = datasets if n_ref <= 2000 else max(datasets // 4, 20)
        alarms = 0
        for _ in range(count):
            report = drift.quality(
                drift.profile(null_dataset(rng, n_ref)), null_dataset(rng, n_cur)
            )
            alarms += bool(report.findings)
        ok &= alarms / count <= 0.05 + 2.6 * np.sqrt(0.05 * 0.95 / count)
        print(f"| {n_ref:,} / {n_cur:,} | {count} | {alarms / count:.1%} |")
    print("\n| change on one column of 30, 1,000 / 1,000 rows | found in |")
    print("|---|---|")
    for label, change in [("missing 9.5 % -> 39.3 %", "missing"), ("shift of 1 sd", "shift")]:
        found = 0
        for _ in range(datasets // 2):
            reference = drift.profile(null_dataset(rng, 1000))
            batch = null_dataset(rng, 1000)
            if change == "missing":
                batch.loc[rng.random(1000) < 0.33, "c0"] = np.nan
            else:
                batch["c0"] += 1.0
            found += not drift.quality(reference, batch).ok
        print(f"| {label} | {found / (datasets // 2):.0%} |")
    return ok


def monitoring(rows: int, windows: int = 100) -> None:
    rng = np.random.default_rng(43)

    def frame(n: int) -> pd.DataFrame:
        data = pd.DataFrame(rng.normal(size=(n, 16)), columns=[f"x{i}" for i in range(16)])
        for j in range(4):
            data[f"c{j}"] = LABELS[rng.integers(0, 4, n)]
        data.loc[rng.random(n) < 0.05, "x0"] = np.nan
        return data

    reference = drift.profile(frame(200_000))
    data = frame(rows)
    every = rows // windows
    cut = drift.windows(data, rows=every)
    plain = best(lambda: drift.monitor(reference, data, rows=every))
    checked = best(lambda: drift.monitor(reference, data, rows=every, quality=True))
    # What quality=True cost when it ran quality() on each window's rows.
    loop = best(
        lambda: [drift.quality(reference, data.iloc[cut.indices(w)]) for w in range(len(cut))]
    )
    print(f"\n| monitor(), {rows:,} x 20 in {windows} windows | time | over quality=False |")
    print("|---|---|---|")
    print(f"| quality=False | {plain:.2f} s | |")
    print(f"| quality=True (one counting pass) | {checked:.2f} s | {checked / plain - 1:+.1%} |")
    print(f"| a loop of quality() over the windows | {loop:.2f} s | {loop / plain:+.1%} |")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--monitor", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    monitoring(200_000 if args.quick else 2_000_000)
    if args.monitor:
        return
    fast = speed(100_000 if args.quick else 1_000_000)
    calm = simulation(100 if args.quick else 400)
    print(f"\nspeed {'PASS' if fast else 'FAIL'}, false alarms {'PASS' if calm else 'FAIL'}")


if __name__ == "__main__":
    main(sys.argv[1:])
