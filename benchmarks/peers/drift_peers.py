"""Evidently and NannyML on modelyard's drift data: reference values and timings.

Runs in its own environment (see requirements-drift.txt); it does not import modelyard.

    python benchmarks/peers/drift_peers.py reference [--out tests/drift/data/peers_reference.json]
        Computes each tool's statistics on small seeded data and writes them, with the data,
        as JSON. tests/drift/test_presets.py checks modelyard's presets against that file.

    python benchmarks/peers/drift_peers.py bench [--rows 100000] [--cols 200]
        Times Evidently's DataDriftPreset (PSI and KS) and NannyML's univariate drift
        calculator on the same synthetic data as benchmarks/drift.py.
"""

from __future__ import annotations

import os

# Both tools phone home by default (NannyML's usage logging, Evidently's telemetry); a benchmark
# sends nothing anywhere.
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import argparse
import json
import platform
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

NUMERIC = ["normal", "shifted", "skewed", "heavy"]
CATEGORICAL = ["cat", "cat_new"]


def reference_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(20240601)
    n_ref, n_cur = 1500, 1000
    ref = pd.DataFrame(
        {
            "normal": rng.normal(size=n_ref),
            "shifted": rng.normal(size=n_ref),
            "skewed": rng.lognormal(size=n_ref),
            "heavy": rng.standard_t(3, size=n_ref),
            "cat": rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=n_ref),
            "cat_new": rng.choice(["a", "b", "c"], size=n_ref),
        }
    )
    cur = pd.DataFrame(
        {
            "normal": rng.normal(size=n_cur),
            "shifted": rng.normal(0.4, size=n_cur),
            "skewed": rng.lognormal(size=n_cur) * 1.2,
            "heavy": rng.standard_t(3, size=n_cur),
            "cat": rng.choice(["a", "b", "c"], p=[0.4, 0.3, 0.3], size=n_cur),
            "cat_new": rng.choice(["a", "b", "c", "d"], size=n_cur),
        }
    )
    return ref, cur


def evidently_values(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, dict[str, float]]:
    from evidently.legacy.calculations.stattests import (
        chi_stat_test,
        jensenshannon_stat_test,
        kl_div_stat_test,
        ks_stat_test,
        psi_stat_test,
        wasserstein_stat_test,
    )
    from evidently.legacy.core import ColumnType

    out: dict[str, dict[str, float]] = {}
    for column in NUMERIC:
        a, b = ref[column], cur[column]
        kind = ColumnType.Numerical
        out[column] = {
            "psi": float(psi_stat_test(a, b, kind, None).drift_score),
            "kl": float(kl_div_stat_test(a, b, kind, None).drift_score),
            "js": float(jensenshannon_stat_test(a, b, kind, None).drift_score),
            "wasserstein_normed": float(wasserstein_stat_test(a, b, kind, None).drift_score),
            "ks_pvalue": float(ks_stat_test(a, b, kind, None).drift_score),
        }
    for column in CATEGORICAL:
        a, b = ref[column], cur[column]
        kind = ColumnType.Categorical
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a category unseen in the reference divides by 0
            chi = float(chi_stat_test(a, b, kind, None).drift_score)
        out[column] = {
            "psi": float(psi_stat_test(a, b, kind, None).drift_score),
            "kl": float(kl_div_stat_test(a, b, kind, None).drift_score),
            "js": float(jensenshannon_stat_test(a, b, kind, None).drift_score),
            "chi2_pvalue": chi,
        }
    return out


def nannyml_values(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, dict[str, float]]:
    from nannyml.chunk import DefaultChunker
    from nannyml.drift.univariate.methods import (
        CategoricalJensenShannonDistance,
        Chi2Statistic,
        ContinuousJensenShannonDistance,
        KolmogorovSmirnovStatistic,
        WassersteinDistance,
    )
    from nannyml.thresholds import ConstantThreshold

    def run(method_class: type, column: str) -> tuple[float, object]:
        method = method_class(chunker=DefaultChunker(), threshold=ConstantThreshold(upper=0.1))
        method.fit(ref[column])
        return float(method.calculate(cur[column])), method

    out: dict[str, dict[str, float]] = {}
    for column in NUMERIC:
        out[column] = {
            "js": run(ContinuousJensenShannonDistance, column)[0],
            "ks": run(KolmogorovSmirnovStatistic, column)[0],
            "wasserstein": run(WassersteinDistance, column)[0],
        }
    for column in CATEGORICAL:
        chi, method = run(Chi2Statistic, column)
        out[column] = {
            "js": run(CategoricalJensenShannonDistance, column)[0],
            "chi2": chi,
            "chi2_pvalue": float(method._p_value),  # type: ignore[attr-defined]
        }
    return out


def write_reference(out: Path) -> None:
    ref, cur = reference_data()
    payload = {
        "about": "Drift statistics computed by Evidently and NannyML on the data below; "
        "written by benchmarks/peers/drift_peers.py reference.",
        "versions": {
            "python": platform.python_version(),
            "evidently": version("evidently"),
            "nannyml": version("nannyml"),
            "numpy": version("numpy"),
            "scipy": version("scipy"),
            "pandas": version("pandas"),
        },
        "numeric": NUMERIC,
        "categorical": CATEGORICAL,
        "reference": {c: ref[c].tolist() for c in ref.columns},
        "current": {c: cur[c].tolist() for c in cur.columns},
        "evidently": evidently_values(ref, cur),
        "nannyml": nannyml_values(ref, cur),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")


def bench_data(rows: int, cols: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    # The same generator as benchmarks/drift.py: seeded float64, half the columns shifted.
    rng = np.random.default_rng(42)
    reference = rng.normal(size=(rows, cols))
    current = rng.normal(size=(rows, cols))
    current[:, ::2] += 0.1
    names = [f"f{i}" for i in range(cols)]
    return pd.DataFrame(reference, columns=names), pd.DataFrame(current, columns=names)


def bench(rows: int, cols: int) -> None:
    ref, cur = bench_data(rows, cols)
    results: list[tuple[str, float]] = []

    from evidently import Report
    from evidently.presets import DataDriftPreset

    for method in ("psi", "ks"):
        start = time.perf_counter()
        Report([DataDriftPreset(method=method)]).run(cur, ref)
        results.append(
            (f"Evidently DataDriftPreset(method={method!r})", time.perf_counter() - start)
        )

    from nannyml.drift import UnivariateDriftCalculator

    for method in ("jensen_shannon", "kolmogorov_smirnov", "wasserstein"):
        calculator = UnivariateDriftCalculator(
            column_names=list(ref.columns), continuous_methods=[method], chunk_number=1
        )
        start = time.perf_counter()
        calculator.fit(ref).calculate(cur)
        results.append(
            (f"NannyML UnivariateDriftCalculator({method})", time.perf_counter() - start)
        )

    print(f"peers on {rows:,} x {cols} (reference and current), seconds:")
    for name, seconds in results:
        print(f"  {name:<55} {seconds:8.2f}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("reference")
    ref.add_argument("--out", type=Path, default=Path("tests/drift/data/peers_reference.json"))
    timing = sub.add_parser("bench")
    timing.add_argument("--rows", type=int, default=100_000)
    timing.add_argument("--cols", type=int, default=200)
    args = parser.parse_args(argv)
    if args.command == "reference":
        write_reference(args.out)
    else:
        bench(args.rows, args.cols)


if __name__ == "__main__":
    main(sys.argv[1:])
