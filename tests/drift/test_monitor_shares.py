"""A monitored window keeps its histogram: the shares compare() reports on the window's rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import modelyard.drift as drift


def _data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 4 * 300
    reference = pd.DataFrame(
        {
            "x": rng.normal(size=3000),
            "counts": rng.poisson(3, size=3000).astype(float),
            "city": rng.choice(["a", "b", "c"], size=3000),
        }
    )
    city = rng.choice(["a", "b", "c"], size=n).astype(object)
    city[900:] = rng.choice(["a", "new", "&\"'<>"], size=n - 900)
    live = pd.DataFrame(
        {
            "ts": pd.date_range("2026-05-01", periods=n, freq="72s"),
            "x": np.r_[rng.normal(size=900), rng.normal(2.0, size=n - 900)],
            "counts": rng.poisson(3, size=n).astype(float),
            "city": city,
        }
    )
    live.loc[::7, "x"] = np.nan
    return reference, live


def test_each_window_holds_the_shares_compare_gives_its_rows() -> None:
    reference, live = _data(1)
    prof = drift.profile(reference, categorical=["city"])
    result = drift.monitor(prof, live, time="ts", every="6h")
    built = drift.windows(live, time="ts", every="6h")
    assert len(result.windows) == len(built) == 4
    for window in result.windows:
        rows = live.iloc[built.indices(window.window)].drop(columns=["ts"])
        expected = drift.compare(prof, rows)
        for column in window.columns:
            want = expected.column(column.name)
            assert column.bin_labels == want.bin_labels
            assert len(column.bin_labels) > 1
            np.testing.assert_allclose(column.reference_shares, want.reference_shares, rtol=1e-12)
            np.testing.assert_allclose(column.current_shares, want.current_shares, rtol=1e-12)
    last = result.windows[-1].column("city")
    assert "new" in last.bin_labels and "&\"'<>" in last.bin_labels
    assert abs(sum(last.current_shares) - 1.0) < 1e-12


def test_a_result_stored_without_shares_still_loads() -> None:
    reference, live = _data(2)
    result = drift.monitor(reference, live, time="ts", every="6h", categorical=["city"])
    raw = result.model_dump(mode="python")
    for window in raw["windows"]:
        for column in window["columns"]:
            for key in ("bin_labels", "reference_shares", "current_shares"):
                del column[key]
    loaded = drift.Monitoring.from_bytes(json.dumps(raw).encode())
    assert loaded.windows[0].columns[0].bin_labels == ()
    assert loaded.windows[0].columns[0].verdict == result.windows[0].columns[0].verdict
    assert drift.Monitoring.from_bytes(result.to_bytes()) == result
