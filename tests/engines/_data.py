"""Data the engine tests share: a frame with numbers, missing values, strings and a bool column
that holds a null in one partition only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import modelyard.drift as drift

ROWS = 6_000
PARTS = 4
KINDS = {
    "x": "numeric",
    "y": "numeric",
    "n": "numeric",
    "city": "categorical",
    "flag": "categorical",
}


def frame(seed: int = 0, shift: float = 0.0, rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.exponential(size=rows)
    y[rng.random(rows) < 0.05] = np.nan
    flag = pd.Series(rng.random(rows) < 0.3, dtype=object)
    # A null in the second partition only: there the column is not a plain bool.
    flag[rows // PARTS + 3] = None
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, size=rows),
            "y": y,
            "n": rng.integers(0, 50, size=rows).astype(np.int64),
            "city": rng.choice(["Oslo", "Lima", "Pune"], size=rows),
            "flag": flag,
        }
    )


def single_process(data: pd.DataFrame, **options: Any) -> drift.DriftProfile:
    """The profile of the whole data in one process, with the same pinned kinds."""
    import pyarrow as pa

    options.setdefault("kinds", KINDS)
    return drift.profile(pa.Table.from_pandas(data, preserve_index=False), **options)


def ecdf_gap(sketch: drift.DriftProfile, exact: drift.DriftProfile, column: str) -> float:
    """The largest distance between the sketch's ECDF and the exact ECDF, at every exact value."""
    j = exact.numeric_columns.index(column)
    values = exact.sample[: exact.sample_counts[j], j]
    points = sketch.sample[: sketch.sample_counts[j], j]
    at = np.unique(values)
    exact_cdf = np.searchsorted(values, at, side="right") / values.size
    sketch_cdf = np.searchsorted(points, at, side="right") / points.size
    below = np.searchsorted(values, at, side="left") / values.size
    sketch_below = np.searchsorted(points, at, side="left") / points.size
    return float(max(np.abs(exact_cdf - sketch_cdf).max(), np.abs(below - sketch_below).max()))
