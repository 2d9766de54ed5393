"""NannyML's CBPE and modelyard's ``estimate_performance`` on the same data and chunks.

Both tools see one labelled reference and one unlabelled analysis period from a logistic process
whose covariates shift towards the decision boundary over the analysis windows; both cut the same
count windows (NannyML ``chunk_size``, modelyard ``rows=``) and take their alert thresholds from
reference chunks of the same size. Per window and metric the script prints both estimates and
the largest differences, and exits with status 1 if an estimate or an alert threshold differs by
more than 1e-6.

Where the methods are the same, the numbers are:

- calibration: both fit scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` on the whole
  reference. NannyML first decides by a cross-validated calibration error whether to calibrate at
  all; modelyard always does unless ``calibrate=False``, so the script passes NannyML's decision
  (``needs_calibration``) on.
- accuracy, precision, recall, F1: the same expected confusion matrix.
- ROC AUC: the same area under the expected ROC curve; NannyML rounds its cumulative sums to
  five decimals, which moves the area by about 1e-9 at these sizes.
- alert thresholds: mean less three standard deviations of the realized metric over reference
  chunks.

The bands differ by design and are printed for information only: NannyML's is +-3 standard
errors estimated once from the reference (an observation-level standard deviation scaled by the
chunk size), modelyard's is a 95 % interval from the window's own scores (the spread of labels
drawn from the calibrated probabilities).

It imports modelyard, so run it in the peers' environment with the source tree on the path::

    PYTHONPATH=src /tmp/peers/bin/python benchmarks/peers/cbpe.py
    PYTHONPATH=src /tmp/peers/bin/python benchmarks/peers/cbpe.py --chunk 2000 --windows 20
"""

from __future__ import annotations

import os

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd

METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]


def _data(rng: np.random.Generator, reference_rows: int, chunk: int, windows: int) -> tuple:
    def scored(x: np.ndarray) -> pd.DataFrame:
        p = 1 / (1 + np.exp(-(-0.5 + 1.8 * x[:, 0] - 1.2 * x[:, 1])))
        y = (rng.random(len(p)) < p).astype(int)
        return pd.DataFrame({"score": p, "pred": (p >= 0.5).astype(int), "y": y})

    reference = scored(rng.normal(0, 1, (reference_rows, 2)))
    shift = np.linspace(0, 1, windows)
    x = np.concatenate([rng.normal([0.28 * s, 0.0], 1 - 0.5 * s, (chunk, 2)) for s in shift])
    return reference, scored(x).drop(columns="y")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--reference-chunks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    import nannyml as nml

    import modelyard.drift as drift

    rng = np.random.default_rng(args.seed)
    reference, analysis = _data(rng, args.reference_chunks * args.chunk, args.chunk, args.windows)
    warnings.simplefilter("ignore")

    started = time.perf_counter()
    estimator = nml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="y",
        metrics=METRICS,
        chunk_size=args.chunk,
        problem_type="classification_binary",
    )
    estimator.fit(reference)
    theirs = estimator.estimate(analysis).filter(period="analysis").to_df()
    nannyml_time = time.perf_counter() - started

    started = time.perf_counter()
    ours = drift.estimate_performance(
        reference,
        analysis,
        prediction="score",
        label="y",
        rows=args.chunk,
        calibrate=bool(estimator.needs_calibration),
        reference_chunk_rows=args.chunk,
    ).to_pandas()
    modelyard_time = time.perf_counter() - started

    print(
        f"reference {len(reference):,} rows, analysis {args.windows} windows of {args.chunk:,} "
        f"rows; NannyML calibrates: {estimator.needs_calibration}"
    )
    worst = 0.0
    for metric in METRICS:
        mine = ours[ours.metric == metric].reset_index(drop=True)
        value = theirs[(metric, "value")].to_numpy(dtype=float)
        threshold = theirs[(metric, "lower_threshold")].to_numpy(dtype=float)
        width = (
            theirs[(metric, "upper_confidence_boundary")]
            - theirs[(metric, "lower_confidence_boundary")]
        ).to_numpy(dtype=float)
        value_gap = np.abs(mine.value.to_numpy() - value).max()
        threshold_gap = np.abs(mine.alert_threshold.to_numpy() - threshold).max()
        worst = max(worst, value_gap, threshold_gap)
        print(
            f"\n{metric}: largest difference of the estimates {value_gap:.2e}, of the alert "
            f"thresholds {threshold_gap:.2e}; median band width NannyML (+-3 se) "
            f"{np.median(width):.4f}, modelyard (95 %) "
            f"{np.median(mine.upper - mine.lower):.4f}"
        )
        print("  window  NannyML    modelyard  alert (NannyML / modelyard)")
        for w in range(len(mine)):
            print(
                f"  {w:>6}  {value[w]:.8f} {mine.value[w]:.8f}  "
                f"{bool(theirs[(metric, 'alert')][w])!s:>5} / {mine.verdict[w]}"
            )
    print(
        f"\ntime: NannyML fit + estimate {nannyml_time:.3f} s, modelyard {modelyard_time:.3f} s, "
        f"ratio {nannyml_time / modelyard_time:.1f}x"
    )
    if worst > 1e-6:
        print(f"FAILED: a difference of {worst:.2e} exceeds 1e-6", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
