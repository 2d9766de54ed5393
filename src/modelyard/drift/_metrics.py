"""Performance metrics per window, with standard errors and confidence intervals, vectorised.

Every metric is computed for all windows at once from ``window`` (the window of each labelled
row) with ``np.bincount``: no loop over windows. Each has one entry in :data:`METRICS`.

Intervals, at confidence ``1 - a`` with ``z`` the ``1 - a/2`` normal quantile:

- accuracy, precision, recall: proportions, with the Wilson score interval (Wilson 1927;
  Brown, Cai and DasGupta 2001 show it keeps its coverage at small n where the Wald interval
  does not).
- ROC AUC: DeLong's variance (DeLong, DeLong and Clarke-Pearson 1988) from the placement values
  of positives among negatives and back, ``var = S10 / m + S01 / n``.
- F1, log loss, MAE, MAPE, RMSE, R²: the delta method (a first-order influence function).
- F1 and ROC AUC, which live in (0, 1) and sit near 1 for good models, take their interval on
  the logit scale (``logit(v) +- z se / (v (1 - v))``, mapped back); the others
  ``value +- z se``, except RMSE, whose interval is the square root of the MSE's.

Intervals are clipped to the metric's range. A metric whose value is undefined (no positives for
recall, one class only for AUC) is NaN, and so is a standard error that needs more rows than the
window has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["METRICS", "Estimate", "Labelled", "Metric"]

Floats = NDArray[np.float64]
Task = Literal["classification", "regression"]
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Labelled:
    """The labelled rows of all windows: ``window`` ids, ``truth`` and ``prediction``.

    Classification: ``truth`` and ``prediction`` are 1.0 for the positive class, else 0.0, and
    ``score`` the predicted probability of the positive class (or None). Regression: the values.
    """

    window: NDArray[np.int64]
    windows: int
    truth: Floats
    prediction: Floats
    score: Floats | None = None

    def count(self, weights: Floats | None = None) -> Floats:
        return np.bincount(self.window, weights=weights, minlength=self.windows).astype(np.float64)


@dataclass(frozen=True)
class Estimate:
    """Per window: the value, its standard error and interval; for proportions the counts."""

    value: Floats
    se: Floats
    lower: Floats
    upper: Floats
    successes: Floats | None = None
    trials: Floats | None = None


@dataclass(frozen=True)
class Metric:
    """One metric: its task, which way is better, whether it needs scores, and its kernel."""

    name: str
    task: Task
    higher_is_better: bool
    needs_scores: bool
    compute: Callable[[Labelled, float], Estimate]
    logit: bool = False  # compared on the logit scale (see logit_interval)


def _divide(a: Floats, b: Floats) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def wilson(successes: Floats, trials: Floats, z: float) -> Estimate:
    """Proportion with its Wilson score interval (and the Wald standard error for tests).

    >>> e = wilson(np.array([8.0]), np.array([10.0]), 1.959963984540054)
    >>> [round(float(x), 4) for x in (e.value[0], e.lower[0], e.upper[0])]
    [0.8, 0.4902, 0.9433]
    """
    p = _divide(successes, trials)
    n = np.where(trials > 0, trials, np.nan)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    se = np.sqrt(p * (1 - p) / n)
    return Estimate(p, se, centre - half, centre + half, successes, trials)


def _normal(value: Floats, se: Floats, z: float, bounds: tuple[float, float]) -> Estimate:
    low, high = bounds
    return Estimate(
        value, se, np.clip(value - z * se, low, high), np.clip(value + z * se, low, high)
    )


def logit_interval(value: Floats, se: Floats, z: float) -> Estimate:
    """``value +- z se`` on the logit scale, mapped back: an interval inside (0, 1) whose
    coverage holds near the bounds, where a symmetric one runs past 1 and under-covers."""
    inside = (value > 0) & (value < 1)
    v = np.where(inside, value, 0.5)
    centre = np.log(v / (1 - v))
    half = z * se / (v * (1 - v))
    lower = np.where(inside, 1 / (1 + np.exp(-(centre - half))), np.clip(value - z * se, 0, 1))
    upper = np.where(inside, 1 / (1 + np.exp(-(centre + half))), np.clip(value + z * se, 0, 1))
    return Estimate(value, se, lower, upper)


def mean_and_se(labelled: Labelled, values: Floats) -> tuple[Floats, Floats]:
    """Per-window mean of ``values`` and its standard error (sample sd / sqrt(n), ddof 1)."""
    n = labelled.count()
    mean = _divide(labelled.count(values), n)
    centred = values - mean[labelled.window]
    variance = _divide(labelled.count(centred * centred), n - 1)
    return mean, np.sqrt(_divide(variance, n))


def _confusion(labelled: Labelled) -> tuple[Floats, Floats, Floats, Floats]:
    t, p = labelled.truth, labelled.prediction
    tp = labelled.count(t * p)
    fp = labelled.count((1 - t) * p)
    fn = labelled.count(t * (1 - p))
    return tp, fp, fn, labelled.count() - tp - fp - fn


def _accuracy(labelled: Labelled, z: float) -> Estimate:
    tp, _, _, tn = _confusion(labelled)
    return wilson(tp + tn, labelled.count(), z)


def _precision(labelled: Labelled, z: float) -> Estimate:
    tp, fp, _, _ = _confusion(labelled)
    return wilson(tp, tp + fp, z)


def _recall(labelled: Labelled, z: float) -> Estimate:
    tp, _, fn, _ = _confusion(labelled)
    return wilson(tp, tp + fn, z)


def _f1(labelled: Labelled, z: float) -> Estimate:
    tp, fp, fn, _ = _confusion(labelled)
    n = labelled.count()
    # F1 = 2A / (2A + B) with A, B the shares of true positives and of errors: two disjoint
    # indicators, so var(a) = A(1 - A), var(b) = B(1 - B), cov(a, b) = -AB.
    a, b = _divide(tp, n), _divide(fp + fn, n)
    f1 = _divide(2 * a, 2 * a + b)
    denominator = (2 * a + b) ** 2
    ga, gb = _divide(2 * b, denominator), _divide(-2 * a, denominator)
    variance = ga * ga * a * (1 - a) + gb * gb * b * (1 - b) - 2 * ga * gb * a * b
    return logit_interval(f1, np.sqrt(_divide(np.maximum(variance, 0.0), n)), z)


def _roc_auc(labelled: Labelled, z: float) -> Estimate:
    assert labelled.score is not None
    k = labelled.windows
    order = np.lexsort((labelled.score, labelled.window))
    window, score, positive = labelled.window[order], labelled.score[order], labelled.truth[order]
    negative = 1.0 - positive
    size = len(window)
    starts_group = np.ones(size, dtype=bool)
    starts_group[1:] = (window[1:] != window[:-1]) | (score[1:] != score[:-1])
    group = np.cumsum(starts_group) - 1
    first = np.flatnonzero(starts_group)
    neg_in, pos_in = np.bincount(group, negative), np.bincount(group, positive)
    neg_before = (np.cumsum(negative) - negative)[first]
    pos_before = (np.cumsum(positive) - positive)[first]
    window_first = np.searchsorted(window, np.arange(k))
    padded_neg = np.concatenate([np.cumsum(negative) - negative, [negative.sum()]])
    padded_pos = np.concatenate([np.cumsum(positive) - positive, [positive.sum()]])
    group_window = window[first]
    neg_below = neg_before - padded_neg[window_first][group_window]
    pos_below = pos_before - padded_pos[window_first][group_window]
    n_pos, n_neg = labelled.count(positive), labelled.count(negative)
    # Placement values, per tie group: ties count one half (the Mann-Whitney convention).
    v10 = _divide(neg_below + 0.5 * neg_in, n_neg[group_window])[group]
    pos_above = n_pos[group_window] - pos_below - pos_in
    v01 = _divide(pos_above + 0.5 * pos_in, n_pos[group_window])[group]
    auc = _divide(np.bincount(window, v10 * positive, minlength=k).astype(np.float64), n_pos)
    auc = np.where(n_neg > 0, auc, np.nan)
    d10, d01 = v10 - auc[window], v01 - auc[window]
    s10 = _divide(
        np.bincount(window, d10 * d10 * positive, minlength=k).astype(np.float64), n_pos - 1
    )
    s01 = _divide(
        np.bincount(window, d01 * d01 * negative, minlength=k).astype(np.float64), n_neg - 1
    )
    se = np.sqrt(_divide(s10, n_pos) + _divide(s01, n_neg))
    return logit_interval(auc, se, z)


def _log_loss(labelled: Labelled, z: float) -> Estimate:
    assert labelled.score is not None
    # Clipped to [eps, 1 - eps] as scikit-learn does, so a confident miss costs about 36, not inf.
    p = np.clip(labelled.score, _EPS, 1 - _EPS)
    t = labelled.truth
    loss = -(t * np.log(p) + (1 - t) * np.log1p(-p))
    mean, se = mean_and_se(labelled, loss)
    return _normal(mean, se, z, (0.0, np.inf))


def _mae(labelled: Labelled, z: float) -> Estimate:
    mean, se = mean_and_se(labelled, np.abs(labelled.prediction - labelled.truth))
    return _normal(mean, se, z, (0.0, np.inf))


def _mape(labelled: Labelled, z: float) -> Estimate:
    # Relative to max(|y|, eps), as scikit-learn's mean_absolute_percentage_error; a fraction,
    # not a percentage.
    error = np.abs(labelled.prediction - labelled.truth) / np.maximum(np.abs(labelled.truth), _EPS)
    mean, se = mean_and_se(labelled, error)
    return _normal(mean, se, z, (0.0, np.inf))


def _rmse(labelled: Labelled, z: float) -> Estimate:
    error = labelled.prediction - labelled.truth
    mse, se_mse = mean_and_se(labelled, error * error)
    rmse = np.sqrt(mse)
    return Estimate(
        rmse,
        _divide(se_mse, 2 * rmse),
        np.sqrt(np.maximum(mse - z * se_mse, 0.0)),
        np.sqrt(mse + z * se_mse),
    )


def _r2(labelled: Labelled, z: float) -> Estimate:
    n = labelled.count()
    error = labelled.prediction - labelled.truth
    mse = _divide(labelled.count(error * error), n)
    centre = _divide(labelled.count(labelled.truth), n)
    spread = (labelled.truth - centre[labelled.window]) ** 2
    variance = _divide(labelled.count(spread), n)
    variance = np.where(variance > 0, variance, np.nan)  # constant truth: R² is undefined
    r2 = 1 - mse / variance
    # Influence of one row on 1 - MSE / V: -(e² - MSE) / V + MSE (s - V) / V².
    w = labelled.window
    influence = -(error * error - mse[w]) / variance[w] + mse[w] * (spread - variance[w]) / (
        variance[w] ** 2
    )
    _, se = mean_and_se(labelled, influence)
    return _normal(r2, se, z, (-np.inf, 1.0))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", "classification", True, False, _accuracy),
        Metric("precision", "classification", True, False, _precision),
        Metric("recall", "classification", True, False, _recall),
        Metric("f1", "classification", True, False, _f1, logit=True),
        Metric("roc_auc", "classification", True, True, _roc_auc, logit=True),
        Metric("log_loss", "classification", False, True, _log_loss),
        Metric("mae", "regression", False, False, _mae),
        Metric("rmse", "regression", False, False, _rmse),
        Metric("mape", "regression", False, False, _mape),
        Metric("r2", "regression", True, False, _r2),
    ]
}
