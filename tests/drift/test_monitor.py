"""monitor(): every window equals compare() on the window's rows, and the result's forms."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelyard.drift as drift
from modelyard.errors import (
    ColumnMismatchError,
    DriftInputError,
    EmptyDataError,
    InputError,
    IntegrityError,
)

FOUR = ["psi", "js", "ks", "wasserstein"]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


def _rows(data: Any, index: np.ndarray) -> Any:
    if isinstance(data, pd.DataFrame):
        return data.iloc[index]
    return data[index]


def assert_matches_loop(
    result: drift.Monitoring,
    reference: Any,
    data: Any,
    windows: drift.Windows,
    **kwargs: Any,
) -> int:
    """Every non-empty window equals compare() on its rows: values and p-values to 1e-12,
    verdicts and reasons exactly. Returns how many windows were compared."""
    assert len(result.windows) == len(windows)
    compared = 0
    for w, entry in enumerate(result.windows):
        assert entry.window == w
        assert entry.rows == windows.rows[w]
        if entry.rows == 0:
            assert entry.verdict == "insufficient data"
            assert all(c.verdict == "insufficient data" for c in entry.columns)
            with pytest.raises(EmptyDataError):
                drift.compare(reference, _rows(data, windows.indices(w)), **kwargs)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", drift.DriftWarning)
            report = drift.compare(reference, _rows(data, windows.indices(w)), **kwargs)
        assert [c.name for c in entry.columns] == [c.name for c in report.columns]
        for got, want in zip(entry.columns, report.columns, strict=True):
            assert (got.verdict, got.reason) == (want.verdict, want.reason), (w, got.name)
            assert got.current_count == want.current_count
            assert got.current_missing == want.current_missing
            assert len(got.statistics) == len(want.statistics)
            for s, t in zip(got.statistics, want.statistics, strict=True):
                assert s.statistic == t.statistic
                assert (s.verdict, s.reason, s.threshold) == (t.verdict, t.reason, t.threshold)
                for field in ("value", "p_value", "adjusted_p_value", "score"):
                    assert _close(getattr(s, field), getattr(t, field)), (w, got.name, field)
        compared += 1
    return compared


def _frame(n: int, seed: int = 0, *, drift_from: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.lognormal(size=n),
            "counts": rng.poisson(3, size=n).astype(float),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], size=n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    if drift_from is not None:
        frame.loc[drift_from:, "a"] += 0.8
        frame.loc[drift_from:, "city"] = rng.choice(["paris", "brest"], size=n - drift_from)
    return frame


@pytest.fixture(scope="module")
def reference() -> drift.DriftProfile:
    return drift.profile(_frame(4000, seed=1), categorical=["city"])


def test_daily_windows_equal_a_loop_of_compare_on_pandas(reference: drift.DriftProfile) -> None:
    n = 6000
    live = _frame(n, seed=2)
    live.loc[::17, "b"] = np.nan
    live.loc[::23, "city"] = None
    live.loc[5, "a"] = np.inf
    rng = np.random.default_rng(3)
    # Unsorted times over 8 days with a gap of one empty day, and a few rows without a time.
    days = rng.integers(0, 8, n)
    days[days == 5] = 6
    live.loc[days >= 6, "a"] += 0.8  # the last two days drift
    ts = pd.Timestamp("2026-03-02") + pd.to_timedelta(days * 86400 + rng.integers(0, 86400, n), "s")
    live["ts"] = ts
    live.loc[[7, 99], "ts"] = pd.NaT
    result = drift.monitor(reference, live, time="ts", every="1D")
    w = drift.windows(live, time="ts", every="1D")
    assert 0 in w.rows.tolist()  # the empty day is a window of its own
    compared = assert_matches_loop(result, reference, live.drop(columns=["ts"]), w)
    assert compared == len(w) - 1
    assert result.outside_rows == 2
    verdicts = result.summary()["verdict"].tolist()
    assert verdicts == ["stable"] * 5 + ["insufficient data", "drift", "drift"]
    assert {c for _, c, _ in result.alerts} == {"a"}


def test_numpy_count_windows_and_options(reference: drift.DriftProfile) -> None:
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(3000, 3))
    data = rng.normal(size=(2500, 3))
    data[1500:, 1] += 0.5
    data[::11, 2] = np.nan
    prof = drift.profile(ref)
    for kwargs in (
        {"stats": FOUR},
        {"stats": ["psi", "js"]},  # binned alone: the counting pass with window ids
        {"config": "nannyml"},
        {"stats": FOUR, "thresholds": {"psi": 0.1}},
    ):
        result = drift.monitor(prof, data, rows=600, **kwargs)  # type: ignore[arg-type]
        w = drift.windows(data, rows=600)
        assert w.rows.tolist()[-1] == 100  # a short last window: insufficient data for some
        assert assert_matches_loop(result, prof, data, w, **kwargs) == len(w)


@pytest.mark.parametrize("order", ["data", "shuffled"])
def test_infinities_and_missing_values_in_sorted_windows(order: str) -> None:
    # KS and Wasserstein count each window's bins from its sorted segment (infinities at its
    # ends, NaN last) rather than by a pass with window ids: in one run of the data (a slice)
    # and gathered by a shuffled time column alike, the counts equal compare()'s.
    rng = np.random.default_rng(21)
    prof = drift.profile(pd.DataFrame(rng.normal(size=(3000, 3)), columns=["x0", "x1", "x2"]))
    data = rng.normal(size=(2400, 3))
    data[::13, 0] = np.nan
    data[::29, 1] = np.inf
    data[5::31, 1] = -np.inf
    data[600:1200, 2] = np.inf  # the second window has no finite value in column 2
    data[1500:1510, 2] = np.nan
    frame = pd.DataFrame(data, columns=["x0", "x1", "x2"])
    days = np.repeat(np.arange(4), 600)
    if order == "shuffled":
        shuffle = rng.permutation(days.size)
        frame, days = frame.iloc[shuffle].reset_index(drop=True), days[shuffle]
    frame["ts"] = pd.Timestamp("2026-03-02") + pd.to_timedelta(days, "D")
    result = drift.monitor(prof, frame, time="ts", every="1D", stats=FOUR)
    w = drift.windows(frame, time="ts", every="1D")
    assert w.rows.tolist() == [600] * 4
    assert assert_matches_loop(result, prof, frame.drop(columns=["ts"]), w, stats=FOUR) == 4


def test_small_windows_give_insufficient_data() -> None:
    rng = np.random.default_rng(8)
    prof = drift.profile(rng.normal(size=(2000, 1)))
    result = drift.monitor(prof, rng.normal(size=(115, 1)) + 2.0, rows=100, stats=FOUR)
    first, last = result.windows
    assert first.verdict == "drift"
    assert last.rows == 15 and last.verdict == "insufficient data"
    assert all(s.verdict == "insufficient data" for s in last.columns[0].statistics)


def test_rolling_windows_equal_a_loop(reference: drift.DriftProfile) -> None:
    live = _frame(3000, seed=4, drift_from=2000)
    live["ts"] = pd.date_range("2026-01-01", periods=3000, freq="5min", tz="Europe/Paris")
    result = drift.monitor(reference, live, time="ts", every="3D", step="1D", stats=FOUR)
    w = drift.windows(live, time="ts", every="3D", step="1D")
    assert w.overlapping
    assert assert_matches_loop(result, reference, live.drop(columns=["ts"]), w, stats=FOUR) == len(
        w
    )
    table = result.to_pandas()
    assert str(table["start"].dt.tz) == "Europe/Paris"


def test_rolling_binned_only_and_prebuilt_windows(reference: drift.DriftProfile) -> None:
    live = _frame(2000, seed=6)
    times = np.datetime64("2026-01-01") + np.arange(2000).astype("m8[m]") * 7
    w = drift.windows(times, every="2D", step="1D")
    result = drift.monitor(reference, live, windows=w, stats=["psi", "js"])
    assert assert_matches_loop(result, reference, live, w, stats=["psi", "js"]) == len(w)
    by_times = drift.monitor(
        reference, live, time=times, every="2D", step="1D", stats=["psi", "js"]
    )
    assert by_times == result


def test_categorical_labels_as_the_profile_counts_them() -> None:
    # Mixed types in an object column are counted by text, as the profile does.
    ref = pd.DataFrame({"k": [1, "1", True, "x", 2.5, None] * 50})
    live = pd.DataFrame({"k": [True, 1, "y", None, 2.5, "x"] * 40})
    prof = drift.profile(ref, categorical=["k"])
    result = drift.monitor(prof, live, rows=60)
    w = drift.windows(live, rows=60)
    assert assert_matches_loop(result, prof, live, w) == len(w)


def test_tidy_table_summary_alerts_and_round_trip(reference: drift.DriftProfile) -> None:
    live = _frame(3000, seed=9, drift_from=2000)
    live["ts"] = pd.date_range("2026-01-05", periods=3000, freq="144s")
    result = drift.monitor(reference, live, time="ts", every="1D", stats=FOUR)
    table = result.to_pandas()
    assert list(table.columns) == [
        "window", "start", "end", "rows", "column", "statistic", "value", "p_value",
        "adjusted_p_value", "threshold", "verdict", "reason",
    ]  # fmt: skip
    # 4 numeric statistics on 3 numeric columns, psi and js on the categorical one.
    assert len(table) == len(result.windows) * (3 * 4 + 2)
    assert table["start"].iloc[0] == pd.Timestamp("2026-01-05")
    summary = result.summary()
    assert summary["rows"].sum() == 3000
    alerts = result.alerts
    assert alerts and {c for _, c, _ in alerts} <= {"a", "city"}
    assert all(result.window(w).column(c).drifted for w, c, _ in alerts)
    assert summary["drifted"].sum() == len(alerts)
    loaded = drift.Monitoring.from_bytes(result.to_bytes())
    assert loaded == result
    assert json.loads(result.to_bytes())["schema_version"] == 3
    newer = json.loads(result.to_bytes())
    newer["schema_version"] = 4
    with pytest.raises(IntegrityError, match="upgrade modelyard"):
        drift.Monitoring.from_bytes(json.dumps(newer).encode())
    assert "windows of 1D" in repr(result)


def test_bad_arguments_give_clear_errors(reference: drift.DriftProfile) -> None:
    live = _frame(100)
    live["ts"] = pd.date_range("2026-01-01", periods=100, freq="h")
    with pytest.raises(InputError, match="how to cut"):
        drift.monitor(reference, live)
    with pytest.raises(InputError, match="either every"):
        drift.monitor(reference, live, time="ts", every="1D", rows=10)
    w = drift.windows(live, rows=10)
    with pytest.raises(InputError, match="alone"):
        drift.monitor(reference, live, windows=w, rows=10)
    with pytest.raises(InputError, match="built over 50 rows"):
        drift.monitor(reference, live, windows=drift.windows(live.iloc[:50], rows=10))
    with pytest.raises(InputError, match="one time per row"):
        drift.monitor(reference, live, time=live["ts"].iloc[:10], every="1D")
    with pytest.raises(DriftInputError, match="reference bins"):
        drift.monitor(reference, live, time="ts", every="1D", config="evidently")
    with pytest.raises(ColumnMismatchError):
        drift.monitor(reference, live.drop(columns=["b"]), time="ts", every="1D")
    with pytest.raises(EmptyDataError):
        drift.monitor(reference, live.drop(columns=["ts"]).iloc[:0], rows=10)
    with pytest.raises(DriftInputError, match="cannot monitor"):
        drift.monitor(reference, 42, rows=10)


@pytest.mark.parametrize("implementation", ["compiled", "numpy"])
@pytest.mark.parametrize("chunk", [1 << 16, 5])
@pytest.mark.parametrize("ties", [False, True])
def test_segment_distances_against_scipy(
    ties: bool, chunk: int, implementation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scipy import stats

    from modelyard.drift import _binning, _monitor_counts
    from modelyard.drift._monitor_counts import segment_distances

    if implementation == "compiled" and _binning.compiled() is None:
        pytest.skip("modelyard was built without its compiled kernels")
    if implementation == "numpy":
        monkeypatch.setattr(_binning, "_native", None)
    # Segments are processed in chunks of whole segments; small chunks cut between many.
    monkeypatch.setattr(_monitor_counts, "_CHUNK", chunk)

    rng = np.random.default_rng(12)
    draw = (lambda n: rng.poisson(4, n).astype(float)) if ties else (lambda n: rng.normal(size=n))
    reference = np.sort(draw(700))
    sizes = [0, 1, 2, 50, 0, 333, 7]
    parts = [np.sort(draw(k) + (0.4 if i == 5 else 0.0)) for i, k in enumerate(sizes)]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    numerator, w1 = segment_distances(reference, np.concatenate(parts), offsets)
    for part, num, w in zip(parts, numerator.tolist(), w1.tolist(), strict=True):
        if part.size == 0:
            assert num == 0 and math.isnan(w)
            continue
        ks = stats.ks_2samp(reference, part).statistic
        assert num == round(ks * reference.size * part.size)
        assert w == pytest.approx(stats.wasserstein_distance(reference, part), rel=1e-12, abs=1e-14)


def test_a_sketched_profile_and_datetime_columns_equal_a_loop() -> None:
    rng = np.random.default_rng(13)
    base = np.datetime64("2026-01-01T00:00", "ns")
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=5000),
            "when": base + rng.integers(0, 10**15, 5000).astype("m8[ns]"),
        }
    )
    live = pd.DataFrame(
        {
            "x": rng.normal(0.2, size=3000),
            "when": base + rng.integers(0, 10**15, 3000).astype("m8[ns]"),
        }
    )
    prof = drift.profile(ref, sample_size=400)
    result = drift.monitor(prof, live, rows=1000, stats=FOUR)
    w = drift.windows(live, rows=1000)
    assert assert_matches_loop(result, prof, live, w, stats=FOUR) == 3


def test_arrow_and_mapping_inputs_give_the_pandas_result(reference: drift.DriftProfile) -> None:
    import pyarrow as pa

    live = _frame(1200, seed=14)
    live["ts"] = pd.date_range("2026-02-01", periods=1200, freq="10min")
    expected = drift.monitor(reference, live, time="ts", every="1D", stats=FOUR)
    table = pa.Table.from_pandas(live, preserve_index=False)
    assert drift.monitor(reference, table, time="ts", every="1D", stats=FOUR) == expected
    mapping = {name: live[name].to_numpy() for name in live.columns}
    assert drift.monitor(reference, mapping, time="ts", every="1D", stats=FOUR) == expected


def test_quality_per_window_equals_quality_on_the_window_rows(
    reference: drift.DriftProfile,
) -> None:
    live = _frame(3000, seed=15)
    live["ts"] = pd.date_range("2026-02-01", periods=3000, freq="144s")
    incident = (live["ts"] >= "2026-02-03") & (live["ts"] < "2026-02-04")
    live.loc[incident & (np.arange(3000) % 3 == 0), "b"] = np.nan  # a third missing on day 3
    result = drift.monitor(reference, live, time="ts", every="1D", stats=["psi"], quality=True)
    w = drift.windows(live, time="ts", every="1D")
    frame = live.drop(columns=["ts"])
    for i, entry in enumerate(result.windows):
        assert entry.quality == drift.quality(reference, frame.iloc[w.indices(i)])
    errors = result.summary()["quality_errors"].tolist()
    assert errors[2] >= 1 and errors[0] == errors[1] == errors[3] == 0
    assert [f.check for f in result.windows[2].quality.errors] == ["missing_rate"]
    assert drift.Monitoring.from_bytes(result.to_bytes()) == result
    assert "quality_errors" not in drift.monitor(reference, live, time="ts", every="1D").summary()
