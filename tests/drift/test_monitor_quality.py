"""monitor(quality=True) counts every window's data quality in one pass: each window's report
equals quality() on the window's rows, for every kind of finding and window."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelyard.drift as drift
import modelyard.drift._monitor as monitor_module


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "counts": rng.poisson(3, size=n).astype(float),
            "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], size=n),
            "flag": rng.random(n) < 0.3,
        }
    )


@pytest.fixture(scope="module")
def reference() -> drift.DriftProfile:
    frame = _frame(3000, seed=41)
    frame.loc[::50, "a"] = np.nan
    return drift.profile(frame, categorical=["city"])


@pytest.fixture(scope="module")
def live() -> pd.DataFrame:
    """Six half-day windows, with an incident of each kind in its own window."""
    n = 3000
    frame = _frame(n, seed=42)
    frame["ts"] = pd.date_range("2026-02-01", periods=n, freq="86.4s")
    frame.loc[500:999:2, "a"] = np.nan  # window 1: a missing-rate jump
    frame.loc[1000:1099, "counts"] = 1e6  # window 2: values above the reference range
    frame.loc[1100:1119, "counts"] = -np.inf  # and below it
    frame.loc[1500:1599, "city"] = "brest"  # window 3: an unseen category
    frame.loc[2000:2099, "city"] = None  # window 4: missing categories
    frame.loc[2500:2549, "when"] = pd.Timestamp("2030-01-01")  # window 5: dates out of range
    return frame


def _loop(reference: drift.DriftProfile, data: Any, windows: drift.Windows, **kw: Any) -> list[Any]:
    rows = data.drop(columns=["ts"]) if "ts" in data else data
    return [
        drift.quality(reference, rows.iloc[windows.indices(w)], **kw) if windows.rows[w] else None
        for w in range(len(windows))
    ]


@pytest.fixture
def one_pass_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the per-window loop runs: the one-pass counting must serve these inputs."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("quality() ran on a window's rows")

    monkeypatch.setattr(monitor_module, "_quality", refuse)


@pytest.mark.parametrize("step", [None, "6h"])
def test_each_window_equals_quality_on_its_rows(
    reference: drift.DriftProfile, live: pd.DataFrame, step: str | None, one_pass_only: None
) -> None:
    result = drift.monitor(
        reference, live, time="ts", every="12h", step=step, stats=["psi"], quality=True
    )
    windows = drift.windows(live, time="ts", every="12h", step=step)
    expected = _loop(reference, live, windows)
    assert [w.quality for w in result.windows] == expected
    if step is None:
        errors = [
            sorted({(f.column, f.check) for f in w.quality.errors})
            for w in result.windows
            if w.quality is not None
        ]
        assert errors == [
            [],
            [("a", "missing_rate")],
            [("counts", "out_of_range")],
            [("city", "unseen_categories")],
            [("city", "missing_rate")],
            [("when", "out_of_range")],
        ]


def test_empty_windows_mappings_and_a_column_subset(
    reference: drift.DriftProfile, live: pd.DataFrame, one_pass_only: None
) -> None:
    gap = live[(live.ts < "2026-02-02") | (live.ts >= "2026-02-03")]  # the second day is empty
    result = drift.monitor(reference, gap, time="ts", every="1D", stats=["psi"], quality=True)
    windows = drift.windows(gap, time="ts", every="1D")
    assert windows.rows.tolist()[1] == 0
    assert [w.quality for w in result.windows] == _loop(reference, gap, windows)
    mapping = {name: live[name].to_numpy() for name in live.columns}
    by_mapping = drift.monitor(reference, mapping, time="ts", every="12h", quality=True)
    by_frame = drift.monitor(reference, live, time="ts", every="12h", quality=True)
    assert by_mapping.windows == by_frame.windows
    subset = drift.monitor(
        reference, live, time="ts", every="12h", columns=["a", "city"], quality=True
    )
    expected = _loop(
        reference, live, drift.windows(live, time="ts", every="12h"), columns=["a", "city"]
    )
    assert [w.quality for w in subset.windows] == expected


def test_inputs_one_pass_cannot_serve_take_the_loop(
    reference: drift.DriftProfile, live: pd.DataFrame
) -> None:
    import pyarrow as pa

    table = pa.Table.from_pandas(live, preserve_index=False)
    windows = drift.windows(live, time="ts", every="12h")
    result = drift.monitor(reference, table, time="ts", every="12h", quality=True)
    assert [w.quality for w in result.windows] == _loop(reference, live, windows)
    # Text where numbers were is a finding worded from each window's own rows: the loop too.
    broken = live.drop(columns=["ts"]).assign(counts=live["counts"].astype(str))
    reports = monitor_module._window_quality(reference, broken, windows, None)
    assert reports == _loop(reference, broken, windows)
    assert all(
        ("counts", "kind_changed") in {(f.column, f.check) for f in r.errors}
        for r in reports
        if r is not None
    )
