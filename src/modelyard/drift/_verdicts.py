"""Significance of the binned statistics, multiple-testing corrections, and the verdict rule.

A column is called drifted when a change is both statistically significant (the statistic's
p-value, adjusted for the number of tests in the report) and large enough to matter (the effect
against its practical threshold). The binned statistics get their p-values from their asymptotic
null distributions: with ``s = 1/n + 1/m`` and ``k`` non-empty bins, a second-order expansion
around equal proportions gives ``PSI ~ s * chi2(k-1)``, ``KL ~ (s/2) * chi2(k-1)`` and, for the
Jensen-Shannon divergence ``JS**2`` (in nats), ``JS**2 ~ (s/8) * chi2(k-1)``: each is Pearson's
statistic of homogeneity on the same bins, rescaled.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["adjust_p_values", "binned_p_value"]

FloatArray = NDArray[np.float64]

#: Factor turning each binned statistic (in nats) into Pearson's chi-square scale, times ``1/s``.
_CHI2_FACTOR = {"psi": 1.0, "kl": 2.0, "js": 8.0}


def binned_p_value(
    statistic: str,
    value: ArrayLike,
    n_reference: ArrayLike,
    n_current: ArrayLike,
    bins: ArrayLike,
    *,
    base: float = math.e,
) -> FloatArray:
    """Asymptotic p-value of PSI, KL or the JS distance under "same distribution", per column.

    ``value`` is the statistic in logarithms of ``base`` (the JS *distance*, the square root of
    the divergence, for ``"js"``); ``bins`` the number of bins non-empty on either side.

    >>> float(binned_p_value("js", 0.05, 1000, 1000, 10)[0])
    0.3...
    """
    from scipy import stats

    n = np.asarray(n_reference, dtype=np.float64)
    m = np.asarray(n_current, dtype=np.float64)
    v = np.asarray(value, dtype=np.float64)
    k = np.asarray(bins, dtype=np.float64)
    v, n, m, k = np.broadcast_arrays(v, n, m, k)
    nats = (v * v if statistic == "js" else v) * math.log(base)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / n + 1.0 / m
        chi2 = _CHI2_FACTOR[statistic] * nats / scale
        out = np.where(k > 1, stats.chi2.sf(chi2, np.maximum(k - 1, 1)), 1.0)
    out = np.where((n > 0) & (m > 0) & ~np.isnan(v), out, np.nan)
    return np.atleast_1d(np.asarray(out, dtype=np.float64))


def adjust_p_values(p_values: ArrayLike, method: Literal["holm", "bh", "none"]) -> FloatArray:
    """P-values adjusted for testing them together; NaN entries are left out of the family.

    ``"holm"`` (Holm 1979) controls the chance of any false alarm, ``"bh"`` (Benjamini and
    Hochberg 1995) the expected share of false alarms among the alarms, ``"none"`` returns the
    p-values unchanged. Compare the result with the significance level.

    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").tolist()
    [0.03, 0.06, 0.06]
    >>> [round(x, 3) for x in adjust_p_values([0.01, 0.04, 0.03], "bh").tolist()]
    [0.03, 0.04, 0.04]
    """
    p: FloatArray = np.array(p_values, dtype=np.float64, ndmin=1)
    if method == "none":
        return p
    if method not in ("holm", "bh"):
        raise ValueError(f"unknown correction {method!r}; use 'holm', 'bh' or 'none'")
    present = np.nonzero(~np.isnan(p))[0]
    size = present.size
    if size == 0:
        return p
    order = present[np.argsort(p[present], kind="stable")]
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((size - np.arange(size)) * ranked)
    else:
        adjusted = np.minimum.accumulate((size / np.arange(1, size + 1) * ranked)[::-1])[::-1]
    p[order] = np.minimum(adjusted, 1.0)
    return p
