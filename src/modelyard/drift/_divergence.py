"""Divergences between binned distributions: PSI, KL divergence, Jensen-Shannon distance.

All three take ``(columns, bins)`` count arrays of the reference and the current data, with the same
bins on both sides, and return one value per column.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["js_distance", "kl_divergence", "proportions", "psi"]

FloatArray = NDArray[np.float64]

#: Proportion given to a bin that is empty on one side only, as in Evidently (``0.0001``).
DEFAULT_EPSILON = 1e-4


def _counts(reference: ArrayLike, current: ArrayLike) -> tuple[FloatArray, FloatArray]:
    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    cur = np.atleast_2d(np.asarray(current, dtype=np.float64))
    if ref.shape != cur.shape:
        raise ValueError(f"count arrays differ in shape: {ref.shape} and {cur.shape}")
    return ref, cur


def proportions(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    epsilon: float = DEFAULT_EPSILON,
    rule: Literal["fixed", "evidently"] = "fixed",
    drop_empty: bool = True,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Turn counts into proportions per column, smoothing empty bins.

    Returns ``(p, q, used)``: the reference and current proportions and the mask of bins that are
    non-empty on at least one side. A bin empty on both sides carries no information and is left out
    of every statistic (its ``used`` is False). A bin empty on one side only gets proportion
    ``epsilon`` on that side, without renormalising, which is Evidently's convention. With
    ``epsilon=0`` the proportions are left as they are.

    ``rule="evidently"`` reproduces Evidently exactly: on a side whose smallest non-zero proportion
    is at most ``epsilon``, empty bins get that proportion divided by a million instead. With
    ``drop_empty=False`` bins empty on both sides are kept (and smoothed), as Evidently does.

    >>> p, q, used = proportions([[2, 2, 0, 0]], [[1, 0, 3, 0]])
    >>> p.tolist(), q.tolist(), used.tolist()
    ([[0.5, 0.5, 0.0001, 0.0]], [[0.25, 0.0001, 0.75, 0.0]], [[True, True, True, False]])
    """
    ref, cur = _counts(reference, current)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = ref / ref.sum(axis=1, keepdims=True)
        q = cur / cur.sum(axis=1, keepdims=True)
    used = (ref > 0) | (cur > 0) if drop_empty else np.ones(ref.shape, dtype=bool)
    if epsilon > 0:
        p = np.where(used & (ref == 0), _fill(p, epsilon, rule), p)
        q = np.where(used & (cur == 0), _fill(q, epsilon, rule), q)
    p = np.where(used, p, 0.0)
    q = np.where(used, q, 0.0)
    return p, q, used


def _fill(share: FloatArray, epsilon: float, rule: str) -> FloatArray:
    if rule == "fixed":
        return np.full(share.shape[0], epsilon)[:, None]
    if rule != "evidently":
        raise ValueError(f"unknown smoothing rule {rule!r}")
    smallest = np.min(np.where(share > 0, share, np.inf), axis=1)
    return np.where(smallest <= epsilon, smallest / 1e6, epsilon)[:, None]


def _log_ratio(a: FloatArray, b: FloatArray, used: NDArray[np.bool_]) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(used, np.log(np.where(used, a, 1.0) / np.where(used, b, 1.0)), 0.0)


def psi(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    epsilon: float = DEFAULT_EPSILON,
    base: float = math.e,
    rule: Literal["fixed", "evidently"] = "fixed",
    drop_empty: bool = True,
) -> FloatArray:
    r"""Population stability index per column.

    .. math:: \mathrm{PSI} = \sum_i (q_i - p_i) \log_b \frac{q_i}{p_i}

    with ``p`` the reference and ``q`` the current proportions after :func:`proportions`
    smoothing. PSI is symmetric in ``p`` and ``q``; by industry convention (Siddiqi, *Credit Risk
    Scorecards*, 2006) below 0.1 is stable, 0.1 to 0.25 a moderate shift, 0.25 and above a major
    one. Natural log by default.

    >>> psi([[50, 50]], [[50, 50]])
    array([0.])
    >>> round(float(psi([[60, 40]], [[40, 60]])[0]), 6)
    0.162186
    """
    p, q, used = proportions(reference, current, epsilon=epsilon, rule=rule, drop_empty=drop_empty)
    values = ((q - p) * _log_ratio(q, p, used)).sum(axis=1)
    return np.asarray(values / math.log(base), dtype=np.float64)


def kl_divergence(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    epsilon: float = DEFAULT_EPSILON,
    base: float = math.e,
    direction: Literal["reference||current", "current||reference"] = "reference||current",
    normalize: bool = False,
    rule: Literal["fixed", "evidently"] = "fixed",
    drop_empty: bool = True,
) -> FloatArray:
    r"""Kullback-Leibler divergence per column.

    .. math:: D_{KL}(P \| Q) = \sum_i p_i \log_b \frac{p_i}{q_i}

    By default ``P`` is the reference and ``Q`` the current distribution (Evidently's direction);
    ``direction="current||reference"`` swaps them. Empty bins are smoothed by :func:`proportions`,
    so the value is finite. Natural log by default. ``normalize=True`` rescales the smoothed
    proportions to sum to 1 first, as ``scipy.stats.entropy`` (and so Evidently) does.

    >>> round(float(kl_divergence([[60, 40]], [[40, 60]])[0]), 6)
    0.081093
    """
    p, q, used = proportions(reference, current, epsilon=epsilon, rule=rule, drop_empty=drop_empty)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            p = p / p.sum(axis=1, keepdims=True)
            q = q / q.sum(axis=1, keepdims=True)
    if direction == "current||reference":
        p, q = q, p
    elif direction != "reference||current":
        raise ValueError(f"unknown KL direction {direction!r}")
    values = (p * _log_ratio(p, q, used)).sum(axis=1)
    return np.asarray(values / math.log(base), dtype=np.float64)


def js_distance(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    epsilon: float = 0.0,
    base: float = math.e,
) -> FloatArray:
    r"""Jensen-Shannon distance per column, as ``scipy.spatial.distance.jensenshannon``.

    .. math:: \mathrm{JS}(P, Q) = \sqrt{\tfrac12 D_{KL}(P \| M) + \tfrac12 D_{KL}(Q \| M)},
              \quad M = \tfrac12 (P + Q)

    The proportions are normalised to sum to 1 (after optional ``epsilon`` smoothing, none by
    default: JS is finite on empty bins). Symmetric, between 0 and ``sqrt(log_b 2)``; with
    ``base=2`` between 0 and 1 (NannyML's convention). Natural log by default, as scipy.

    >>> round(float(js_distance([[60, 40]], [[40, 60]])[0]), 6)
    0.1419
    >>> float(js_distance([[1, 0]], [[0, 1]], base=2)[0])
    1.0
    """
    p, q, _used = proportions(reference, current, epsilon=epsilon)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / p.sum(axis=1, keepdims=True)
        q = q / q.sum(axis=1, keepdims=True)
    m = (p + q) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        right = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    divergence = (left.sum(axis=1) + right.sum(axis=1)) / 2 / math.log(base)
    nan = np.isnan(p).any(axis=1) | np.isnan(q).any(axis=1)
    # Rounding can leave a tiny negative divergence for identical inputs; scipy clips the same way.
    return np.where(nan, np.nan, np.sqrt(np.maximum(divergence, 0.0)))
