"""Drift verdicts by simulation: false alarms under the null, power, and a real train/test split.

    python benchmarks/drift_verdicts.py            # the full table (several minutes)
    python benchmarks/drift_verdicts.py --quick    # fewer repetitions, for a smoke run

Data: 30 columns (9 normal, 8 lognormal, 7 Poisson counts with many ties, 6 categoricals with 4
levels; ``tests/drift/_shapes.py``), reference and current drawn with a fixed seed. Each line
gives the repetitions, the share of datasets with at least one column called drifted and its
95% upper confidence bound (Clopper-Pearson), for the default rule and, from the same reports,
for the threshold-only rule used before. Targets: under the null at most 5% of datasets with any
false alarm at every size; at least 80% of columns found for a shift of 0.3 sd at 1,000 rows per
side; no column called for a shift of 0.01 sd at 1,000,000 rows per side.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

import modelyard.drift as drift

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "drift"))
from _shapes import dataset

# (reference rows, current rows, repetitions, quick repetitions)
NULL_SIZES = [
    (100, 100, 400, 40),
    (300, 300, 400, 40),
    (2_000, 200, 200, 20),
    (1_000, 1_000, 200, 20),
    (10_000, 10_000, 100, 10),
    (100_000, 100_000, 40, 4),
    (1_000_000, 1_000_000, 10, 2),
]


def threshold_only(report: drift.DriftReport) -> list[str]:
    """The columns the threshold-only rule calls drifted, from the effects of the same report."""
    config = report.config
    called = []
    for column in report.columns:
        for result in column.statistics:
            decides = config.decisive is None or result.statistic in config.decisive
            effect = result.statistic not in ("ks", "chi2") and result.score is not None
            if decides and effect and result.score >= config.thresholds[result.statistic]:
                called.append(column.name)
                break
    return called


def upper(successes: int, trials: int) -> float:
    if successes == trials:
        return 1.0
    return float(stats.beta.ppf(0.975, successes + 1, trials - successes))


def null_table(quick: bool) -> bool:
    print("Under the null (reference and current from the same distributions)")
    print(
        f"{'rows ref/cur':>20} {'datasets':>9} {'any alarm':>10} {'95% upper':>10} "
        f"{'before':>8} {'insufficient':>13} {'seconds':>8}"
    )
    passed = True
    rng = np.random.default_rng(2026)
    for ref_rows, cur_rows, reps, quick_reps in NULL_SIZES:
        count = quick_reps if quick else reps
        alarms = before = short = 0
        start = time.perf_counter()
        for _ in range(count):
            report = drift.compare(dataset(rng, ref_rows), dataset(rng, cur_rows))
            alarms += bool(report.drifted)
            before += bool(threshold_only(report))
            short += sum(c.verdict == "insufficient data" for c in report.columns)
        seconds = time.perf_counter() - start
        share = alarms / count
        passed &= share <= 0.05
        print(
            f"{ref_rows:>9,}/{cur_rows:<10,} {count:>9} {share:>10.1%} "
            f"{upper(alarms, count):>10.1%} {before / count:>8.0%} "
            f"{short / count:>13.1f} {seconds:>8.1f}"
        )
    return passed


def power(quick: bool) -> bool:
    rng = np.random.default_rng(7)
    count = 10 if quick else 50
    found: dict[str, list[int]] = {}
    for _ in range(count):
        report = drift.compare(dataset(rng, 1_000), dataset(rng, 1_000, 0.3))
        for column in report.columns:
            kind = column.name.rstrip("0123456789")
            found.setdefault(kind, []).append(int(column.drifted))
    total = sum(sum(v) for v in found.values()) / sum(len(v) for v in found.values())
    parts = ", ".join(f"{k} {np.mean(v):.0%}" for k, v in found.items())
    print(
        f"\nShift of 0.3 sd, 1,000 rows per side, {count} datasets: {total:.1%} of columns "
        f"found (target >= 80%; {parts})"
    )
    reps = 1 if quick else 3
    called = 0
    for _ in range(reps):
        report = drift.compare(dataset(rng, 1_000_000), dataset(rng, 1_000_000, 0.01))
        called += len(report.drifted)
    print(
        f"Shift of 0.01 sd, 1,000,000 rows per side, {reps} datasets: {called} columns called "
        f"(target 0)"
    )
    return total >= 0.8 and called == 0


def breast_cancer(quick: bool) -> None:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    rng = np.random.default_rng(3)
    splits = 10 if quick else 30
    now, before = [], []
    for _ in range(splits):
        order = rng.permutation(len(frame))
        cut = int(0.7 * len(frame))
        report = drift.compare(frame.iloc[order[:cut]], frame.iloc[order[cut:]])
        now.append(len(report.drifted))
        before.append(len(threshold_only(report)))
    print(
        f"\nload_breast_cancer, random 70/30 train/test split, {splits} splits of "
        f"{frame.shape[1]} columns: mean {np.mean(now):.2f} columns called drifted, most "
        f"{max(now)} (threshold-only rule: mean {np.mean(before):.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    warnings.simplefilter("ignore", drift.DriftWarning)
    ok = null_table(args.quick)
    ok &= power(args.quick)
    breast_cancer(args.quick)
    print("\nPASS" if ok else "\nFAIL")


if __name__ == "__main__":
    main()
