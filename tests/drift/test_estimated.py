"""Performance estimated without labels: kernels against naive loops and simulations, coverage
under covariate shift, the alert rule, the stored result and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

import modelyard.drift as drift
from modelyard.drift._estimated_metrics import ESTIMABLE, Scored, estimate, expected_confusion
from modelyard.errors import (
    ColumnMismatchError,
    ColumnTypeError,
    EmptyDataError,
    InputError,
    IntegrityError,
)

SKLEARN = {
    "accuracy": accuracy_score,
    "precision": precision_score,
    "recall": recall_score,
    "f1": f1_score,
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _logistic(rng: np.random.Generator, x: np.ndarray) -> pd.DataFrame:
    """A logistic process over two covariates; the model's score is the true probability, so
    it is calibrated wherever the covariates go."""
    p = _sigmoid(-0.5 + 1.8 * x[:, 0] - 1.2 * x[:, 1])
    return pd.DataFrame({"score": p, "y": (rng.random(len(p)) < p).astype(int)})


def _realized(name: str, y: np.ndarray, score: np.ndarray) -> float:
    if name == "roc_auc":
        return float(roc_auc_score(y, score))
    return float(SKLEARN[name](y, (score >= 0.5).astype(int)))


# --- kernels against naive loops ------------------------------------------------------------


def _naive(score: np.ndarray, q: np.ndarray, name: str) -> float:
    predicted = score >= 0.5
    tp = sum(qi for qi, pi in zip(q, predicted, strict=True) if pi)
    fp = sum(1 - qi for qi, pi in zip(q, predicted, strict=True) if pi)
    fn = sum(qi for qi, pi in zip(q, predicted, strict=True) if not pi)
    tn = sum(1 - qi for qi, pi in zip(q, predicted, strict=True) if not pi)
    if name == "accuracy":
        return float((tp + tn) / len(q))
    if name == "precision":
        return float(tp / (tp + fp))
    if name == "recall":
        return float(tp / (tp + fn))
    if name == "f1":
        return float(2 * tp / (2 * tp + fp + fn))
    # The area under the expected ROC curve, pair by pair: a row above another adds
    # q_above (1 - q_below); rows of one score (each with itself) count half.
    area = 0.0
    for i in range(len(q)):
        for j in range(len(q)):
            if score[i] > score[j]:
                area += q[i] * (1 - q[j])
            elif score[i] == score[j]:
                area += 0.5 * q[i] * (1 - q[j])
    return float(area / (q.sum() * (1 - q).sum()))


def _random_scored(seed: int, k: int = 4, n: int = 300) -> Scored:
    rng = np.random.default_rng(seed)
    window = rng.integers(0, k, n).astype(np.int64)
    score = np.round(rng.random(n), 2)  # ties within windows
    q = np.clip(score + rng.normal(0, 0.1, n), 0, 1)
    q = np.interp(score, np.sort(score), np.sort(q))  # a function of the score, as calibrated
    return Scored(window, k, score, (score >= 0.5).astype(np.float64), q)


@pytest.mark.parametrize("name", ESTIMABLE)
def test_every_estimate_equals_a_naive_loop_per_window(name: str) -> None:
    scored = _random_scored(1)
    value, _ = estimate(scored, name)
    for w in range(scored.windows):
        mine = scored.window == w
        assert value[w] == pytest.approx(_naive(scored.score[mine], scored.q[mine], name), 1e-12)


def test_the_expected_confusion_matrix_equals_a_naive_loop() -> None:
    scored = _random_scored(2)
    cells = expected_confusion(scored)
    for w in range(scored.windows):
        naive = np.zeros(4)
        for i in np.flatnonzero(scored.window == w):
            positive = scored.score[i] >= 0.5
            naive += (
                [scored.q[i], 1 - scored.q[i], 0, 0]
                if positive
                else [0, 0, scored.q[i], 1 - scored.q[i]]
            )
        assert [c[w] for c in cells] == pytest.approx(naive, abs=1e-12)


def _realized_by_draw(draws: np.ndarray, score: np.ndarray, name: str) -> np.ndarray:
    """The realized metric of each row of label draws, vectorised (checked against scikit-learn
    on the first draws)."""
    predicted = (score >= 0.5).astype(int)
    tp = draws @ predicted
    positives = draws.sum(axis=1)
    if name == "accuracy":
        return (tp + (1 - draws) @ (1 - predicted)) / len(score)
    if name == "precision":
        return tp / predicted.sum()
    if name == "recall":
        return tp / positives
    if name == "f1":
        return 2 * tp / (predicted.sum() + positives)
    ranks = rankdata(score)  # Mann-Whitney with midranks: ties count one half
    return (draws @ ranks - positives * (positives + 1) / 2) / (
        positives * (len(score) - positives)
    )


@pytest.mark.parametrize("name", ESTIMABLE)
def test_the_standard_error_is_the_spread_of_the_realized_metric(name: str) -> None:
    # Labels drawn from the calibrated probabilities, 20,000 times: the realized metric's
    # standard deviation is what the band is built on.
    rng = np.random.default_rng(3)
    n = 400
    score = np.round(rng.beta(2, 2, n), 3)
    scored = Scored(np.zeros(n, dtype=np.int64), 1, score, (score >= 0.5).astype(float), score)
    value, se = estimate(scored, name)
    draws = (rng.random((20_000, n)) < score).astype(int)
    realized = _realized_by_draw(draws, score, name)
    for y, mine in zip(draws[:5], realized[:5], strict=True):
        assert mine == pytest.approx(_realized(name, y, score), abs=1e-12)
    assert se[0] == pytest.approx(realized.std(), rel=0.04)
    assert value[0] == pytest.approx(realized.mean(), abs=0.1 * se[0])


def test_an_empty_window_has_no_estimate() -> None:
    scored = Scored(
        np.array([0, 0, 2], dtype=np.int64),
        3,
        np.array([0.2, 0.7, 0.9]),
        np.array([0.0, 1.0, 1.0]),
        np.array([0.2, 0.7, 0.9]),
    )
    for name in ESTIMABLE:
        value, se = estimate(scored, name)
        assert np.isnan(value[1]) and np.isnan(se[1]), name
        assert np.isfinite(value[0]), name


# --- coverage under covariate shift ----------------------------------------------------------


@pytest.mark.slow
def test_realized_performance_falls_in_the_band_under_covariate_shift() -> None:
    rng = np.random.default_rng(20261202)
    reference = _logistic(rng, rng.normal(0, 1, (20_000, 2)))
    windows, size = 60, 1000
    # The covariates move towards the decision boundary and gather there, so hard cases (scores
    # near 0.5) become common and every metric falls; the score-outcome relation stays.
    shift = np.linspace(0, 1, windows)
    x = np.concatenate([rng.normal([0.28 * s, 0.0], 1 - 0.5 * s, (size, 2)) for s in shift])
    live = _logistic(rng, x)
    result = drift.estimate_performance(
        reference, live.drop(columns="y"), prediction="score", label="y", rows=size
    )
    table = result.to_pandas()
    shares = {}
    for name in ESTIMABLE:
        rows = table[table.metric == name].reset_index(drop=True)
        inside = 0
        for w in range(windows):
            part = live.iloc[w * size : (w + 1) * size]
            realized = _realized(name, part.y.to_numpy(), part.score.to_numpy())
            inside += rows.lower[w] <= realized <= rows.upper[w]
        shares[name] = inside / windows
    print("share of windows whose realized metric is in the 95% band:", shares)
    assert min(shares.values()) >= 0.9
    accuracy = table[table.metric == "accuracy"].value.to_numpy()
    assert accuracy[-5:].mean() < accuracy[:5].mean() - 0.05  # the shift costs accuracy
    assert ("accuracy" in {m for w, m in result.degraded if w >= windows - 5}) is True
    assert not [pair for pair in result.degraded if pair[0] < 5]


@pytest.mark.slow
@pytest.mark.parametrize("reference_rows", [5000, 20_000])
def test_the_band_holds_over_seeds_with_a_reference_of_thousands_of_rows(
    reference_rows: int,
) -> None:
    # The band leaves out the calibration's own error; the guide quotes these shares, and those
    # of references of 1,000 and 2,000 rows measured the same way, where it costs coverage.
    shares = {name: [] for name in ESTIMABLE}
    size, windows = 1000, 60
    for seed in range(5):
        rng = np.random.default_rng(seed)
        reference = _logistic(rng, rng.normal(0, 1, (reference_rows, 2)))
        shift = np.linspace(0, 1, windows)
        x = np.concatenate([rng.normal([0.28 * s, 0.0], 1 - 0.5 * s, (size, 2)) for s in shift])
        live = _logistic(rng, x)
        table = drift.estimate_performance(
            reference, live.drop(columns="y"), prediction="score", label="y", rows=size
        ).to_pandas()
        y, score = live.y.to_numpy(), live.score.to_numpy()
        for name in ESTIMABLE:
            rows = table[table.metric == name].reset_index(drop=True)
            part = [slice(w * size, (w + 1) * size) for w in range(windows)]
            realized = np.array([_realized(name, y[p], score[p]) for p in part])
            shares[name].append(np.mean((rows.lower <= realized) & (realized <= rows.upper)))
    means = {name: round(float(np.mean(v)), 3) for name, v in shares.items()}
    print(f"reference of {reference_rows} rows: share of windows in the band {means}")
    assert min(means.values()) >= 0.9


def test_miscalibrated_scores_are_recalibrated_on_the_reference() -> None:
    rng = np.random.default_rng(5)
    reference = _logistic(rng, rng.normal(0, 1, (20_000, 2)))
    live = _logistic(rng, rng.normal([0.5, -0.3], 1, (20_000, 2)))
    # The model is overconfident: its score is the true probability pushed towards 0 and 1.
    for frame in (reference, live):
        frame["score"] = _sigmoid(3 * np.log(frame.score / (1 - frame.score)))
    scores = live.drop(columns="y")
    kept = drift.estimate_performance(reference, scores, prediction="score", label="y", rows=1000)
    raw = drift.estimate_performance(
        reference, scores, prediction="score", label="y", rows=1000, calibrate=False
    )
    assert kept.calibrated and not raw.calibrated
    inside = {"kept": 0, "raw": 0}
    for w in range(20):
        part = live.iloc[w * 1000 : (w + 1) * 1000]
        realized = _realized("accuracy", part.y.to_numpy(), part.score.to_numpy())
        for key, result in (("kept", kept), ("raw", raw)):
            entry = result.window(w).metric("accuracy")
            inside[key] += entry.lower <= realized <= entry.upper
    assert inside["kept"] >= 18
    assert inside["raw"] <= 2  # taken at its word, the model looks better than it is
    # The calibration is scikit-learn's isotonic regression fitted on the whole reference.
    q = IsotonicRegression(out_of_bounds="clip").fit(reference.score, reference.y)
    first = live.iloc[:1000]
    q_live = q.predict(first.score)
    predicted = (first.score >= 0.5).to_numpy()
    expected = (q_live[predicted].sum() + (1 - q_live[~predicted]).sum()) / 1000
    assert kept.window(0).metric("accuracy").value == pytest.approx(expected, abs=1e-12)


# --- the alert rule --------------------------------------------------------------------------


def test_the_alert_threshold_is_the_reference_chunks_mean_less_three_sd() -> None:
    rng = np.random.default_rng(6)
    reference = _logistic(rng, rng.normal(0, 1, (5500, 2)))
    live = _logistic(rng, rng.normal(0, 1, (2000, 2))).drop(columns="y")
    result = drift.estimate_performance(
        reference, live, prediction="score", label="y", rows=500, alert_sd=2.5
    )
    assert result.reference_chunk_rows == 500 and result.reference_chunks == 11
    for name in ESTIMABLE:
        chunks = [
            _realized(name, part.y.to_numpy(), part.score.to_numpy())
            for part in (reference.iloc[i : i + 500] for i in range(0, 5500, 500))
        ]
        entry = result.window(0).metric(name)
        assert entry.alert_threshold == pytest.approx(np.mean(chunks) - 2.5 * np.std(chunks))
        assert entry.reference == pytest.approx(
            _realized(name, reference.y.to_numpy(), reference.score.to_numpy()), abs=1e-12
        )


def test_too_few_reference_chunks_give_insufficient_data() -> None:
    rng = np.random.default_rng(7)
    reference = _logistic(rng, rng.normal(0, 1, (800, 2)))
    live = _logistic(rng, rng.normal(0, 1, (1000, 2))).drop(columns="y")
    result = drift.estimate_performance(reference, live, prediction="score", label="y")
    assert result.reference_chunk_rows == 1000 and result.reference_chunks == 1
    assert {m.verdict for m in result.window(0).metrics} == {"insufficient data"}
    chunked = drift.estimate_performance(
        reference, live, prediction="score", label="y", reference_chunk_rows=200
    )
    assert {m.verdict for m in chunked.window(0).metrics} == {"stable"}


def test_time_and_rolling_windows_and_an_empty_day() -> None:
    rng = np.random.default_rng(8)
    reference = _logistic(rng, rng.normal(0, 1, (4000, 2)))
    live = _logistic(rng, rng.normal(0, 1, (300, 2))).drop(columns="y")
    live["ts"] = pd.to_datetime("2026-03-01") + pd.to_timedelta(
        np.concatenate([np.full(150, 3), np.full(150, 51)]), unit="h"
    )
    live.loc[5, "score"] = np.nan  # no prediction: in no estimate
    daily = drift.estimate_performance(
        reference, live, prediction="score", label="y", time="ts", every="1D"
    )
    assert [w.rows for w in daily.windows] == [149, 0, 150]
    assert {m.verdict for m in daily.window(1).metrics} == {"undefined"}
    table = daily.to_pandas()
    assert str(table.start[0]) == "2026-03-01 00:00:00"
    rolling = drift.estimate_performance(
        reference, live, prediction="score", label="y", time="ts", every="2D", step="1D"
    )
    assert [w.rows for w in rolling.windows][:2] == [149, 150]


# --- the stored result -----------------------------------------------------------------------


def _small_result() -> drift.EstimatedPerformance:
    rng = np.random.default_rng(9)
    reference = _logistic(rng, rng.normal(0, 1, (3000, 2)))
    live = _logistic(rng, rng.normal(0, 1, (900, 2))).drop(columns="y")
    return drift.estimate_performance(reference, live, prediction="score", label="y", rows=300)


def test_the_result_round_trips_and_its_table_is_tidy() -> None:
    result = _small_result()
    again = drift.EstimatedPerformance.from_bytes(result.to_bytes())
    assert again == result
    table = result.to_pandas()
    assert list(table.columns) == [
        "window",
        "start",
        "end",
        "rows",
        "metric",
        "value",
        "se",
        "lower",
        "upper",
        "reference",
        "alert_threshold",
        "verdict",
    ]
    assert len(table) == 3 * len(ESTIMABLE)
    assert (table.lower <= table.value).all() and (table.value <= table.upper).all()
    assert result.media_type.endswith("+json")
    assert "3 windows" in repr(result)


def test_a_newer_stored_result_is_refused_and_an_unversioned_one_read() -> None:
    stored = json.loads(_small_result().to_bytes())
    stored["schema_version"] = 2
    with pytest.raises(IntegrityError, match="schema version 2"):
        drift.EstimatedPerformance.from_bytes(json.dumps(stored).encode())
    del stored["schema_version"]
    assert drift.EstimatedPerformance.from_bytes(json.dumps(stored).encode()).schema_version == 1


# --- bad input -------------------------------------------------------------------------------


def test_bad_input_is_refused_with_what_to_do() -> None:
    rng = np.random.default_rng(10)
    reference = _logistic(rng, rng.normal(0, 1, (500, 2)))
    live = reference.drop(columns="y")

    def run(ref: object = reference, data: object = live, **options: object) -> object:
        return drift.estimate_performance(ref, data, prediction="score", label="y", **options)

    with pytest.raises(InputError, match="log_loss"):
        run(metrics=["log_loss"])
    with pytest.raises(InputError, match=r"confidence"):
        run(confidence=1.0)
    with pytest.raises(InputError, match=r"threshold"):
        run(threshold=1.5)
    with pytest.raises(InputError, match=r"alert_sd"):
        run(alert_sd=0)
    with pytest.raises(InputError, match=r"reference_chunk_rows"):
        run(reference_chunk_rows=0)
    with pytest.raises(ColumnTypeError, match="probability"):
        run(data=live.assign(score=(live.score > 0.5).astype(int)))
    with pytest.raises(ColumnTypeError, match="probability"):
        run(ref=reference.assign(score=(reference.score > 0.5).astype(int)))
    with pytest.raises(InputError, match=r"outside \[0, 1\]"):
        run(data=live.assign(score=live.score * 2))
    with pytest.raises(InputError, match="one class"):
        run(ref=reference.assign(y=1))
    with pytest.raises(EmptyDataError):
        run(ref=reference.assign(y=np.nan))
    with pytest.raises(ColumnMismatchError, match="'y'"):
        run(ref=reference.drop(columns="y"))
    with pytest.raises(InputError, match="windows= was built over"):
        run(windows=drift.windows(np.zeros(10), rows=5))


# --- inputs of every shape ---------------------------------------------------------------------


def test_a_rolling_window_is_estimated_as_its_rows_alone() -> None:
    rng = np.random.default_rng(11)
    reference = _logistic(rng, rng.normal(0, 1, (4000, 2)))
    live = _logistic(rng, rng.normal(0.3, 1, (600, 2))).drop(columns="y")
    live["ts"] = pd.date_range("2026-04-01", periods=600, freq="12min")
    rolling = drift.estimate_performance(
        reference, live, prediction="score", label="y", time="ts", every="2D", step="1D"
    )
    windows = drift.windows(live, time="ts", every="2D", step="1D")
    for w in range(len(windows)):
        alone = drift.estimate_performance(
            reference,
            live.iloc[windows.indices(w)],
            prediction="score",
            label="y",
            reference_chunk_rows=rolling.reference_chunk_rows,
        )
        for name in ESTIMABLE:
            mine, theirs = rolling.window(w).metric(name), alone.window(0).metric(name)
            assert (mine.value, mine.se) == pytest.approx((theirs.value, theirs.se), abs=1e-12)


def test_string_labels_arrow_tables_and_unlabelled_reference_rows() -> None:
    import pyarrow as pa

    rng = np.random.default_rng(12)
    reference = _logistic(rng, rng.normal(0, 1, (3000, 2)))
    live = _logistic(rng, rng.normal(0, 1, (600, 2))).drop(columns="y")
    expected = drift.estimate_performance(reference, live, prediction="score", label="y")
    worded = reference.assign(y=np.where(reference.y == 1, "churn", "stay"))
    worded = pd.concat([worded, pd.DataFrame({"score": [0.4, np.nan], "y": [None, "stay"]})])
    found = drift.estimate_performance(
        pa.Table.from_pandas(worded, preserve_index=False),
        pa.Table.from_pandas(live, preserve_index=False),
        prediction="score",
        label="y",
        positive="churn",
    )
    assert found.to_bytes() == expected.to_bytes()
    with pytest.raises(InputError, match="positive="):
        drift.estimate_performance(worded, live, prediction="score", label="y")


def test_a_result_with_empty_windows_round_trips() -> None:
    rng = np.random.default_rng(13)
    reference = _logistic(rng, rng.normal(0, 1, (3000, 2)))
    live = _logistic(rng, rng.normal(0, 1, (200, 2))).drop(columns="y")
    live["ts"] = pd.to_datetime("2026-03-01") + pd.to_timedelta(np.repeat([1, 70], 100), unit="h")
    result = drift.estimate_performance(
        reference, live, prediction="score", label="y", time="ts", every="1D"
    )
    assert np.isnan(result.window(1).metric("accuracy").value)
    again = drift.EstimatedPerformance.from_bytes(result.to_bytes())
    assert again.to_bytes() == result.to_bytes()
    assert again.to_pandas().equals(result.to_pandas())
