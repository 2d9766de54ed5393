"""The domain classifier: can a model tell the window's rows from the reference's?

A random forest (fixed seed) learns to tell reference rows (label 0) from window rows (label 1);
stratified k-fold cross-validation gives every row a score from a forest that never saw it, and
the ROC AUC of those out-of-fold scores says how separable the two samples are: 0.5 when they
come from one distribution, 1 when every row gives itself away. Classes are balanced by drawing
(seeded, without replacement) the same number of rows from each side, at most ``max_rows``.

The AUC compares pairs within a fold only, and so does its p-value. Within fold ``k`` one forest
scores rows it never saw, so under "no difference" a row's score is independent of its label
and ``U_k`` (window rows scoring above reference rows, ties counting one half) follows the
Mann-Whitney null, ``AUC_k = U_k / (n0_k * n1_k)`` (Mason and Graham 2002); each fold gets its
one-sided p-value ``p_k`` (normal approximation, tie-corrected). ``AUC = sum U_k / sum n0_k
n1_k``. The folds are not independent, though: each forest learns from the rows the other folds
test, and their AUCs correlate (about 0.1 between folds in a seeded simulation at 200 rows a
side), so neither the Mann-Whitney test of all out-of-fold scores pooled nor a sum over folds
holds its level (both gave 9.5 to 11% false alarms at a nominal 5%). The p-values are therefore
combined by a rule valid under any dependence (Rueschendorf 1982; Vovk and Wang 2020): with
``K`` folds and ``r = ceil(K / 2)``, ``p = min(1, K / r * p_(r))``, the ``r``-th smallest
p-value scaled (for 5 folds, 5/3 times the median): at most ``K t`` of the p-values are
expected at or below ``t``, so by Markov's inequality ``r`` of them are with probability at most
``K t / r``. A permutation null would be exact, at the cost of refitting every forest hundreds of
times per window. The seeded simulation in the tests checks the false-alarm rate.

Which columns separate the samples: the forests' impurity importances, averaged over folds and
normalised to sum to 1. They rank columns; they are not a test of each column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Separation", "separate"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Separation:
    """The outcome for one window: AUC, p-value, importances per column, rows used per side."""

    auc: float
    p_value: float
    importances: FloatArray
    rows: int


def fold_tests(
    labels: NDArray[np.int64], scores: FloatArray, fold: NDArray[np.int64]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per fold: ``U`` (window rows scoring above reference rows, ties counting one half), the
    number of pairs ``n0 * n1``, and the one-sided Mann-Whitney p-value (normal approximation,
    tie-corrected, with scipy's continuity correction of 0.5)."""
    from scipy.special import ndtr
    from scipy.stats import rankdata

    folds = np.unique(fold)
    u, pairs, p = (np.empty(len(folds), dtype=np.float64) for _ in range(3))
    for i, k in enumerate(folds):
        inside = fold == k
        own, score = labels[inside], scores[inside]
        n1, n0 = float(np.count_nonzero(own == 1)), float(np.count_nonzero(own == 0))
        n = n1 + n0
        u[i] = float(rankdata(score)[own == 1].sum()) - n1 * (n1 + 1) / 2
        pairs[i] = n1 * n0
        _, ties = np.unique(score, return_counts=True)
        tie_term = float(np.sum(ties.astype(np.float64) ** 3 - ties)) / (n * (n - 1))
        variance = n1 * n0 / 12 * ((n + 1) - tie_term)
        # Every score tied: nothing in this fold separates the samples.
        p[i] = 1.0 if variance <= 0 else float(ndtr(-(u[i] - pairs[i] / 2 - 0.5) / variance**0.5))
    return u, pairs, p


def auc_p_value(
    labels: NDArray[np.int64], scores: FloatArray, fold: NDArray[np.int64]
) -> tuple[float, float]:
    """``(AUC, p-value)``: the AUC over pairs within a fold, and the folds' p-values combined by
    the order-statistic rule (see the module docstring)."""
    u, pairs, p = fold_tests(labels, scores, fold)
    k = len(p)
    r = (k + 1) // 2
    return float(u.sum() / pairs.sum()), float(min(1.0, np.sort(p)[r - 1] * k / r))


def out_of_fold(
    values: FloatArray,
    labels: NDArray[np.int64],
    *,
    folds: int,
    trees: int,
    seed: int,
) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """``(scores, importances, fold)``: each row's out-of-fold probability of being a window row,
    the mean importances, and the fold each row was scored in."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold

    scores = np.empty(len(labels), dtype=np.float64)
    fold_of = np.empty(len(labels), dtype=np.int64)
    importances = np.zeros(values.shape[1], dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train, test) in enumerate(splitter.split(values, labels)):
        forest = RandomForestClassifier(
            n_estimators=trees, min_samples_leaf=5, random_state=seed + k, n_jobs=1
        )
        forest.fit(values[train], labels[train])
        scores[test] = forest.predict_proba(values[test])[:, 1]
        fold_of[test] = k
        importances += forest.feature_importances_
    total = importances.sum()
    return scores, importances / total if total > 0 else importances, fold_of


def separate(
    reference: FloatArray,
    window: FloatArray,
    *,
    max_rows: int,
    folds: int = 5,
    trees: int = 50,
    seed: int = 0,
) -> Separation:
    """Cross-validated separability of ``window`` from ``reference`` (rows encoded alike).

    >>> rng = np.random.default_rng(1)
    >>> same = separate(rng.normal(size=(400, 2)), rng.normal(size=(400, 2)), max_rows=400)
    >>> bool(same.p_value > 0.01), round(same.auc, 1)
    (True, 0.5)
    """
    rng = np.random.default_rng(seed)
    size = min(len(reference), len(window), max_rows)
    pick_reference = np.sort(rng.choice(len(reference), size, replace=False))
    pick_window = np.sort(rng.choice(len(window), size, replace=False))
    values = np.concatenate([reference[pick_reference], window[pick_window]])
    labels = np.repeat(np.array([0, 1], dtype=np.int64), size)
    scores, importances, fold = out_of_fold(values, labels, folds=folds, trees=trees, seed=seed)
    auc, p_value = auc_p_value(labels, scores, fold)
    return Separation(auc, p_value, importances, size)
