"""Performance of a binary classifier estimated per window before its labels arrive.

Confidence-based performance estimation: the model's scores are recalibrated on a labelled
reference with isotonic regression, and each window's confusion matrix is then expected from the
calibrated probabilities (see :mod:`modelyard.drift._estimated_metrics`). The estimate holds
while the relation between score and outcome stays that of the reference, i.e. under covariate
shift; it cannot see concept drift, where the same score comes to mean another outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._estimated_metrics import ESTIMABLE, Scored, estimate
from modelyard.drift._estimated_result import EstimatedMetric, EstimatedPerformance, EstimatedWindow
from modelyard.drift._labels import prepare, read_columns
from modelyard.drift._metrics import METRICS, Labelled
from modelyard.drift._window_args import build_windows, window_bounds
from modelyard.drift._windows import Windows
from modelyard.drift._windows import windows as make_windows
from modelyard.errors import ColumnTypeError, EmptyDataError, InputError

__all__ = ["estimate_performance"]


def _scores(frame: dict[str, Any], prediction: str) -> NDArray[np.float64]:
    import pandas as pd

    column = frame[prediction]
    if not pd.api.types.is_float_dtype(column.dtype):
        raise ColumnTypeError(
            f"{prediction!r} holds {column.dtype}, but estimating performance without labels "
            "needs the predicted probability of the positive class (floats in [0, 1])",
            column=prediction,
        )
    score: NDArray[np.float64] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    outside = (score < 0) | (score > 1)
    if outside.any():
        raise InputError(
            f"{prediction!r} holds {int(outside.sum())} values outside [0, 1]; pass the "
            "predicted probability of the positive class",
            column=prediction,
        )
    return score


def _chunk_thresholds(
    chosen: Sequence[str], reference: Labelled, chunk_rows: int, alert_sd: float
) -> tuple[dict[str, float], int]:
    """Per metric, the mean less ``alert_sd`` standard deviations of its realized value over
    consecutive reference chunks of ``chunk_rows`` rows (the last may be shorter); NaN when
    fewer than two chunks have a value. Thresholds below 0 become 0, the metrics' floor."""
    n = len(reference.truth)
    chunks = -(-n // chunk_rows)
    ids = (np.arange(n) // chunk_rows).astype(np.int64)
    by_chunk = Labelled(ids, chunks, reference.truth, reference.prediction, reference.score)
    found = {}
    for name in chosen:
        values = METRICS[name].compute(by_chunk, 1.0).value
        values = values[np.isfinite(values)]
        if len(values) < 2:
            found[name] = float("nan")
        else:
            found[name] = max(float(values.mean() - alert_sd * values.std()), 0.0)
    return found, chunks


def _check_arguments(
    metrics: Sequence[str] | None, threshold: float, confidence: float, alert_sd: float
) -> tuple[str, ...]:
    chosen = ESTIMABLE if metrics is None else tuple(metrics)
    unknown = [m for m in chosen if m not in ESTIMABLE]
    if unknown or not chosen:
        raise InputError(
            f"cannot estimate {unknown or 'no metric'} without labels; choose among "
            f"{list(ESTIMABLE)}",
            available=list(ESTIMABLE),
        )
    if not 0 <= threshold <= 1:
        raise InputError(f"threshold={threshold!r} must lie in [0, 1]")
    if not 0 < confidence < 1:
        raise InputError(f"confidence={confidence!r} must lie strictly between 0 and 1")
    if not alert_sd > 0:
        raise InputError(f"alert_sd={alert_sd!r} must be a positive number of standard deviations")
    return tuple(dict.fromkeys(chosen))


def estimate_performance(
    reference: Any,
    data: Any,
    *,
    prediction: str,
    label: str,
    time: str | None = None,
    every: object = None,
    step: object = None,
    rows: int | None = None,
    windows: Windows | None = None,
    positive: object = None,
    threshold: float = 0.5,
    metrics: Sequence[str] | None = None,
    confidence: float = 0.95,
    calibrate: bool = True,
    reference_chunk_rows: int | None = None,
    alert_sd: float = 3.0,
) -> EstimatedPerformance:
    """Estimated performance of a binary classifier per window, from its scores alone.

    The scores are recalibrated on ``reference`` (isotonic regression of the label on the score,
    fitted on the whole reference), and each window's confusion matrix is expected from the
    calibrated probabilities: estimated accuracy, precision, recall, F1 and ROC AUC before any
    label of ``data`` arrives. The band ``lower``..``upper`` is where the realized metric
    should fall at ``confidence``, given the window's own size and scores (the spread of labels
    drawn from the calibrated probabilities). A window's metric is ``"degraded"`` when its
    estimate falls below the alert threshold: the mean less ``alert_sd`` standard deviations of
    the realized metric over reference chunks of ``reference_chunk_rows`` rows.

    The estimate is sound under covariate shift (the inputs move, the meaning of a score stays);
    when the relation between score and outcome itself changes, only labels can tell.

    Args:
        reference: labelled data of the reference period with ``prediction`` and ``label``
            columns (a pandas DataFrame, pyarrow Table or mapping of columns), in time order.
        data: the predictions to judge; ``label`` is not read from it.
        prediction: the column of the predicted probability of the positive class.
        label: the reference's column of true labels.
        time: the time column of ``data``, for time windows (see :func:`windows`).
        every: the length of a time window (see :func:`windows`).
        step: how far apart windows start (see :func:`windows`).
        rows: the length of a count window, in rows (see :func:`windows`).
        windows: windows built already over ``data``. With none of these, all rows form one
            window.
        positive: the positive class of the labels (default 1 for 0/1 or boolean labels).
        threshold: scores at or above it predict the positive class.
        metrics: which of ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc`` (default
            all).
        confidence: of the bands.
        calibrate: False to take the scores as calibrated probabilities already.
        reference_chunk_rows: rows per reference chunk for the alert thresholds (default: the
            median size of the non-empty windows of ``data``).
        alert_sd: how many standard deviations of the reference chunks' metric below their
            mean the alert threshold lies.

    Example:
        >>> import numpy as np, pandas as pd
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(3)
        >>> def scored(x):  # a well-calibrated logistic model of an outcome driven by x
        ...     p = 1 / (1 + np.exp(-2.5 * x))
        ...     return pd.DataFrame({"p": p, "y": (rng.random(len(x)) < p).astype(int)})
        >>> reference = scored(rng.normal(1.0, 1.0, 6000))
        >>> x = np.concatenate([rng.normal(1.0, 1.0, 2000), rng.normal(0.0, 0.6, 1000)])
        >>> live = scored(x).drop(columns="y")  # the labels are weeks away
        >>> result = drift.estimate_performance(reference, live, prediction="p", label="y",
        ...                                     rows=1000)
        >>> table = result.to_pandas()
        >>> table[table.metric == "accuracy"][["window", "value", "lower", "upper",
        ...                                    "alert_threshold", "verdict"]].round(3)
            window  value  lower  upper  alert_threshold   verdict
        0        0  0.872  0.853  0.891            0.822    stable
        5        1  0.879  0.861  0.898            0.822    stable
        10       2  0.738  0.712  0.764            0.822  degraded
        >>> result.degraded
        [(2, 'accuracy'), (2, 'precision'), (2, 'recall'), (2, 'f1'), (2, 'roc_auc')]
    """
    from sklearn.isotonic import IsotonicRegression

    chosen = _check_arguments(metrics, threshold, confidence, alert_sd)
    frame = read_columns(data, [prediction], "data")
    score = _scores(frame, prediction)
    ref_frame = read_columns(reference, [prediction, label], "reference")
    usable, truth, predicted, ref_score, _ = prepare(
        ref_frame, ref_frame[label], prediction, label, "classification", positive, threshold
    )
    if ref_score is None:
        raise ColumnTypeError(
            f"the reference's {prediction!r} holds labels; calibration needs the predicted "
            "probability of the positive class",
            column=prediction,
        )
    if not usable.any():
        raise EmptyDataError("the reference has no row with both a label and a prediction")
    keep = np.flatnonzero(usable)
    truth, predicted, ref_score = truth[keep], predicted[keep], ref_score[keep]
    if truth.min() == truth.max():
        raise InputError(
            "the reference's labels are all of one class; calibrating the scores needs both "
            "classes, so give a reference period with positives and negatives"
        )
    length = len(score)
    if windows is None and every is None and rows is None and step is None:
        # Without window arguments, the data is judged as one window.
        windows = make_windows(np.zeros(length), rows=max(length, 1))
    else:
        windows = build_windows(data, length, time, every, step, rows, windows)
    if reference_chunk_rows is not None and (
        isinstance(reference_chunk_rows, bool)
        or not isinstance(reference_chunk_rows, (int, np.integer))
        or reference_chunk_rows < 1
    ):
        raise InputError(
            f"reference_chunk_rows={reference_chunk_rows!r} must be a whole number of rows, at "
            "least 1"
        )

    if calibrate:
        calibrator = IsotonicRegression(out_of_bounds="clip", increasing=True)
        calibrator.fit(ref_score, truth)
    window_of, row = windows.memberships()
    inside = ~np.isnan(score[row])
    window_of, row = window_of[inside], row[inside]
    q = calibrator.predict(score[row]).astype(np.float64) if calibrate else score[row]
    scored = Scored(
        window_of, len(windows), score[row], (score[row] >= threshold).astype(np.float64), q
    )
    counts = scored.sum(np.ones(len(row)))
    if reference_chunk_rows is None:
        filled = counts[counts > 0]
        reference_chunk_rows = int(np.median(filled)) if len(filled) else len(truth)
    reference_labelled = Labelled(
        np.zeros(len(truth), dtype=np.int64), 1, truth, predicted, ref_score
    )
    alert, chunks = _chunk_thresholds(
        chosen, reference_labelled, int(reference_chunk_rows), alert_sd
    )
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    columns = []
    for name in chosen:
        value, se = estimate(scored, name)
        reference_value = float(METRICS[name].compute(reference_labelled, z).value[0])
        verdict = np.where(value < alert[name], "degraded", "stable").astype(object)
        verdict[np.isnan(alert[name]) | np.isnan(value)] = "insufficient data"
        verdict[np.isnan(value)] = "undefined"
        columns.append(
            (
                name,
                value,
                se,
                np.clip(value - z * se, 0.0, 1.0),
                np.clip(value + z * se, 0.0, 1.0),
                reference_value,
                verdict,
            )
        )
    starts, ends = window_bounds(windows)
    return EstimatedPerformance(
        kind=windows.kind,
        every=windows.every,
        step=windows.step,
        timezone=windows.timezone,
        metrics=chosen,
        threshold=threshold,
        confidence=confidence,
        alert_sd=alert_sd,
        calibrated=calibrate,
        reference_rows=len(truth),
        reference_chunk_rows=int(reference_chunk_rows),
        reference_chunks=chunks,
        data_rows=length,
        windows=tuple(
            EstimatedWindow(
                window=w,
                start=starts[w],
                end=ends[w],
                rows=int(counts[w]),
                metrics=tuple(
                    EstimatedMetric(
                        metric=name,
                        value=float(value[w]),
                        se=float(se[w]),
                        lower=float(lower[w]),
                        upper=float(upper[w]),
                        reference=reference_value,
                        alert_threshold=alert[name],
                        verdict=verdict[w],
                    )
                    for name, value, se, lower, upper, reference_value, verdict in columns
                ),
            )
            for w in range(len(windows))
        ),
    )
