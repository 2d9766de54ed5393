"""Realized performance per window: scikit-learn's metrics, interval coverage, verdict rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import metrics as sk

import modelyard.drift as drift
from modelyard.errors import ColumnMismatchError, ColumnTypeError, EmptyDataError, InputError

CLASSIFICATION = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]
REGRESSION = ["mae", "rmse", "mape", "r2"]


def scored(rng: np.random.Generator, n: int, noise: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 + (y - 0.5) * 0.5 + rng.normal(0, noise, n), 0, 1)
    return y, p


def sklearn_classification(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    hard = (p >= 0.5).astype(int)
    return {
        "accuracy": sk.accuracy_score(y, hard),
        "precision": sk.precision_score(y, hard, zero_division=np.nan),
        "recall": sk.recall_score(y, hard, zero_division=np.nan),
        "f1": sk.f1_score(y, hard, zero_division=np.nan),
        "roc_auc": sk.roc_auc_score(y, p),
        "log_loss": sk.log_loss(y, p, labels=[0, 1]),
    }


@pytest.mark.parametrize("step", [None, "12h"])
def test_classification_metrics_equal_scikit_learn_in_every_window(step: str | None) -> None:
    rng = np.random.default_rng(1)
    n = 3000
    y, p = scored(rng, n)
    p = np.round(p, 2)  # ties, which ROC AUC must count as halves
    p[:50] = np.array([0.0, 1.0])[y[:50]]  # confident hits; and a confident miss:
    p[50] = 1.0 - y[50]
    ts = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 6 * 86_400, n), unit="s")
    y_missing = y.astype(float)
    y_missing[rng.random(n) < 0.2] = np.nan  # labels not arrived yet
    frame = pd.DataFrame({"ts": ts, "y": y_missing, "p": p})
    result = drift.performance(frame, prediction="p", label="y", time="ts", every="1D", step=step)
    assert result.metrics == tuple(CLASSIFICATION)
    for j in range(len(result.windows)):
        rows = result.windows.indices(j)
        rows = rows[~np.isnan(y_missing[rows])]
        assert result.labelled[j] == len(rows)
        expected = sklearn_classification(y[rows], p[rows])
        for m, name in enumerate(result.metrics):
            assert result.value[j, m] == pytest.approx(expected[name], abs=1e-12, rel=1e-12)
            assert result.lower[j, m] <= result.value[j, m] <= result.upper[j, m]


def test_regression_metrics_equal_scikit_learn_in_every_window() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    y = rng.normal(10, 3, n)
    y[:5] = 0.0  # MAPE divides by max(|y|, eps), as scikit-learn does
    prediction = y + rng.normal(0, 1, n)
    result = drift.performance(
        {"y": y, "yhat": prediction}, prediction="yhat", label="y", rows=300, task="regression"
    )
    assert result.metrics == tuple(REGRESSION)
    for j in range(len(result.windows)):
        rows = result.windows.indices(j)
        expected = {
            "mae": sk.mean_absolute_error(y[rows], prediction[rows]),
            "rmse": np.sqrt(sk.mean_squared_error(y[rows], prediction[rows])),
            "mape": sk.mean_absolute_percentage_error(y[rows], prediction[rows]),
            "r2": sk.r2_score(y[rows], prediction[rows]),
        }
        for m, name in enumerate(result.metrics):
            assert result.value[j, m] == pytest.approx(expected[name], abs=1e-12, rel=1e-12)


def test_predicted_labels_with_a_named_positive_class() -> None:
    rng = np.random.default_rng(3)
    truth = rng.choice(["churn", "stay"], 500)
    predicted = np.where(rng.random(500) < 0.8, truth, rng.choice(["churn", "stay"], 500))
    table = pa.table({"label": truth, "pred": predicted})
    result = drift.performance(table, prediction="pred", label="label", positive="churn")
    assert result.metrics == ("accuracy", "precision", "recall", "f1")
    expected = [
        sk.accuracy_score(truth, predicted),
        sk.precision_score(truth, predicted, pos_label="churn"),
        sk.recall_score(truth, predicted, pos_label="churn"),
        sk.f1_score(truth, predicted, pos_label="churn"),
    ]
    assert result.value[0].tolist() == pytest.approx(expected, abs=1e-12)
    with pytest.raises(InputError, match="pass positive="):
        drift.performance(table, prediction="pred", label="label")
    with pytest.raises(InputError, match="needs predicted probabilities"):
        drift.performance(table, prediction="pred", label="label", positive="churn",
                          metrics=["roc_auc"])  # fmt: skip


def test_labels_that_arrive_later_are_joined_by_id() -> None:
    rng = np.random.default_rng(4)
    n = 400
    y, p = scored(rng, n)
    ids = rng.permutation(10_000)[:n]
    ts = pd.date_range("2026-02-01", periods=n, freq="15min")  # about four days
    predictions = pd.DataFrame({"id": ids, "p": p, "ts": ts})
    # Labels for the first two days only, in another order, plus ids of other batches.
    arrived = rng.permutation(np.flatnonzero(ts < pd.Timestamp("2026-02-03")))
    labels = pd.DataFrame(
        {"id": np.concatenate([ids[arrived], [20_001, 20_002]]), "y": [*y[arrived], 1, 0]}
    )
    result = drift.performance(
        predictions, prediction="p", label="y", id="id", labels=labels, time="ts", every="1D"
    )
    assert result.labelled.tolist() == [96, 96, 0, 0, 0]
    table = result.to_pandas()
    late = table[table.window >= 2]
    assert set(late.verdict) == {"no labels"} and late.value.isna().all()
    rows = result.windows.indices(1)
    assert result.value[1, 0] == pytest.approx(sk.accuracy_score(y[rows], p[rows] >= 0.5))
    twice = pd.DataFrame({"id": [ids[0], ids[0]], "y": [0, 1]})
    with pytest.raises(InputError, match="repeated ids"):
        drift.performance(predictions, prediction="p", label="y", id="id", labels=twice)
    with pytest.raises(InputError, match="pass id="):
        drift.performance(predictions, prediction="p", label="y", labels=labels)


def test_to_pandas_is_tidy() -> None:
    rng = np.random.default_rng(5)
    y, p = scored(rng, 1000)
    reference = pd.DataFrame({"y": y, "p": p})
    result = drift.performance(
        {"y": y, "p": p}, prediction="p", label="y", rows=250, reference=reference
    )
    table = result.to_pandas()
    assert list(table.columns) == [
        "window", "start", "end", "rows", "labelled", "metric", "value", "lower", "upper",
        "reference", "p_value", "verdict",
    ]  # fmt: skip
    assert len(table) == 4 * 6
    assert table.groupby("metric").reference.nunique().eq(1).all()
    assert result.reference is not None
    assert result.reference["accuracy"][0] == pytest.approx(sk.accuracy_score(y, p >= 0.5))
    assert set(table.verdict) == {"stable"}


def logistic(rng: np.random.Generator, n: int, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and calibrated-looking scores that never reach exactly 0 or 1."""
    y = rng.integers(0, 2, n)
    return y, 1 / (1 + np.exp(-(3.0 * (y - 0.5) + rng.normal(0, noise, n))))


