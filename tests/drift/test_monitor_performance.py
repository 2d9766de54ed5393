"""monitor() with predictions and labels: each window's performance equals performance() over
the same windows, and alerts, summary and tidy tables carry performance and quality."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelyard.drift as drift
from modelyard.errors import ColumnMismatchError, InputError, IntegrityError

DATA = Path(__file__).parent / "data"


def scored(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, 0.3, n), 0, 1)
    return y, p


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    y, p = scored(rng, 4000)
    return pd.DataFrame(
        {"x": rng.normal(size=4000), "city": rng.choice(["a", "b", "c"], 4000), "y": y, "p": p}
    )


@pytest.fixture(scope="module")
def live() -> pd.DataFrame:
    """Four days: the model breaks on day 3 (random scores), x shifts on day 4, and labels
    have not arrived for a fifth of the rows."""
    rng = np.random.default_rng(22)
    n = 4000
    y, p = scored(rng, n)
    p[2000:3000] = rng.random(1000)
    x = rng.normal(size=n)
    x[3000:] += 1.0
    label = y.astype(float)
    label[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "city": rng.choice(["a", "b", "c"], n),
            "y": label,
            "p": p,
            "ts": pd.date_range("2026-05-01", periods=n, freq="86.4s"),
        }
    )


def result_windows(data: pd.DataFrame) -> drift.Windows:
    return drift.windows(data, time="ts", every="1D")


def _same(a: float | None, b: float) -> bool:
    if a is None:
        return math.isnan(b)
    return a == b


def assert_equals_performance(result: drift.Monitoring, expected: drift.PerformanceResult) -> None:
    """Every window's record holds exactly the values of performance() on the same windows."""
    assert len(result.windows) == len(expected.windows)
    for w, entry in enumerate(result.windows):
        record = entry.performance
        assert record is not None
        assert record.labelled == expected.labelled[w]
        assert [m.metric for m in record.metrics] == list(expected.metrics)
        for j, m in enumerate(record.metrics):
            assert _same(m.value, expected.value[w, j])
            assert _same(m.lower, expected.lower[w, j])
            assert _same(m.upper, expected.upper[w, j])
            assert _same(m.p_value, expected.p_value[w, j])
            assert m.verdict == expected.verdict[w, j]
            assert m.labelled == expected.labelled[w]
            assert expected.reference is not None
            assert m.reference == expected.reference[m.metric][0]


