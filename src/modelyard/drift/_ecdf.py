"""Distances between empirical CDFs: the two-sample KS statistic and the Wasserstein-1 distance."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelyard.drift._binning import sorted_columns

__all__ = ["EcdfDistances", "ecdf_distances", "ks_statistic", "wasserstein_distance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Bytes of working memory per block of columns: the merge holds about 40 bytes per value.
_BLOCK_BYTES = 64 << 20


class EcdfDistances(NamedTuple):
    """Result of :func:`ecdf_distances`, one value per column."""

    ks: FloatArray
    """The two-sample Kolmogorov-Smirnov statistic ``sup |F_ref - F_cur|``."""
    ks_numerator: IntArray
    """``ks * n_ref * n_cur`` as an exact integer (used for the exact p-value)."""
    wasserstein: FloatArray
    """The Wasserstein-1 distance ``integral |F_ref - F_cur| dx``."""


def ecdf_distances(
    reference_sorted: ArrayLike,
    reference_counts: ArrayLike,
    current_sorted: ArrayLike,
    current_counts: ArrayLike,
) -> EcdfDistances:
    r"""KS statistic and Wasserstein-1 distance from column-sorted samples, in one merge.

    Both inputs are ``(rows, columns)`` arrays whose columns are sorted with missing values (NaN)
    at the end, and the number of non-missing values per column. Each column pair is merged (a
    stable sort of two sorted runs, which is linear), and the two ECDFs are read off the merged
    order with integer counts:

    .. math:: D = \max_x |F_r(x) - F_c(x)|, \qquad
              W_1 = \sum_i (z_{i+1} - z_i)\,|F_r(z_i) - F_c(z_i)|

    over the merged values ``z``, with ``D`` taken only at the last of tied values, exactly as
    ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` define them. Columns with no
    values on one side give NaN.

    >>> import numpy as np
    >>> ref = np.array([[1.0], [2.0], [3.0]])
    >>> cur = np.array([[2.0], [4.0], [np.nan]])
    >>> ecdf_distances(ref, [3], cur, [2])
    EcdfDistances(ks=array([0.5]), ks_numerator=array([3]), wasserstein=array([1.]))
    """
    ref = np.asarray(reference_sorted, dtype=np.float64)
    cur = np.asarray(current_sorted, dtype=np.float64)
    n = np.asarray(reference_counts, dtype=np.int64)
    m = np.asarray(current_counts, dtype=np.int64)
    if ref.ndim != 2 or cur.ndim != 2 or ref.shape[1] != cur.shape[1]:
        raise ValueError(
            f"expected two 2-D arrays with equal columns, got {ref.shape}, {cur.shape}"
        )
    columns = ref.shape[1]
    ks = np.full(columns, np.nan)
    numerator = np.zeros(columns, dtype=np.int64)
    w1 = np.full(columns, np.nan)
    rows = ref.shape[0] + cur.shape[0]
    if rows == 0 or columns == 0:
        return EcdfDistances(ks, numerator, w1)
    block = max(1, _BLOCK_BYTES // (40 * rows))
    for start in range(0, columns, block):
        part = slice(start, min(start + block, columns))
        k, d, w = _merge_block(ref[:, part], n[part], cur[:, part], m[part])
        ks[part], numerator[part], w1[part] = k, d, w
    return EcdfDistances(ks, numerator, w1)


def _merge_block(
    ref: FloatArray, n: IntArray, cur: FloatArray, m: IntArray
) -> tuple[FloatArray, IntArray, FloatArray]:
    n_ref = ref.shape[0]
    merged = np.empty((ref.shape[1], n_ref + cur.shape[0]), dtype=np.complex128)
    # The imaginary part labels the side (0 reference, 1 current). Complex numbers sort by real
    # then imaginary part, NaN last, and the stable sort (timsort) merges two sorted runs in
    # linear time: the labels come along with no argsort and no gather.
    merged.real[:, :n_ref] = ref.T
    merged.imag[:, :n_ref] = 0.0
    merged.real[:, n_ref:] = cur.T
    merged.imag[:, n_ref:] = 1.0
    merged.sort(axis=1, kind="stable")
    values = merged.real
    below_ref = np.cumsum(merged.imag == 0.0, axis=1, dtype=np.int64)
    position = np.arange(1, merged.shape[1] + 1, dtype=np.int64)
    below_cur = position - below_ref
    del merged
    n_col = n[:, None]
    m_col = m[:, None]
    # F_r - F_c scaled by n*m, an exact integer.
    difference = np.abs(below_ref * m_col - below_cur * n_col)
    valid = position <= (n_col + m_col)
    last_of_ties = np.ones(values.shape, dtype=bool)
    np.not_equal(values[:, :-1], values[:, 1:], out=last_of_ties[:, :-1])
    numerator = np.max(np.where(valid & last_of_ties, difference, 0), axis=1)
    steps = np.diff(values, axis=1)
    inside = valid[:, 1:]
    area = np.sum(np.where(inside, steps * difference[:, :-1], 0.0), axis=1)
    nm = (n * m).astype(np.float64)
    empty = (n == 0) | (m == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ks = np.where(empty, np.nan, numerator / nm)
        w1 = np.where(empty, np.nan, area / nm)
    return ks, numerator, w1


def ks_statistic(reference: ArrayLike, current: ArrayLike) -> FloatArray:
    """Two-sample Kolmogorov-Smirnov statistic per column, equal to ``scipy.stats.ks_2samp``'s.

    ``reference`` and ``current`` are ``(rows, columns)`` arrays with the same columns (row
    counts may differ); NaN values are left out.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ks_statistic(rng.normal(size=(200, 2)), rng.normal(0.5, size=(300, 2))).round(4)
    array([0.225 , 0.2267])
    """
    ref, n = sorted_columns(reference)
    cur, m = sorted_columns(current)
    return ecdf_distances(ref, n, cur, m).ks


def wasserstein_distance(reference: ArrayLike, current: ArrayLike) -> FloatArray:
    """Wasserstein-1 distance per column, equal to ``scipy.stats.wasserstein_distance``.

    >>> import numpy as np
    >>> wasserstein_distance([[0.0], [1.0], [3.0]], [[5.0], [6.0], [8.0]])
    array([5.])
    """
    ref, n = sorted_columns(reference)
    cur, m = sorted_columns(current)
    return ecdf_distances(ref, n, cur, m).wasserstein
