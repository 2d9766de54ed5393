"""monitor() with multivariate drift and performance estimated without labels: each window's
records equal multivariate() and estimate_performance() on the same windows, and alerts,
summary, tidy tables, stored results and the page carry them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelyard.drift as drift
from modelyard.errors import InputError, IntegrityError

DATA = Path(__file__).parent / "data"
PER = 300
MV = {"trees": 20, "seed": 1}


def traffic(rng: np.random.Generator, n: int, rho: float, spread: float = 1.0) -> pd.DataFrame:
    """Income and spend correlated by ``rho``; a calibrated score driven by income."""
    income = rng.normal(0, spread, n)
    noise = rng.normal(size=n)
    spend = rho * income / spread + np.sqrt(1 - rho**2) * noise
    p = 1 / (1 + np.exp(-2.5 * income))
    return pd.DataFrame(
        {
            "income": income,
            "spend": spend,
            "tenure": rng.exponential(2.0, n),
            "p": p,
            "y": (rng.random(n) < p).astype(float),
        }
    )


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return traffic(np.random.default_rng(31), 4000, 0.8)


@pytest.fixture(scope="module")
def live() -> pd.DataFrame:
    """Four windows: two as the reference; in the third spend runs against income (no column
    changes alone); in the fourth income crowds around 0, where the scores are unsure. Labels
    have arrived for the first two only."""
    rng = np.random.default_rng(32)
    parts = [
        traffic(rng, PER, 0.8),
        traffic(rng, PER, 0.8),
        traffic(rng, PER, -0.8),
        traffic(rng, PER, 0.8, spread=0.25),
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame.loc[2 * PER :, "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def result(reference: pd.DataFrame, live: pd.DataFrame) -> drift.Monitoring:
    return drift.monitor(
        reference,
        live,
        rows=PER,
        prediction="p",
        label="y",
        metrics=["accuracy", "roc_auc"],
        multivariate=True,
        multivariate_options=MV,
        estimate=True,
    )


@pytest.mark.slow
def test_multivariate_records_equal_multivariate_on_the_same_windows(
    reference: pd.DataFrame, live: pd.DataFrame, result: drift.Monitoring
) -> None:
    alone = drift.multivariate(
        reference,
        live,
        windows=drift.windows(live, rows=PER),
        columns=["income", "spend", "tenure"],
        **MV,
    )
    assert [m for w in result.windows for m in w.multivariate] == list(alone.windows)
    # The flip leaves every column alone, so only the window as a whole drifts.
    assert result.window(2).drifted == []
    assert [m.method for m in result.window(2).multivariate if m.drifted] == [
        "classifier",
        "reconstruction",
    ]
    assert not any(m.drifted for w in result.windows[:2] for m in w.multivariate)
    subjects = {(w, s) for w, s, _ in result.alerts}
    assert {(2, "multivariate:classifier"), (2, "multivariate:reconstruction")} <= subjects
    table = result.to_pandas("multivariate")
    expected = alone.to_pandas()
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert result.summary()["multivariate"].tolist()[2] == "classifier, reconstruction"


def test_estimated_records_equal_estimate_performance_on_the_same_windows(
    reference: pd.DataFrame, live: pd.DataFrame, result: drift.Monitoring
) -> None:
    alone = drift.estimate_performance(
        reference, live, prediction="p", label="y", windows=drift.windows(live, rows=PER)
    )
    assert [w.estimated for w in result.windows] == list(alone.windows)
    # Labelled windows show both; the others the estimate, and their realized metrics say why.
    for w in result.windows[:2]:
        assert w.performance is not None and w.performance.labelled == PER
        assert w.estimated is not None
    for w in result.windows[2:]:
        assert w.performance is not None and w.performance.labelled == 0
        assert w.estimated is not None and w.estimated.metric("accuracy").value > 0
    low = [(w, m) for w, m in alone.degraded]
    assert low and all(w == 3 for w, _ in low)
    estimated_alerts = [(w, s) for w, s, _ in result.alerts if s.startswith("estimated:")]
    assert estimated_alerts == [(w, f"estimated:{m}") for w, m in low]
    reason = next(r for _, s, r in result.alerts if s == "estimated:accuracy")
    assert "below the alert threshold" in reason
    table = result.to_pandas("estimated")
    expected = alone.to_pandas().rename(columns={"rows": "predicted"})
    pd.testing.assert_frame_equal(
        table.drop(columns=["start", "end", "rows"]),
        expected.drop(columns=["start", "end"])[table.columns.drop(["start", "end", "rows"])],
        check_dtype=False,
    )
    summary = result.summary()
    assert summary["estimated_degraded"].tolist() == [0, 0, 0, len(low)]
    assert summary["estimated_metrics"].tolist()[3] == ", ".join(m for _, m in low)


@pytest.mark.slow
def test_options_reach_the_methods(reference: pd.DataFrame, live: pd.DataFrame) -> None:
    options = {"trees": 10, "seed": 4, "top": 1, "auc_threshold": 0.6}
    result = drift.monitor(
        reference[["income", "spend"]],
        live[["income", "spend"]],
        rows=PER,
        multivariate="classifier",
        multivariate_options=options,
    )
    alone = drift.multivariate(
        reference[["income", "spend"]],
        live[["income", "spend"]],
        rows=PER,
        method="classifier",
        **options,
    )
    assert [m for w in result.windows for m in w.multivariate] == list(alone.windows)
    assert all(len(m.features) <= 1 and m.upper == 0.6 for m in alone.windows)
    estimated = drift.monitor(
        reference,
        live,
        rows=PER,
        prediction="p",
        label="y",
        estimate=True,
        estimate_options={"metrics": ["f1"], "alert_sd": 2.0},
    )
    first = estimated.window(0).estimated
    assert first is not None and [m.metric for m in first.metrics] == ["f1"]
    with pytest.raises(InputError, match="no multivariate drift"):
        estimated.to_pandas("multivariate")
    with pytest.raises(InputError, match="no estimated performance"):
        result.to_pandas("estimated")
    assert "multivariate" not in estimated.summary() and "estimated_metrics" not in result.summary()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"multivariate": "pca"}, "must be True, False, 'classifier'"),
        ({"multivariate_options": {"trees": 5}}, "pass multivariate=True too"),
        (
            {"multivariate": True, "multivariate_options": {"rows": 5}},
            r"unknown option\(s\) \['rows'\]",
        ),
        ({"multivariate": True, "multivariate_options": {"alpha": 2.0}}, "alpha=2.0"),
        ({"estimate": True}, "needs prediction="),
        ({"estimate_options": {"alert_sd": 2}}, "pass estimate=True too"),
        ({"estimate": "yes"}, "must be True or False"),
        (
            {"estimate": True, "prediction": "p", "label": "y", "task": "regression"},
            "binary classifiers only",
        ),
        (
            {"estimate": True, "prediction": "p", "label": "y", "estimate_options": {"bins": 3}},
            r"unknown option\(s\) \['bins'\]",
        ),
    ],
)
def test_bad_arguments_are_refused(
    reference: pd.DataFrame, live: pd.DataFrame, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        drift.monitor(reference, live, rows=PER, **arguments)  # type: ignore[arg-type]


def test_a_profile_cannot_serve_multivariate_drift_or_an_estimate(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    prof = drift.profile(reference)
    with pytest.raises(InputError, match="a profile holds none"):
        drift.monitor(prof, live, rows=PER, multivariate=True)
    realized = drift.performance(reference, prediction="p", label="y")
    with pytest.raises(InputError, match="a profile holds none"):
        drift.monitor(
            prof,
            live,
            rows=PER,
            prediction="p",
            label="y",
            reference_performance=realized,
            estimate=True,
        )


def test_the_new_records_survive_storage(result: drift.Monitoring) -> None:
    stored = result.to_bytes()
    assert json.loads(stored)["schema_version"] == 3
    assert drift.Monitoring.from_bytes(stored) == result


def test_a_stored_version_2_result_still_loads() -> None:
    stored = (DATA / "monitoring_v2.json").read_bytes()
    assert json.loads(stored)["schema_version"] == 2
    result = drift.Monitoring.from_bytes(stored)
    assert result.schema_version == 2 and result.fitted is not None
    assert all(w.multivariate == () and w.estimated is None for w in result.windows)
    assert [w.performance.labelled for w in result.windows if w.performance] == [200, 200, 10]
    assert [(w, s) for w, s, _ in result.alerts][:2] == [(2, "x"), (2, "quality:x")]
    assert drift.Monitoring.from_bytes(result.to_bytes()) == result
    assert "multivariate" not in result.summary()
    page = result.to_html()
    assert "<h2>Realized performance</h2>" in page and "Multivariate drift" not in page
    newer = json.loads(stored)
    newer["schema_version"] = 4
    with pytest.raises(IntegrityError, match="schema version 4"):
        drift.Monitoring.model_validate(newer)


def test_the_three_per_window_functions_refuse_bad_windows_alike(
    reference: pd.DataFrame, live: pd.DataFrame
) -> None:
    cut = drift.windows(live, rows=PER)
    calls = [
        lambda **kw: drift.monitor(reference, live, **kw),
        lambda **kw: drift.multivariate(reference, live, **kw),
        lambda **kw: drift.estimate_performance(reference, live, prediction="p", label="y", **kw),
    ]
    for call in calls:
        with pytest.raises(InputError, match="pass them alone"):
            call(windows=cut, rows=PER)
        with pytest.raises(InputError, match="was built over 600 rows, but data has 1200"):
            call(windows=drift.windows(live.iloc[:600], rows=PER))
        with pytest.raises(InputError, match=r"must come from drift\.windows\(\)"):
            call(windows=[0, 1])