def test_each_window_equals_performance_on_the_same_windows(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    result = drift.monitor(reference, live, time="ts", every="1D", prediction="p", label="y")
    expected = drift.performance(
        live, prediction="p", label="y", time="ts", every="1D", reference=reference
    )
    assert_equals_performance(result, expected)
    assert expected.degraded and {w for w, _ in expected.degraded} == {2}
    # The prediction and label are not drift-compared; the other columns are as without them.
    assert [c.name for c in result.windows[0].columns] == ["x", "city"]
    plain = drift.monitor(
        reference.drop(columns=["p", "y"]), live.drop(columns=["p", "y"]), time="ts", every="1D"
    )
    assert [w.columns for w in result.windows] == [w.columns for w in plain.windows]


def test_labels_arriving_later_are_joined_by_id(live: pd.DataFrame) -> None:
    rng = np.random.default_rng(23)
    y, p = scored(rng, 3000)
    ref = pd.DataFrame({"x": rng.normal(size=3000), "y": y, "p": p})
    data = live.drop(columns=["y", "city"]).assign(order=np.arange(len(live)))
    labels = pd.DataFrame({"order": np.arange(len(live))[::-1], "y": live["y"].to_numpy()[::-1]})
    result = drift.monitor(
        ref, data, time="ts", every="1D", prediction="p", label="y", labels=labels, id="order"
    )
    expected = drift.performance(
        data,
        prediction="p",
        label="y",
        time="ts",
        every="1D",
        reference=ref,
        labels=labels,
        id="order",
    )
    assert_equals_performance(result, expected)
    assert [c.name for c in result.windows[0].columns] == ["x"]  # not the id either


def test_regression_per_window() -> None:
    rng = np.random.default_rng(24)
    y = rng.normal(10, 3, 6000)
    yhat = y + rng.normal(0, 1, 6000)
    yhat[4000:] += rng.normal(0, 3, 2000)  # worse predictions in the last third
    ref = {"f": rng.normal(size=2000), "y": y[:2000], "yhat": yhat[:2000]}
    data = {"f": rng.normal(size=4000), "y": y[2000:], "yhat": yhat[2000:]}
    result = drift.monitor(ref, data, rows=1000, prediction="yhat", label="y", task="regression")
    expected = drift.performance(
        data, prediction="yhat", label="y", rows=1000, task="regression", reference=ref
    )
    assert_equals_performance(result, expected)
    assert {w for w, _ in expected.degraded} == {2, 3}


def test_a_profile_reference_takes_the_reference_performance(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    from_data = drift.monitor(reference, live, time="ts", every="1D", prediction="p", label="y")
    prof = drift.profile(reference.drop(columns=["p", "y"]))
    period = drift.performance(reference, prediction="p", label="y")
    from_profile = drift.monitor(
        prof,
        live,
        time="ts",
        every="1D",
        prediction="p",
        label="y",
        reference_performance=period,
    )
    assert [w.performance for w in from_profile.windows] == [
        w.performance for w in from_data.windows
    ]
    with pytest.raises(InputError, match=r"reference_performance=drift\.performance"):
        drift.monitor(prof, live, time="ts", every="1D", prediction="p", label="y")


def test_performance_accepts_an_earlier_one_window_result_as_reference(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    kwargs: dict[str, Any] = {"prediction": "p", "label": "y", "time": "ts", "every": "1D"}
    from_data = drift.performance(live, reference=reference, **kwargs)
    period = drift.performance(reference, prediction="p", label="y")
    from_result = drift.performance(live, reference=period, **kwargs)
    assert from_result.reference == from_data.reference
    np.testing.assert_array_equal(from_result.p_value, from_data.p_value)
    np.testing.assert_array_equal(from_result.verdict, from_data.verdict)
    windowed = drift.performance(live, **kwargs)
    with pytest.raises(InputError, match="one window"):
        drift.performance(live, reference=windowed, **kwargs)
    regression = drift.performance(
        {"y": [1.0, 2.0, 3.0], "p": [1.1, 2.0, 2.8]}, prediction="p", label="y", task="regression"
    )
    with pytest.raises(InputError, match="regression result"):
        drift.performance(live, reference=regression, **kwargs)
    accuracy_only = drift.performance(reference, prediction="p", label="y", metrics=["accuracy"])
    with pytest.raises(InputError, match="roc_auc"):
        drift.performance(live, reference=accuracy_only, **kwargs)


def test_bad_performance_arguments_are_refused_up_front(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    with pytest.raises(InputError, match=r"both prediction= .* and label="):
        drift.monitor(reference, live, time="ts", every="1D", prediction="p")
    with pytest.raises(InputError, match="both prediction="):
        drift.monitor(reference, live, time="ts", every="1D", label="y")
    with pytest.raises(InputError, match="pass prediction= and label= too"):
        drift.monitor(reference, live, time="ts", every="1D", id="x")
    with pytest.raises(ColumnMismatchError, match="reference data has no column 'p'") as caught:
        drift.monitor(
            reference.drop(columns=["p"]), live, time="ts", every="1D", prediction="p", label="y"
        )
    assert caught.value.missing == ["p"]
    with pytest.raises(InputError, match=r"result of drift\.performance"):
        drift.monitor(
            reference,
            live,
            time="ts",
            every="1D",
            prediction="p",
            label="y",
            reference_performance={"accuracy": 0.9},  # type: ignore[arg-type]
        )


def test_the_prediction_is_drift_compared_when_named_in_columns(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    result = drift.monitor(
        reference, live, time="ts", every="1D", prediction="p", label="y", columns=["x", "p"]
    )
    assert [c.name for c in result.windows[0].columns] == ["x", "p"]
    assert result.windows[2].column("p").drifted  # random scores are spread differently
    assert result.windows[0].performance is not None


def test_alerts_summary_and_tables_carry_quality_and_performance(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    data = live.copy()
    day_two = (data["ts"] >= "2026-05-02") & (data["ts"] < "2026-05-03")
    data.loc[day_two & (np.arange(len(data)) % 3 == 0), "x"] = np.nan
    result = drift.monitor(
        reference, data, time="ts", every="1D", prediction="p", label="y", quality=True
    )
    alerts = result.alerts
    assert (1, "quality:x") in [(w, s) for w, s, _ in alerts]
    degraded = [(w, s) for w, s, _ in alerts if s.startswith("performance:")]
    assert degraded and {w for w, _ in degraded} == {2}
    assert {s for _, s in degraded} == {
        f"performance:{m}" for m in result.windows[2].performance.degraded
    }
    assert (3, "x") in [(w, s) for w, s, _ in alerts]
    reasons = {(w, s): r for w, s, r in alerts}
    assert "worse than the reference's" in reasons[(2, "performance:accuracy")]
    summary = result.summary()
    assert summary["degraded"].tolist()[2] >= 4 and summary["degraded"].tolist()[0] == 0
    assert "accuracy" in summary["metrics"][2]
    # Labels not arrived yet (y is a fifth missing, the reference none) are no quality error;
    # day 2 misses a third of x, day 4 shifts x past the reference range.
    assert summary["quality_columns"].tolist() == ["", "x", "", "x"]
    checked = [c for c in reference.columns if c != "y"]
    prof = drift.profile(reference)
    for w, entry in enumerate(result.windows):
        assert entry.quality == drift.quality(
            prof, data.iloc[result_windows(data).indices(w)], columns=checked
        )
    assert summary["labelled"].tolist() == [w.performance.labelled for w in result.windows]

    table = result.to_pandas("performance")
    expected = drift.performance(
        data, prediction="p", label="y", time="ts", every="1D", reference=reference
    ).to_pandas()
    for name in ("window", "labelled", "metric", "verdict"):
        assert table[name].tolist() == expected[name].tolist()
    for name in ("value", "lower", "upper", "reference", "p_value"):
        np.testing.assert_array_equal(table[name].to_numpy(), expected[name].to_numpy())
    pd.testing.assert_series_equal(table["start"], expected["start"], check_names=False)

    quality = result.to_pandas("quality")
    for w, entry in enumerate(result.windows):
        assert entry.quality is not None
        own = quality[quality.window == w].drop(columns=["window", "start", "end", "rows"])
        pd.testing.assert_frame_equal(
            own.reset_index(drop=True), entry.quality.to_pandas(include_ok=True)
        )
    assert result.to_pandas().equals(result.to_pandas("drift"))
    assert drift.Monitoring.from_bytes(result.to_bytes()) == result
    with pytest.raises(InputError, match="not one of"):
        result.to_pandas("alerts")  # type: ignore[arg-type]
    plain = drift.monitor(reference, live, time="ts", every="1D")
    with pytest.raises(InputError, match="prediction= and label="):
        plain.to_pandas("performance")
    with pytest.raises(InputError, match="quality=True"):
        plain.to_pandas("quality")
    assert "degraded" not in plain.summary() and "quality_columns" not in plain.summary()


def test_a_stored_version_1_result_still_loads() -> None:
    stored = (DATA / "monitoring_v1.json").read_bytes()
    assert json.loads(stored)["schema_version"] == 1
    result = drift.Monitoring.from_bytes(stored)
    assert result.schema_version == 1
    assert all(w.performance is None and w.quality is not None for w in result.windows)
    # Version 1 stored quality reports; their errors are alerts now.
    assert [(w, s) for w, s, _ in result.alerts] == [
        (1, "quality:x"),
        (2, "quality:x"),
        (2, "quality:x"),
    ]
    assert drift.Monitoring.from_bytes(result.to_bytes()) == result
    newer = json.loads(stored)
    newer["schema_version"] = 4
    with pytest.raises(IntegrityError, match="schema version 4"):
        drift.Monitoring.model_validate(newer)
