"""The tests behind data-quality findings: two proportions, range exceedances, Holm's correction.

Pure functions over arrays (one entry per column); scipy's special functions are imported when
called, so importing this module stays light.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelyard.drift._verdicts import adjust_p_values

__all__ = ["holm", "missing_rate_test", "range_exceedance_pvalue"]

FloatArray = NDArray[np.float64]

#: Below this expected count in any cell of the 2x2 table the chi-square approximation is not
#: trusted (Cochran's rule) and Fisher's exact test is used instead.
MIN_EXPECTED = 5.0


def _log_choose(n: FloatArray, k: FloatArray) -> FloatArray:
    from scipy.special import gammaln

    result: FloatArray = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return result


def _fisher_two_sided(a: int, row1: int, row2: int, total_missing: int) -> float:
    """Fisher's exact test of a 2x2 table, two-sided as ``scipy.stats.fisher_exact``.

    ``a`` (missing in the first sample) is hypergeometric given the margins; the p-value sums the
    probabilities of every table no more likely than the observed one (with scipy's relative
    tolerance of 1e-7 for ties in floating point).
    """
    n = row1 + row2
    low, high = max(0, total_missing - row2), min(total_missing, row1)
    support = np.arange(low, high + 1, dtype=np.float64)
    log_pmf = (
        _log_choose(np.float64(total_missing), support)
        + _log_choose(np.float64(n - total_missing), row1 - support)
        - _log_choose(np.float64(n), np.float64(row1))
    )
    observed = log_pmf[a - low]
    pmf = np.exp(log_pmf - observed)  # relative to the observed table: no underflow near it
    p = float(np.exp(observed) * pmf[pmf <= 1.0 + 1e-7].sum())
    return min(1.0, p)


def missing_rate_test(
    reference_missing: ArrayLike,
    reference_rows: ArrayLike,
    batch_missing: ArrayLike,
    batch_rows: ArrayLike,
) -> tuple[FloatArray, NDArray[np.str_]]:
    """Two-sided p-values of "the missing rate is the same" for each column, and the test used.

    With every expected cell of the 2x2 table (missing / present by reference / batch) at least
    5, the pooled two-proportion z-test, whose ``z**2`` is the Pearson chi-square statistic
    without continuity correction: the p-value of ``scipy.stats.chi2_contingency(table,
    correction=False)``, ``erfc(|z| / sqrt(2))``. Below that, Fisher's exact test
    (``scipy.stats.fisher_exact``), because the chi-square approximation is too liberal there
    (a reference of thousands of rows without a missing value against a batch of a hundred).
    A column with no missing value, or nothing but missing values, on both sides gets p = 1.

    >>> p, test = missing_rate_test([95, 0], [1000, 5000], [393, 2], [1000, 100])
    >>> [f"{x:.3g}" for x in p], test.tolist()
    (['2.76e-54', '0.000381'], ['chi2', 'fisher'])
    """
    from scipy.special import erfc

    a = np.asarray(reference_missing, dtype=np.int64)
    r1 = np.asarray(reference_rows, dtype=np.int64)
    c = np.asarray(batch_missing, dtype=np.int64)
    r2 = np.asarray(batch_rows, dtype=np.int64)
    total = r1 + r2
    missing = a + c
    present = total - missing
    p = np.ones(a.shape, dtype=np.float64)
    tests = np.full(a.shape, "chi2", dtype="<U6")
    testable = (missing > 0) & (present > 0) & (r1 > 0) & (r2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        smallest = np.minimum(r1, r2) * np.minimum(missing, present) / np.maximum(total, 1)
        pooled = missing / np.maximum(total, 1)
        difference = a / np.maximum(r1, 1) - c / np.maximum(r2, 1)
        scale = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(r1, 1) + 1 / np.maximum(r2, 1)))
        z = np.abs(difference) / scale
    asymptotic = testable & (smallest >= MIN_EXPECTED)
    p[asymptotic] = erfc(z[asymptotic] / np.sqrt(2.0))
    for index in np.flatnonzero(testable & ~asymptotic):
        tests[index] = "fisher"
        p[index] = _fisher_two_sided(
            int(a[index]), int(r1[index]), int(r2[index]), int(missing[index])
        )
    return p, tests


def range_exceedance_pvalue(
    reference_count: ArrayLike, batch_count: ArrayLike, k: ArrayLike
) -> FloatArray:
    """P(at least ``k`` of ``m`` new values lie above the maximum of ``n`` reference values).

    If reference and batch come from one continuous distribution, all ``n + m`` values are
    exchangeable and at least ``k`` batch values exceed the reference maximum exactly when the
    ``k`` largest of all ``n + m`` are batch values: ``C(m, k) / C(n + m, k)``, with no
    assumption on the distribution (the same for the minimum). This is the hypergeometric
    probability ``scipy.stats.hypergeom(n + m, m, k).pmf(k)``. With ties (discrete data) values
    equal to the maximum do not count as above it, so the test is conservative. For a profile
    kept as a sketch the reference minimum and maximum are still exact (they are tracked apart
    from the sketch), so the same p-value holds.

    >>> [f"{x:.3g}" for x in range_exceedance_pvalue([1000, 1000], [1000, 1000], [1, 10])]
    ['0.5', '0.000955']
    """
    n = np.asarray(reference_count, dtype=np.float64)
    m = np.asarray(batch_count, dtype=np.float64)
    count = np.asarray(k, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        log_p = _log_choose(m, count) - _log_choose(n + m, count)
    p = np.where(count <= 0, 1.0, np.exp(np.minimum(log_p, 0.0)))
    return np.asarray(np.where(count > m, 0.0, p), dtype=np.float64)


def holm(p_values: ArrayLike) -> FloatArray:
    """Holm's step-down adjusted p-values: reject ``p_adjusted < alpha`` keeps the family-wise
    error rate at ``alpha`` for any dependence between the tests (Holm 1979).

    The ``i``-th smallest of ``m`` p-values becomes ``max over j <= i of min(1, (m - j + 1) *
    p_(j))``, so it is compared with ``alpha / (m - i + 1)`` in effect.

    >>> holm([0.01, 0.04, 0.03, 0.5]).tolist()
    [0.04, 0.09, 0.09, 0.5]
    """
    return adjust_p_values(p_values, "holm")
