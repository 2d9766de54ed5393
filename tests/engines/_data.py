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


def timed(
    seed: int = 1,
    rows: int = ROWS,
    timezone: str | None = None,
    shifted_day: int | None = None,
) -> pd.DataFrame:
    """:func:`frame` with a time column ``ts`` every 100 s from 2026-05-01 03:00 (about seven
    days): day 3 is left out (an empty window in the middle), two rows have no time, and
    ``shifted_day`` (counted from 0) has ``x`` moved by 1."""
    data = frame(seed, rows=rows)
    ts = pd.Series(pd.date_range("2026-05-01 03:00", periods=rows, freq="100s"))
    if timezone is not None:
        ts = ts.dt.tz_localize(timezone)
    day = (ts - ts.dt.normalize().iloc[0]).dt.days
    if shifted_day is not None:
        data.loc[day == shifted_day, "x"] += 1.0
    data.insert(0, "ts", ts)
    data.loc[[7, rows // 2 + 11], "ts"] = pd.NaT
    return data[(day != 3) | data["ts"].isna()].reset_index(drop=True)


def same_monitoring(got: drift.Monitoring, want: drift.Monitoring, atol: float = 1e-12) -> None:
    """Same windows, rows, verdicts and reasons; every number within ``atol``."""
    fields = ("kind", "every", "step", "config", "reference_rows", "data_rows", "outside_rows")
    assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
    assert len(got.windows) == len(want.windows)
    for a, b in zip(got.windows, want.windows, strict=True):
        assert (a.window, a.start, a.end, a.rows, a.verdict) == (
            b.window,
            b.start,
            b.end,
            b.rows,
            b.verdict,
        )
        assert [c.name for c in a.columns] == [c.name for c in b.columns]
        for x, y in zip(a.columns, b.columns, strict=True):
            same = ("kind", "verdict", "reason", "current_count", "current_missing", "bin_labels")
            assert {f: getattr(x, f) for f in same} == {f: getattr(y, f) for f in same}, x.name
            assert np.allclose(x.reference_shares, y.reference_shares, rtol=0, atol=atol)
            assert np.allclose(x.current_shares, y.current_shares, rtol=0, atol=atol)
            for s, t in zip(x.statistics, y.statistics, strict=True):
                assert (s.statistic, s.verdict, s.threshold, s.reason) == (
                    t.statistic,
                    t.verdict,
                    t.threshold,
                    t.reason,
                )
                for number in ("value", "p_value", "adjusted_p_value", "score"):
                    u, v = getattr(s, number), getattr(t, number)
                    assert (u is None) == (v is None), (x.name, s.statistic, number)
                    if u is not None:
                        assert abs(u - v) <= atol, (a.window, x.name, s.statistic, number, u, v)
