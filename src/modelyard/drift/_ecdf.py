"""Distances between empirical CDFs: the two-sample KS statistic and the Wasserstein-1 distance."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike, NDArray

from modelyard.drift._binning import sort_columns_into, sorted_columns
from modelyard.drift._parallel import column_blocks, run_blocks, sort_block

__all__ = ["EcdfDistances", "ecdf_distances", "ks_statistic", "wasserstein_distance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


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
    r"""KS statistic and Wasserstein-1 distance from column-sorted samples, without a merge.

    Both inputs are ``(rows, columns)`` arrays whose columns are sorted with missing values (NaN)
    at the end, and the number of non-missing values per column.

    .. math:: D = \sup_x |F_r(x) - F_c(x)|, \qquad
              W_1 = \int |F_r(x) - F_c(x)|\,dx = \int_0^1 |Q_r(u) - Q_c(u)|\,du

    ``D`` is exact: ``n m D`` is an integer found from counts of reference values below chosen
    current values (a vectorised binary search), evaluated on a grid first and then only inside
    the spans of current values where a bound on the gap still beats the best value found.
    ``W_1`` is the integral of the difference of the two quantile functions, a weighted sum of
    absolute differences of sorted values. Both agree with ``scipy.stats.ks_2samp`` and
    ``scipy.stats.wasserstein_distance``. Columns with no values on one side give NaN.

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
    block = sort_block(max(ref.shape[0], cur.shape[0]), columns, workers)
    cut = None if edges is None else np.asarray(edges, dtype=np.float64).reshape(columns, -1)
    counts = None if cut is None else np.zeros((columns, cut.shape[1] + 1), dtype=np.int64)

    def work(part: slice) -> None:
        if current_is_sorted:
            current = cur[:, part]
        else:
            current = np.empty((cur.shape[0], part.stop - part.start))
            sort_columns_into(cur[:, part], current)
        r, nb, mb = ref[:, part], n[part], m[part]
        numerator[part] = _ks_block(r, nb, current, mb)
        w1[part] = _wasserstein_block(r, nb, current, mb)
        if cut is not None and counts is not None:
            below = _count_below(current, m[part], cut[part])
            counts[part] = np.diff(below, axis=1, prepend=0, append=m[part][:, None])

    run_blocks(work, column_blocks(columns, block), workers)
    empty = (n == 0) | (m == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ks = np.where(empty, np.nan, numerator / (n.astype(np.float64) * m))
    return EcdfDistances(ks, numerator, w1, counts)


class _Flat(NamedTuple):
    """A sorted ``(rows, columns)`` block read by flat index ``row * stride + column``: one
    ``take`` per gather instead of two-array fancy indexing."""

    values: FloatArray
    stride: int

    @classmethod
    def of(cls, ordered: FloatArray) -> _Flat:
        rows, columns = ordered.shape
        item = ordered.itemsize
        if (
            rows
            and columns
            and ordered.strides[1] == item
            and ordered.strides[0] >= columns * item
            and ordered.strides[0] % item == 0
        ):
            # A block of columns of a C-ordered array: address its rows in the parent buffer.
            stride = ordered.strides[0] // item
            flat = as_strided(
                ordered, shape=((rows - 1) * stride + columns,), strides=(item,), writeable=False
            )
            return cls(flat, stride)
        packed = np.ascontiguousarray(ordered)
        return cls(packed.reshape(-1), columns)

    def gather(self, row: IntArray, column: NDArray[np.intp]) -> FloatArray:
        return self.values.take(row * self.stride + column, mode="clip")


def _count_below(ordered: FloatArray, lengths: IntArray, edges: FloatArray) -> IntArray:
    """Per column and edge, the number of values below the edge."""
    columns = np.broadcast_to(np.arange(ordered.shape[1])[:, None], edges.shape)
    high = np.broadcast_to(lengths[:, None], edges.shape)
    zero = np.zeros(edges.shape, dtype=np.int64)
    return _search(_Flat.of(ordered), columns, edges, zero, high)


def _search(
    ordered: _Flat,
    column: NDArray[np.intp],
    keys: FloatArray,
    low: IntArray,
    high: IntArray,
    *,
    right: bool = False,
) -> IntArray:
    """Binary search of many keys at once, each in its own sorted column.

    For every key, the number of values of its column below it (``right``: at most it), found
    within ``[low, high]``, which must bracket the answer. Branch-free bisection by halving
    steps: ``log2(max(high - low))`` rounds of one gather and a few elementwise operations,
    however many columns and keys.
    """
    position = np.array(np.broadcast_to(low, keys.shape), dtype=np.int64)
    high = np.broadcast_to(high, keys.shape)
    top = int((high - position).max()) if keys.size else 0
    if top <= 0:
        return position
    step = 1 << (top.bit_length() - 1)
    candidate = np.empty_like(position)
    probe = np.empty_like(position)
    go = np.empty(keys.shape, dtype=bool)
    compare = np.less_equal if right else np.less
    while step:
        np.add(position, step, out=candidate)
        np.minimum(candidate, high, out=probe)
        probe -= 1
        compare(ordered.gather(probe, column), keys, out=go)
        go &= candidate <= high
        np.add(position, step, out=position, where=go)
        step >>= 1
    return position


def _counts_at(
    ref: _Flat,
    column: NDArray[np.intp],
    keys: FloatArray,
    below: tuple[IntArray, IntArray],
    above_high: IntArray,
) -> tuple[IntArray, IntArray]:
    """Reference values below each key and at most each key (``b`` and ``a``).

    ``a`` differs from ``b`` only where the reference holds the key itself, which continuous
    data rarely does, so the second search runs on those keys alone."""
    b = _search(ref, column, keys, *below)
    a = b.copy()
    high = np.broadcast_to(above_high, keys.shape)
    tied = b < high
    tied[tied] = ref.gather(b[tied], column[tied]) == keys[tied]
    if tied.any():
        a[tied] = _search(ref, column[tied], keys[tied], b[tied] + 1, high[tied], right=True)
    return a, b


# Branching of the KS refinement: a span of current values whose bound beats the best exact
# gap is cut into this many pieces, evaluated exactly at the cuts, and the pieces bounded again.
_KS_BRANCH = 8
# Keys per refinement chunk: bounds the temporaries when many spans need a closer look.
_REFINE_KEYS = 1 << 18
# Rows per block of the Wasserstein sums: a block of a few columns stays in cache.
_ROW_BLOCK = 8192


def _ks_first_step(rows: int) -> int:
    """Spacing of the first exact evaluations: about a quarter of the gap's random-walk noise
    (``sqrt(rows)``), a power of the branching factor, so that few spans need refining."""
    step = _KS_BRANCH
    while step * _KS_BRANCH * _KS_BRANCH <= rows:
        step *= _KS_BRANCH
    return step


def _with_ends(inner: NDArray[Any], first: NDArray[Any], last: NDArray[Any]) -> NDArray[Any]:
    return np.concatenate([first, inner, last], axis=1)


class _Spans(NamedTuple):
    """Runs of sorted current values ``(start, stop)`` with the counts known at both ends."""

    column: NDArray[np.intp]
    start: IntArray
    stop: IntArray
    above: tuple[IntArray, IntArray]
    below: tuple[IntArray, IntArray]
    keys: tuple[FloatArray, FloatArray]


def _ks_block(ref: FloatArray, n: IntArray, cur: FloatArray, m: IntArray) -> IntArray:
    r"""``sup |F_ref - F_cur| * n * m`` per column, as an exact integer.

    With ``c_0 <= ... <= c_{m-1}`` the sorted current values, ``a_j`` the number of reference
    values at most ``c_j`` and ``b_j`` the number below it, the supremum is

    .. math:: n m D = \max_j \max(m b_j - n j,\; n (j + 1) - m a_j),

    the gap just before and just after each current value (tied values give no larger terms, so
    ties need no special case). ``a`` and ``b`` are non-decreasing in ``j``, so on the values
    strictly between two evaluated points ``j_0 < j_1`` the first term is at most
    ``m b_{j_1} - n (j_0 + 1)`` and the second at most ``n j_1 - m a_{j_0}``. The gap is first
    evaluated on a grid; only spans whose bound beats the best exact value found are cut
    further, down to single values. The result is exact; only the work depends on the data.
    """
    columns = ref.shape[1]
    best = np.zeros(columns, dtype=np.int64)
    if cur.shape[0] == 0 or ref.shape[0] == 0:
        return best
    reference, current = _Flat.of(ref), _Flat.of(cur)
    step = _ks_first_step(int(m.max()))
    grid = np.arange(-(-cur.shape[0] // step) + 1, dtype=np.int64)[:, None] * step
    points = np.minimum(grid, np.maximum(m - 1, 0)[None, :])
    column = np.broadcast_to(np.arange(columns), points.shape)
    keys = current.gather(points, column)
    zero = np.zeros(points.shape, dtype=np.int64)
    full = np.broadcast_to(n[None, :], points.shape)
    above, below = _counts_at(reference, column, keys, (zero, full), full)
    gap = np.maximum(m * below - n * points, n * (points + 1) - m * above)
    best = gap.max(axis=0)
    # Identical samples (a comparison of data with itself) leave every span a candidate; one
    # equality pass over the columns still at zero settles them at once.
    settled = (best == 0) & (n == m) & (n > 0)
    rows = min(ref.shape[0], cur.shape[0])
    for first in range(0, rows, _ROW_BLOCK):
        if not settled.any():
            break
        last = min(first + _ROW_BLOCK, rows)
        equal = ref[first:last] == cur[first:last]
        equal |= np.arange(first, last)[:, None] >= n[None, :]  # NaN padding past the values
        settled &= equal.all(axis=0)
    open_ = ~settled[column[:-1].ravel()]
    spans = _Spans(
        column[:-1].ravel()[open_],
        points[:-1].ravel()[open_],
        points[1:].ravel()[open_],
        (above[:-1].ravel()[open_], above[1:].ravel()[open_]),
        (below[:-1].ravel()[open_], below[1:].ravel()[open_]),
        (keys[:-1].ravel()[open_], keys[1:].ravel()[open_]),
    )
    _refine(reference, current, n, m, spans, step, best)
    return np.where((n == 0) | (m == 0), 0, best)


def _refine(
    reference: _Flat,
    current: _Flat,
    n: IntArray,
    m: IntArray,
    spans: _Spans,
    step: int,
    best: IntArray,
) -> None:
    """Raise ``best`` to the exact maximum gap inside ``spans`` (each at most ``step`` long)."""
    c = spans.column
    nc, mc = n[c], m[c]
    bound = np.maximum(
        mc * spans.below[1] - nc * (spans.start + 1), nc * spans.stop - mc * spans.above[0]
    )
    inside = spans.stop - spans.start > 1
    # Equal keys at both ends: every value between is the same, and the bound is exact.
    flat = inside & (spans.keys[0] == spans.keys[1])
    np.maximum.at(best, c[flat], bound[flat])
    keep = np.nonzero(inside & ~flat & (bound > best[c]))[0]
    if keep.size == 0:
        return
    sub = max(1, step // _KS_BRANCH)
    cuts = np.arange(sub, step, sub, dtype=np.int64)[None, :]
    chunk = max(1, _REFINE_KEYS // cuts.size)
    for first in range(0, keep.size, chunk):
        k = keep[first : first + chunk]
        column = c[k]
        start, stop = spans.start[k][:, None], spans.stop[k][:, None]
        j = np.minimum(start + cuts, stop)
        col = np.broadcast_to(column[:, None], j.shape)
        keys = current.gather(j, col)
        a, b = _counts_at(
            reference,
            col,
            keys,
            (spans.below[0][k][:, None], spans.below[1][k][:, None]),
            spans.above[1][k][:, None],
        )
        ncol, mcol = n[column][:, None], m[column][:, None]
        gap = np.maximum(mcol * b - ncol * j, ncol * (j + 1) - mcol * a)
        np.maximum.at(best, column, gap.max(axis=1))
        if sub == 1:
            continue  # every value of these spans has now been evaluated
        ends = _with_ends

        points = ends(j, start, stop)
        ups = ends(a, spans.above[0][k][:, None], spans.above[1][k][:, None])
        downs = ends(b, spans.below[0][k][:, None], spans.below[1][k][:, None])
        values = ends(keys, spans.keys[0][k][:, None], spans.keys[1][k][:, None])
        pieces = _Spans(
            np.broadcast_to(column[:, None], (k.size, points.shape[1] - 1)).ravel(),
            points[:, :-1].ravel(),
            points[:, 1:].ravel(),
            (ups[:, :-1].ravel(), ups[:, 1:].ravel()),
            (downs[:, :-1].ravel(), downs[:, 1:].ravel()),
            (values[:, :-1].ravel(), values[:, 1:].ravel()),
        )
        _refine(reference, current, n, m, pieces, sub, best)


def _wasserstein_block(ref: FloatArray, n: IntArray, cur: FloatArray, m: IntArray) -> FloatArray:
    r"""Wasserstein-1 distance per column from the two quantile functions.

    :math:`W_1 = \int_0^1 |Q_{ref}(u) - Q_{cur}(u)|\,du`. Both quantile functions are step
    functions, constant on ``[i/p, (i+1)/p)`` for the side with more values ``p`` and on
    ``[j/q, (j+1)/q)`` for the other; as ``q <= p`` each step of the longer side overlaps at most
    two of the shorter, ``j_0 = floor(i q / p)`` and ``j_0 + 1``, with integer weights in units of
    ``1 / (p q)``. No merge of the two samples is needed, only sums of absolute differences.
    """
    columns = ref.shape[1]
    out = np.full(columns, np.nan)
    filled = (n > 0) & (m > 0)
    if not filled.any():
        return out
    if np.all(n == n[0]) and np.all(m == m[0]):
        out[:] = _wasserstein_equal(ref, int(n[0]), cur, int(m[0]))
        return np.where(filled, out, np.nan)
    swap = n < m
    p = np.maximum(np.where(swap, m, n), 1)
    q = np.maximum(np.where(swap, n, m), 1)
    rows = max(ref.shape[0], cur.shape[0])
    longer = np.full((rows, columns), np.nan)
    shorter = np.full((rows, columns), np.nan)
    keep = ~swap
    longer[: ref.shape[0], keep] = ref[:, keep]
    shorter[: cur.shape[0], keep] = cur[:, keep]
    longer[: cur.shape[0], swap] = cur[:, swap]
    shorter[: ref.shape[0], swap] = ref[:, swap]
    total = np.zeros(columns)
    for first in range(0, rows, _ROW_BLOCK):
        i = np.arange(first, min(first + _ROW_BLOCK, rows), dtype=np.int64)[:, None]
        j0 = (i * q) // p
        w1 = np.minimum((i + 1) * q, (j0 + 1) * p) - i * q
        w2 = q - w1
        valid = i < p
        j0c = np.minimum(j0, q - 1)
        j1c = np.minimum(j0 + 1, q - 1)
        a = longer[first : first + i.shape[0]]
        near = np.abs(a - np.take_along_axis(shorter, j0c, axis=0)) * w1
        near += np.abs(a - np.take_along_axis(shorter, j1c, axis=0)) * w2
        total += _column_sums(np.where(valid, near, 0.0))
    out = total / (p.astype(np.float64) * q)
    return np.where(filled, out, np.nan)


def _column_sums(block: FloatArray) -> FloatArray:
    """Column sums that do not depend on the column's position or the block's width: each
    column is summed as one contiguous row (pairwise), whatever the memory layout."""
    sums: FloatArray = np.ascontiguousarray(block.T).sum(axis=1)
    return sums


def _wasserstein_equal(ref: FloatArray, n: int, cur: FloatArray, m: int) -> FloatArray:
    """The same integral when every column has ``n`` reference and ``m`` current values: the
    index pairs are shared by all columns, so the shorter side is gathered by whole rows."""
    longer, shorter, p, q = (ref, cur, n, m) if n >= m else (cur, ref, m, n)
    total = np.zeros(ref.shape[1])
    if p == 0 or q == 0:
        return total
    scratch = np.empty((min(_ROW_BLOCK, p), ref.shape[1]))
    for first in range(0, p, _ROW_BLOCK):
        a = longer[first : min(first + _ROW_BLOCK, p)]
        out = scratch[: a.shape[0]]
        if p == q:
            # Equal sizes pair the i-th values with weight q each: the mean absolute difference.
            np.subtract(a, shorter[first : first + a.shape[0]], out=out)
            np.abs(out, out=out)
            out *= q
        else:
            i = np.arange(first, first + a.shape[0], dtype=np.int64)
            j0 = (i * q) // p
            w1 = np.minimum((i + 1) * q, (j0 + 1) * p) - i * q
            np.subtract(a, shorter[j0], out=out)
            np.abs(out, out=out)
            out *= w1[:, None]
            split = np.nonzero(w1 < q)[0]
            if split.size:
                part = np.abs(a[split] - shorter[np.minimum(j0[split] + 1, q - 1)])
                out[split] += part * (q - w1[split])[:, None]
        total += _column_sums(out)
    return total / (float(p) * q)


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
