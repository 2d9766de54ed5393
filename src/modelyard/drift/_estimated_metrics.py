"""Expected performance of a binary classifier from its calibrated probabilities, per window.

With ``q`` the calibrated probability that a row is positive and the predicted class fixed by
the model's own score and threshold, each label is modelled as an independent Bernoulli(``q``)
draw. Every confusion-matrix cell is then a sum of such draws (a Poisson-binomial count) with a
known mean and variance, and each metric is estimated from the expected cells:

- accuracy ``(TP + TN) / n``, precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``,
  F1 ``2 TP / (2 TP + FP + FN)``, each cell its expectation;
- ROC AUC: the area under the expected ROC curve, rows sorted by score, each adding ``q`` to the
  true-positive and ``1 - q`` to the false-positive axis (the estimator of confidence-based
  performance estimation as published; it counts each row's own half step, so it is not exactly
  the expectation of the Mann-Whitney ratio, from which it differs by O(1/n)).

The standard error is that of the *realized* metric around its expectation, at the window's own
size and scores: exact for accuracy and precision (their denominators are fixed by the
predictions), the delta method for recall and F1 (ratios of two independent Poisson-binomial
sums) and for ROC AUC (the linearisation of the Mann-Whitney statistic in the labels, ties
counted as halves). All windows are computed at once with ``np.bincount`` and one sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ESTIMABLE", "Scored", "estimate"]

Floats = NDArray[np.float64]

#: The metrics that can be estimated without labels, in their display order.
ESTIMABLE = ("accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class Scored:
    """The rows of all windows: ``window`` ids, the model's ``score``, its predicted class
    (1.0 or 0.0) and the calibrated probability ``q`` of the positive class."""

    window: NDArray[np.int64]
    windows: int
    score: Floats
    predicted: Floats
    q: Floats

    def sum(self, values: Floats) -> Floats:
        return np.bincount(self.window, weights=values, minlength=self.windows).astype(np.float64)


def _divide(a: Floats, b: Floats) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def expected_confusion(scored: Scored) -> tuple[Floats, Floats, Floats, Floats]:
    """Expected ``(TP, FP, FN, TN)`` per window."""
    q, predicted = scored.q, scored.predicted
    tp = scored.sum(predicted * q)
    fp = scored.sum(predicted * (1 - q))
    fn = scored.sum((1 - predicted) * q)
    tn = scored.sum((1 - predicted) * (1 - q))
    return tp, fp, fn, tn


def _counts(scored: Scored) -> tuple[Floats, Floats, Floats, Floats, Floats, Floats]:
    """Per window: ``a`` and ``b`` the expected positives among rows predicted positive and
    negative, ``va`` and ``vb`` their variances, ``m`` the rows predicted positive, ``n`` all."""
    q, predicted = scored.q, scored.predicted
    spread = q * (1 - q)
    return (
        scored.sum(predicted * q),
        scored.sum((1 - predicted) * q),
        scored.sum(predicted * spread),
        scored.sum((1 - predicted) * spread),
        scored.sum(predicted),
        scored.sum(np.ones_like(q)),
    )


def _accuracy(scored: Scored) -> tuple[Floats, Floats]:
    tp, _, _, tn = expected_confusion(scored)
    n = scored.sum(np.ones_like(scored.q))
    # A row is right with probability q or 1 - q, and either way varies by q (1 - q).
    return _divide(tp + tn, n), np.sqrt(_divide(scored.sum(scored.q * (1 - scored.q)), n * n))


def _precision(scored: Scored) -> tuple[Floats, Floats]:
    a, _, va, _, m, _ = _counts(scored)
    return _divide(a, m), np.sqrt(_divide(va, m * m))


def _recall(scored: Scored) -> tuple[Floats, Floats]:
    a, b, va, vb, _, _ = _counts(scored)
    total = a + b
    return _divide(a, total), np.sqrt(_divide(b * b * va + a * a * vb, total**4))


def _f1(scored: Scored) -> tuple[Floats, Floats]:
    a, b, va, vb, m, _ = _counts(scored)
    # 2 TP / (2 TP + FP + FN) = 2a / (m + a + b), with a and b independent.
    total = m + a + b
    variance = _divide(4 * ((m + b) ** 2 * va + a * a * vb), total**4)
    return _divide(2 * a, total), np.sqrt(variance)


def _roc_auc(scored: Scored) -> tuple[Floats, Floats]:
    k = scored.windows
    order = np.lexsort((scored.score, scored.window))
    window, score, q = scored.window[order], scored.score[order], scored.q[order]
    negative = 1.0 - q
    size = len(window)
    starts = np.ones(size, dtype=bool)
    starts[1:] = (window[1:] != window[:-1]) | (score[1:] != score[:-1])
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    group_window = window[first]
    neg_in = np.bincount(group, negative)
    pos_in = np.bincount(group, q)
    # Exclusive running sums, less their value where the window starts: what lies below a
    # tie group inside its own window.
    neg_run = np.concatenate([[0.0], np.cumsum(negative)])
    pos_run = np.concatenate([[0.0], np.cumsum(q)])
    window_first = np.searchsorted(window, np.arange(k))
    neg_below = neg_run[first] - neg_run[window_first][group_window]
    pos_below = pos_run[first] - pos_run[window_first][group_window]
    # Sums by the sorted window ids: the rows are in sorted order from here on.
    p_total = np.bincount(window, q, minlength=k).astype(np.float64)
    n_total = np.bincount(window, negative, minlength=k).astype(np.float64)
    pos_above = p_total[group_window] - pos_below - pos_in
    pairs = p_total * n_total
    # The expected ROC curve, walked from the highest score down: a tie group adds its expected
    # negatives times the expected positives above it plus half its own.
    area = np.bincount(group_window, neg_in * (pos_above + 0.5 * pos_in), minlength=k)
    value = _divide(area.astype(np.float64), pairs)
    # The realized AUC is U(y) / (P(y) N(y)) with U the Mann-Whitney count over pairs of
    # distinct rows; its gradient in the labels at y = q gives the delta-method variance.
    g = group
    below = neg_below[g] + 0.5 * (neg_in[g] - negative)  # expected negatives under each row
    above = pos_above[g] + 0.5 * (pos_in[g] - q)  # expected positives over it
    gradient = below - above
    u = np.bincount(window, q * below, minlength=k)
    ratio = _divide(u.astype(np.float64), pairs)
    slope = _divide(gradient - ratio[window] * (n_total - p_total)[window], pairs[window])
    variance = np.bincount(window, slope * slope * q * negative, minlength=k).astype(np.float64)
    return value, np.where(np.isnan(value), np.nan, np.sqrt(variance))


_KERNELS = {
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "roc_auc": _roc_auc,
}


def estimate(scored: Scored, name: str) -> tuple[Floats, Floats]:
    """The estimate of metric ``name`` per window and the standard error of its realized value.

    >>> s = Scored(np.zeros(4, dtype=np.int64), 1, np.array([0.9, 0.8, 0.3, 0.1]),
    ...            np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.9, 0.8, 0.3, 0.1]))
    >>> [round(float(v[0]), 4) for v in estimate(s, "accuracy")]
    [0.825, 0.1854]
    """
    return _KERNELS[name](scored)
