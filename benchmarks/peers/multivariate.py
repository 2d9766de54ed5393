"""NannyML's data reconstruction drift and modelyard's on the same data and windows: values, speed.

Both tools fit on the same reference and judge the same analysis data, cut into the same windows
of ``--window`` rows (NannyML: ``chunk_size``; modelyard: ``rows=``). The reference and the
analysis hold a whole number of windows, so NannyML keeps no incomplete chunk (modelyard's
reference windows leave an incomplete one out; NannyML's keep it, which moves the band when the
reference is not a whole number of windows). Per window the script compares the mean
reconstruction error, the lower and upper thresholds and the alert, prints the largest
difference, and exits with status 1 if a value differs by more than 1e-6 or an alert differs.
Then it prints both timings (fit and calculate, against one ``multivariate`` call, which fits
too) and their ratio.

The method is the same in both: mean imputation of numbers and most-frequent imputation of
categories, categories as their reference frequency (NannyML's ``CountEncoder(normalize=True)``,
0 for a category the reference never had), standardisation, PCA keeping 65% of the variance,
the Euclidean norm of the residual, and ``mean +/- 3 sd`` (population) of the reference windows.
NannyML fits ``sklearn.decomposition.PCA``; modelyard takes the SVD itself, so values agree to
rounding (about 1e-12), not bit for bit.

The data: ``--columns`` numeric columns in correlated pairs (correlation +0.8, flipped to -0.8 in
the middle third of the windows, marginals unchanged), 2% missing values in one column, and two
string columns, one of which takes a category the reference never had in the last window. The
reference holds 10 windows: with fewer, the band of ``mean +/- 3 sd`` is so narrow (2 reference
windows: a band about 1e-4 wide) that both tools alarm on every window.

It imports modelyard, so it runs in the peers' environment with modelyard importable::

    /tmp/peers/bin/pip install -r benchmarks/peers/requirements-drift.txt -e .
    /tmp/peers/bin/python benchmarks/peers/multivariate.py            # 1,000,000 x 12, 20 windows
    /tmp/peers/bin/python benchmarks/peers/multivariate.py --rows 100000 --window 10000
"""

from __future__ import annotations

import os

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import argparse
import sys
import time
import warnings
from importlib.metadata import version

import numpy as np
import pandas as pd

import modelyard.drift as drift

TOLERANCE = 1e-6


def make(rng: np.random.Generator, n: int, columns: int, flip: np.ndarray) -> pd.DataFrame:
    """``columns`` numeric columns in pairs whose correlation is -0.8 where ``flip``, else +0.8;
    two string columns."""
    out: dict[str, object] = {}
    rho = np.where(flip, -0.8, 0.8)
    for i in range(0, columns, 2):
        x = rng.normal(size=n)
        out[f"x{i}"] = x
        out[f"x{i + 1}"] = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    out["x0"] = np.where(rng.random(n) < 0.02, np.nan, out["x0"])  # type: ignore[call-overload]
    out["plan"] = rng.choice(["basic", "pro", "team"], n, p=[0.55, 0.3, 0.15])
    out["region"] = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="analysis rows")
    parser.add_argument("--reference-rows", type=int, default=500_000)
    parser.add_argument("--window", type=int, default=50_000, help="rows per window")
    parser.add_argument("--columns", type=int, default=10, help="numeric columns (even)")
    args = parser.parse_args()
    if args.rows % args.window or args.reference_rows % args.window or args.columns % 2:
        parser.error("rows and reference rows must be multiples of the window; columns even")

    import nannyml as nml

    rng = np.random.default_rng(13)
    reference = make(rng, args.reference_rows, args.columns, np.zeros(args.reference_rows, bool))
    k = args.rows // args.window
    window_of = np.arange(args.rows) // args.window
    analysis = make(rng, args.rows, args.columns, (window_of >= k // 3) & (window_of < 2 * k // 3))
    last = window_of == k - 1
    analysis.loc[last & (rng.random(args.rows) < 0.2), "region"] = "overseas"
    features = list(reference.columns)
    print(
        f"nannyml {version('nannyml')}, scikit-learn {version('scikit-learn')}; reference "
        f"{args.reference_rows:,} rows, analysis {args.rows:,} rows x {len(features)} columns, "
        f"{k} windows of {args.window:,}"
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        calculator = nml.DataReconstructionDriftCalculator(
            column_names=features, chunk_size=args.window
        )
        calculator.fit(reference)
        theirs = calculator.calculate(analysis).filter(period="analysis").to_df()
        nannyml_time = time.perf_counter() - start

    start = time.perf_counter()
    ours = drift.multivariate(reference, analysis, rows=args.window, method="reconstruction")
    modelyard_time = time.perf_counter() - start

    column = theirs["reconstruction_error"]
    differences = {"value": 0.0, "lower_threshold": 0.0, "upper_threshold": 0.0}
    alerts_differ = 0
    print(f"\n{'window':>6} {'nannyml':>12} {'modelyard':>12} {'band (modelyard)':>24} alert")
    for i, w in enumerate(ours.windows):
        pairs = {
            "value": (float(column["value"].iloc[i]), w.value),
            "lower_threshold": (float(column["lower_threshold"].iloc[i]), w.lower),
            "upper_threshold": (float(column["upper_threshold"].iloc[i]), w.upper),
        }
        for name, (a, b) in pairs.items():
            assert b is not None
            differences[name] = max(differences[name], abs(a - b))
        alert = bool(column["alert"].iloc[i])
        alerts_differ += alert != w.drifted
        print(
            f"{i:>6} {pairs['value'][0]:>12.6f} {pairs['value'][1]:>12.6f} "
            f"[{w.lower:>10.6f}, {w.upper:>10.6f}] {'drift' if w.drifted else 'stable':>6}"
            f"{'' if alert == w.drifted else '  (NannyML differs)'}"
        )
    print()
    for name, difference in differences.items():
        print(f"largest |nannyml - modelyard| in {name}: {difference:.3g}")
    print(f"windows whose alert differs: {alerts_differ}")
    print(
        f"\ntime: nannyml fit + calculate {nannyml_time:.2f} s, modelyard multivariate "
        f"{modelyard_time:.2f} s, modelyard {nannyml_time / modelyard_time:.1f}x faster"
    )
    bad = alerts_differ or max(differences.values()) > TOLERANCE
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
