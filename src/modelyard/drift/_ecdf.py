"""Distances between empirical CDFs: the two-sample KS statistic and the Wasserstein-1 distance."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelyard.drift._binning import sorted_columns
from modelyard.drift._parallel import column_blocks, run_blocks

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
    current_bin_counts: IntArray | None = None
    """Counts of the current values in the bins of ``edges``, when edges were given."""


def ecdf_distances(
    reference_sorted: ArrayLike,
    reference_counts: ArrayLike,
    current_sorted: ArrayLike,
    current_counts: ArrayLike,
    *,
    current_is_sorted: bool = True,
    workers: int | None = 1,
    edges: ArrayLike | None = None,
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

    With ``current_is_sorted=False`` the current columns are sorted here, block by block, which
    saves a full sorted copy. ``workers`` threads process blocks of columns in parallel (``None``:
    one per CPU, at most 4); the results do not depend on it. With ``edges`` (as from
    :func:`quantile_edges`) the current values are also counted in those bins, by binary search
    in the sorted columns rather than by another pass over the data.

    >>> import numpy as np
    >>> ref = np.array([[1.0], [2.0], [3.0]])
    >>> cur = np.array([[2.0], [4.0], [np.nan]])
    >>> ecdf_distances(ref, [3], cur, [2])
    EcdfDistances(ks=array([0.5]), ks_numerator=array([3]), wasserstein=array([1.]),
                  current_bin_counts=None)
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
    cut = None if edges is None else np.asarray(edges, dtype=np.float64).reshape(columns, -1)
    counts = None if cut is None else np.zeros((columns, cut.shape[1] + 1), dtype=np.int64)

    def work(part: slice) -> None:
        current = cur[:, part] if current_is_sorted else np.sort(cur[:, part], axis=0)
        ks[part], numerator[part], w1[part] = _merge_block(ref[:, part], n[part], current, m[part])
        if cut is not None and counts is not None:
            below = _count_below(current, m[part], cut[part])
            counts[part] = np.diff(below, axis=1, prepend=0, append=m[part][:, None])

    run_blocks(work, column_blocks(columns, block), workers)
    return EcdfDistances(ks, numerator, w1, counts)


def _count_below(ordered: FloatArray, lengths: IntArray, edges: FloatArray) -> IntArray:
    """Per column and edge, the number of values below the edge: a binary search vectorised
    over all columns and edges at once (about log2(rows) small gathers)."""
    columns = np.arange(ordered.shape[1])[:, None]
    low = np.zeros(edges.shape, dtype=np.int64)
    high = np.broadcast_to(lengths[:, None], edges.shape).astype(np.int64)
    while np.any(low < high):
        middle = (low + high) // 2
        probe = ordered[np.minimum(middle, max(ordered.shape[0] - 1, 0)), columns]
        less = (probe < edges) & (low < high)
        low = np.where(less, middle + 1, low)
        high = np.where(less | (low >= high), high, middle)
    return low


def _merge_block(
    ref: FloatArray, n: IntArray, cur: FloatArray, m: IntArray
) -> tuple[FloatArray, IntArray, FloatArray]:
    n_ref = ref.shape[0]
    total = n_ref + cur.shape[0]
    merged = np.empty((ref.shape[1], total), dtype=np.complex128)
    # The imaginary part labels the side (0 reference, 1 current). Complex numbers sort by real
    # then imaginary part, NaN last, and the stable sort (timsort) merges two sorted runs in
    # linear time: the labels come along with no argsort and no gather.
    merged.real[:, :n_ref] = ref.T
    merged.imag[:, :n_ref] = 0.0
    merged.real[:, n_ref:] = cur.T
    merged.imag[:, n_ref:] = 1.0
    merged.sort(axis=1, kind="stable")
    values = np.ascontiguousarray(merged.real)
    counter = np.int32 if total < 2**31 - 1 else np.int64
    below_ref = np.cumsum(merged.imag == 0.0, axis=1, dtype=counter)
    del merged
    n_f = n.astype(np.float64)[:, None]
    m_f = m.astype(np.float64)[:, None]
    position = np.arange(1, total + 1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        # F_ref - F_cur after each merged value. True divisions (not products with 1/n) make
        # equal ECDF values exactly equal floats, so identical samples give exactly 0.
        below_cur: FloatArray = position - below_ref
        gap: FloatArray = below_ref / n_f
        np.divide(below_cur, m_f, out=below_cur)
        gap -= below_cur
        del below_cur
    np.abs(gap, out=gap)
    del below_ref
    last_of_ties = np.empty(values.shape, dtype=bool)
    np.not_equal(values[:, :-1], values[:, 1:], out=last_of_ties[:, :-1])
    last_of_ties[:, -1] = True
    full = bool((n == n_ref).all() and (m == cur.shape[0]).all())
    if not full:
        # Padding (NaN) sorts after every value; positions past n + m are not data.
        last_of_ties &= position[None, :] <= (n_f + m_f)
    ks = np.max(np.where(last_of_ties, gap, 0.0), axis=1, initial=0.0)
    steps = np.diff(values, axis=1)
    if not full:
        steps[~(position[None, 1:] <= (n_f + m_f))] = 0.0
    area = np.einsum("ij,ij->i", steps, gap[:, :-1])
    empty = (n == 0) | (m == 0)
    # The largest gap is a multiple of 1/(n*m): round away the float noise of the gap sum.
    numerator = np.where(empty, 0, np.rint(ks * n * m)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ks = np.where(empty, np.nan, numerator / (n * m).astype(np.float64))
    w1 = np.where(empty, np.nan, area)
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