def simulate(metric: str, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    if metric in REGRESSION:
        truth = rng.normal(10, 2, n)
        return {"y": truth, "yhat": truth + rng.normal(0.3, 0.5, n)}
    y, p = logistic(rng, n)
    return {"y": y, "yhat": p}


def interval_coverage(metric: str, windows: int, size: int, seed: int) -> float:
    """Share of simulated windows whose interval holds the population value."""
    task = "regression" if metric in REGRESSION else "classification"
    # The population value, from 2,000,000 further rows of the same process.
    population = drift.performance(
        simulate(metric, np.random.default_rng(seed + 1), 2_000_000),
        prediction="yhat",
        label="y",
        task=task,  # type: ignore[arg-type]
        metrics=[metric],
    ).value[0, 0]
    result = drift.performance(
        simulate(metric, np.random.default_rng(seed), windows * size),
        prediction="yhat",
        label="y",
        rows=size,
        task=task,  # type: ignore[arg-type]
        metrics=[metric],
    )
    lower, upper = result.lower[:, 0], result.upper[:, 0]
    return float(np.mean((lower <= population) & (population <= upper)))


@pytest.mark.slow
@pytest.mark.parametrize("metric", CLASSIFICATION + REGRESSION)
def test_95_percent_intervals_cover_the_true_value_about_95_percent_of_the_time(
    metric: str,
) -> None:
    # 1,000 windows: the share has a standard error of 0.7 points around 95%.
    coverage = interval_coverage(metric, windows=1000, size=300, seed=11)
    assert 0.925 <= coverage <= 0.97, coverage


def degraded_rate(seed: int, noise: float, alpha: float, replications: int) -> np.ndarray:
    """Share of windows called degraded, per metric, each replication with its own reference
    (the reference's own noise is part of what the verdict must allow for)."""
    rng = np.random.default_rng(seed)
    calls = []
    for _ in range(replications):
        ry, rp = logistic(rng, 2000)
        y, p = logistic(rng, 5 * 400, noise=noise)
        result = drift.performance(
            {"y": y, "p": p},
            prediction="p",
            label="y",
            rows=400,
            reference={"y": ry, "p": rp},
            alpha=alpha,
        )
        calls.append(result.verdict == "degraded")
    return np.concatenate(calls).mean(axis=0)


@pytest.mark.slow
def test_verdicts_call_degraded_at_about_alpha_when_nothing_changed() -> None:
    rates = degraded_rate(seed=21, noise=1.0, alpha=0.05, replications=300)
    assert ((rates >= 0.03) & (rates <= 0.07)).all(), dict(zip(CLASSIFICATION, rates, strict=True))


@pytest.mark.slow
def test_the_default_alpha_keeps_false_alarms_rare() -> None:
    rates = degraded_rate(seed=23, noise=1.0, alpha=0.001, replications=300)
    assert (rates <= 0.005).all(), dict(zip(CLASSIFICATION, rates, strict=True))


def test_verdicts_find_a_real_drop() -> None:
    # Noisier scores: accuracy falls from about 0.93 to 0.86, ROC AUC from 0.98 to 0.93.
    rates = degraded_rate(seed=22, noise=2.0, alpha=0.001, replications=40)
    named = dict(zip(CLASSIFICATION, rates, strict=True))
    assert named["accuracy"] >= 0.9 and named["roc_auc"] >= 0.9 and named["log_loss"] >= 0.9


def test_undefined_metrics_and_tiny_windows_say_so() -> None:
    y = np.array([0, 0, 0, 1, 1, 0])
    p = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.4])
    reference = {"y": [0, 1, 0, 1], "p": [0.2, 0.7, 0.4, 0.9]}
    result = drift.performance({"y": y, "p": p}, prediction="p", label="y", rows=3,
                               reference=reference)  # fmt: skip
    verdicts = dict(zip(result.metrics, result.verdict[0], strict=True))
    assert verdicts["recall"] == "undefined"  # no positives in the first three rows
    assert verdicts["roc_auc"] == "undefined"
    assert np.isnan(result.value[0, result.metrics.index("recall")])
    # A window of one labelled row has a value but no estimate of its noise.
    single = drift.performance(
        {"y": [0.0, 1.0], "yhat": [0.5, 1.5]},
        prediction="yhat",
        label="y",
        rows=1,
        task="regression",
        reference={"y": [0.0, 1.0, 2.0], "yhat": [0.1, 1.2, 1.9]},
    )
    assert set(single.verdict[:, single.metrics.index("mae")]) == {"insufficient data"}


def test_a_metric_the_reference_cannot_give_has_no_verdict() -> None:
    # A reference with one class only has no ROC AUC: windows cannot be judged on it.
    reference = {"y": [1, 1, 1, 1], "p": [0.9, 0.8, 0.7, 0.6]}
    data = {"y": [0, 1, 0, 1, 0, 1], "p": [0.1, 0.9, 0.2, 0.3, 0.6, 0.8]}
    result = drift.performance(data, prediction="p", label="y", reference=reference)
    verdicts = dict(zip(result.metrics, result.verdict[0], strict=True))
    assert verdicts["roc_auc"] == "no reference"
    assert not np.isnan(result.value[0, result.metrics.index("roc_auc")])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"task": "ranking"}, InputError, "'classification' or 'regression'"),
        ({"metrics": ["mae"]}, InputError, "not a classification metric"),
        ({"confidence": 1.5}, InputError, "strictly between 0 and 1"),
        ({"label": "target"}, ColumnMismatchError, "no column 'target'"),
        ({"reference": {"y": [np.nan], "p": [0.5]}}, EmptyDataError, "no row with both"),
    ],
)
def test_bad_arguments_get_clear_errors(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    arguments: dict[str, object] = {"prediction": "p", "label": "y", **kwargs}
    with pytest.raises(error, match=match):
        drift.performance({"y": [0, 1, 1], "p": [0.2, 0.8, 0.6]}, **arguments)  # type: ignore[arg-type]


def test_regression_on_text_is_refused() -> None:
    with pytest.raises(ColumnTypeError, match="regression needs numbers in 'y'"):
        drift.performance(
            {"y": ["a", "b"], "p": [0.2, 3.0]}, prediction="p", label="y", task="regression"
        )


def test_probabilities_outside_0_1_and_multiclass_labels_are_refused() -> None:
    with pytest.raises(InputError, match="outside \\[0, 1\\]"):
        drift.performance({"y": [0, 1], "p": [0.2, 3.0]}, prediction="p", label="y")
    with pytest.raises(InputError, match="only binary"):
        drift.performance({"y": [0, 1, 2], "p": [0.2, 0.5, 0.9]}, prediction="p", label="y")


def test_prebuilt_windows_must_fit_the_data() -> None:
    data = {"y": [0, 1, 1, 0], "p": [0.2, 0.8, 0.6, 0.4]}
    w = drift.windows(np.zeros(4), rows=2)
    assert drift.performance(data, prediction="p", label="y", windows=w).labelled.tolist() == [
        2,
        2,
    ]
    with pytest.raises(InputError, match="built over 5 rows"):
        drift.performance(
            data, prediction="p", label="y", windows=drift.windows(np.zeros(5), rows=2)
        )
