"""Bin edges and bin counts, vectorised across columns."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelyard.drift._parallel import column_blocks, default_workers, run_blocks, sort_block

__all__ = ["bin_counts", "quantile_edges", "sorted_columns", "uniform_edges"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _as_2d(data: object) -> FloatArray:
    array = np.asarray(data, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D (rows, columns) array, got {array.ndim} dimensions")
    return array


def sorted_columns(data: object, *, workers: int | None = 1) -> tuple[FloatArray, IntArray]:
    """Sort each column, moving missing values (NaN) to the end.

    Returns the sorted ``(rows, columns)`` array and the number of non-missing values per column.
    ``workers`` threads sort blocks of columns in parallel (``None``: one per CPU, at most 4).

    >>> import numpy as np
    >>> values, counts = sorted_columns(np.array([[3.0, np.nan], [1.0, 2.0], [2.0, 1.0]]))
    >>> values[:, 0], values[:, 1], counts
    (array([1., 2., 3.]), array([ 1.,  2., nan]), array([3, 2]))
    """
    array = _as_2d(data)
    values = np.empty(array.shape)
    counts = np.zeros(array.shape[1], dtype=np.int64)

    def work(part: slice) -> None:
        counts[part] = sort_columns_into(array[:, part], values[:, part])

    block = sort_block(array.shape[0], array.shape[1], workers)
    run_blocks(work, column_blocks(array.shape[1], block), workers)
    return values, counts


def sort_columns_into(source: FloatArray, out: FloatArray) -> IntArray:
    """Sort the columns of ``source`` (NaN last) into ``out``, an array of the same shape.

    The block is transposed into contiguous rows in cache-sized pieces, sorted row by row, and
    transposed back: NumPy would otherwise gather and scatter every strided column itself, one
    cache line per value. Returns the number of non-missing values per column.
    """
    rows, columns = source.shape
    if rows == 0 or columns == 0:
        return np.zeros(columns, dtype=np.int64)
    buffer = np.empty((columns, rows))
    step = max(1, (1 << 19) // (8 * columns))
    for first in range(0, rows, step):
        buffer[:, first : first + step] = source[first : first + step].T
    buffer.sort(axis=1)
    for first in range(0, rows, step):
        out[first : first + step] = buffer[:, first : first + step].T
    # NaN sorts last: only a column ending in NaN needs its values counted.
    counts = np.full(columns, rows, dtype=np.int64)
    gaps = np.nonzero(np.isnan(buffer[:, -1]))[0]
    if gaps.size:
        counts[gaps] = np.count_nonzero(~np.isnan(buffer[gaps]), axis=1)
    return counts


def _collapse(edges: FloatArray) -> FloatArray:
    """Drop repeated edges per column, padding the freed slots with +inf at the end."""
    if edges.shape[1] == 0:
        return edges
    duplicate = np.zeros(edges.shape, dtype=bool)
    duplicate[:, 1:] = edges[:, 1:] == edges[:, :-1]
    collapsed = np.where(duplicate | np.isnan(edges), np.inf, edges)
    # +inf sorts last, so one sort per row packs the kept edges at the front in order.
    return np.sort(collapsed, axis=1)


def quantile_edges(
    reference: object,
    bins: int = 10,
    *,
    presorted: bool = False,
    counts: ArrayLike | None = None,
) -> FloatArray:
    """Interior quantile bin edges of each reference column.

    The edges are the ``j / bins`` quantiles (``j = 1 .. bins - 1``, linear interpolation as in
    ``numpy.quantile``) of the non-missing values of each column. The outer bins are open, so
    bin ``0`` is ``(-inf, e_1)``, bin ``j`` is ``[e_j, e_{j+1})`` and the last bin is
    ``[e_{bins-1}, +inf)``.
    Repeated edges (columns with ties or few distinct values) are collapsed; the unused slots at the
    end of a row hold ``+inf`` and give bins that are always empty.

    With ``presorted=True`` the columns must already be sorted with NaN last (as
    :func:`sorted_columns` returns them), and ``counts`` may give their non-missing lengths.

    Returns a ``(columns, bins - 1)`` array.

    >>> import numpy as np
    >>> x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 6.0]])
    >>> quantile_edges(x, bins=2)
    array([[2.5],
           [5. ]])
    >>> quantile_edges(x, bins=4)[1]
    array([5.  , 5.25,  inf])
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if presorted:
        values = _as_2d(reference)
        if counts is None:
            counts = np.count_nonzero(~np.isnan(values), axis=0)
        counts = np.asarray(counts, dtype=np.int64)
    else:
        values, counts = sorted_columns(reference)
    columns = values.shape[1]
    if bins == 1 or values.shape[0] == 0:
        return np.full((columns, max(bins - 1, 0)), np.inf)
    probabilities = np.arange(1, bins, dtype=np.float64) / bins
    # Linear interpolation between order statistics, the default method of numpy.quantile.
    position = (np.maximum(counts, 1) - 1)[:, None] * probabilities[None, :]
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, np.maximum(counts, 1)[:, None] - 1)
    fraction = position - lower
    low_values = np.take_along_axis(values.T, lower, axis=1)
    high_values = np.take_along_axis(values.T, upper, axis=1)
    edges = low_values + fraction * (high_values - low_values)
    # Where both neighbours are equal the interpolation must give exactly that value.
    edges = np.where(low_values == high_values, low_values, edges)
    edges[counts == 0] = np.nan
    return _collapse(edges)


def uniform_edges(low: object, high: object, bins: int = 10) -> FloatArray:
    """Interior edges of ``bins`` equal-width bins between ``low`` and ``high`` per column.

    Computed like ``numpy.histogram_bin_edges(x, bins)`` over ``[low, high]``; a column with
    ``low == high`` gets a single bin.

    >>> uniform_edges([0.0, 1.0], [1.0, 1.0], bins=4)
    array([[0.25, 0.5 , 0.75],
           [1.  ,  inf,  inf]])
    """
    lows = np.atleast_1d(np.asarray(low, dtype=np.float64))
    highs = np.atleast_1d(np.asarray(high, dtype=np.float64))
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    full = np.linspace(lows, highs, bins + 1, axis=1)
    return _collapse(full[:, 1:-1].copy())


def bin_counts(data: object, edges: object, *, workers: int | None = 1) -> IntArray:
    """Count the non-missing values of each column in the bins given by ``edges``.

    ``edges`` is a ``(columns, bins - 1)`` array of interior edges as returned by
    :func:`quantile_edges`; missing values (NaN) are not counted. Returns ``(columns, bins)``.
    ``workers`` threads count separate ranges of rows (``None``: one per CPU, at most 4).

    >>> import numpy as np
    >>> bin_counts(np.array([[0.0], [1.0], [1.5], [np.nan], [9.0]]), [[1.0, 2.0]])
    array([[1, 2, 1]])
    """
    array = _as_2d(data)
    cut = np.asarray(edges, dtype=np.float64)
    if cut.ndim == 1:
        cut = cut[None, :]
    rows, columns = array.shape
    if cut.shape[0] != columns:
        raise ValueError(f"edges has {cut.shape[0]} rows for {columns} columns")
    # below[j, c] = number of values of column c that are < edge j; the last row counts NaN.
    edge_rows = np.ascontiguousarray(cut.T)
    parts = column_blocks(rows, max(_COUNT_BLOCK, -(-rows // max(1, 4 * _threads(workers)))))
    below = np.zeros((len(parts), cut.shape[1] + 1, columns), dtype=np.int64)

    def work(part: slice) -> None:
        index = parts.index(part)
        below[index] = _count_rows(array[part], edge_rows)

    run_blocks(work, parts, workers)
    total = below.sum(axis=0)
    total[-1] = rows - total[-1]
    counts = np.diff(total, axis=0, prepend=0)
    return np.ascontiguousarray(counts.T)


# Rows per counting block: at most 255, so per-block counts fit in bytes and are summed by a
# byte-wide vectorised reduction instead of a count over booleans.
_COUNT_BLOCK = 255


def _threads(workers: int | None) -> int:
    return default_workers() if workers is None else max(1, workers)


def _count_rows(array: FloatArray, edge_rows: FloatArray) -> IntArray:
    """``(edges + 1, columns)``: values below each edge, then NaN values, in ``array``.

    Narrow data is compared in chunks of several 255-row groups, so that each NumPy call sees
    tens of thousands of values whatever the number of columns."""
    n_edges, columns = edge_rows.shape
    rows = array.shape[0]
    group = max(1, (1 << 16) // (_COUNT_BLOCK * max(columns, 1)))
    step = _COUNT_BLOCK * group
    below = np.zeros((n_edges + 1, columns), dtype=np.int64)
    masks = np.empty((n_edges + 1, min(step, rows), columns), dtype=bool)
    partial = np.empty((n_edges + 1, group, columns), dtype=np.uint8)
    # Narrow rows are compared several at a time, as one flat row against the edges repeated
    # as often, so NumPy's inner loops see at least 512 values; the repeated edges stay small
    # enough for the first-level cache. ``repeat`` divides 255 so groups split evenly.
    repeat = next((r for r in (1, 3, 5, 15, 17, 51, 85) if r * columns >= 512), 255)
    tiled = np.tile(edge_rows, (1, repeat))
    width = repeat * columns
    for start in range(0, rows, step):
        chunk = array[start : start + step]
        mask = masks[:, : chunk.shape[0]]
        whole = chunk.shape[0] // _COUNT_BLOCK
        head = whole * _COUNT_BLOCK
        flat = chunk[:head].reshape(head // repeat, width)
        for j in range(n_edges):
            np.less(flat, tiled[j], out=masks[j, :head].reshape(head // repeat, width))
        np.isnan(flat, out=masks[n_edges, :head].reshape(head // repeat, width))
        if head < chunk.shape[0]:
            for j in range(n_edges):
                np.less(chunk[head:], edge_rows[j], out=mask[j, head:])
            np.isnan(chunk[head:], out=mask[n_edges, head:])
        if whole:
            grouped = mask[:, : whole * _COUNT_BLOCK].reshape(
                n_edges + 1, whole, _COUNT_BLOCK, columns
            )
            np.add.reduce(grouped.view(np.uint8), axis=2, out=partial[:, :whole])
            below += partial[:, :whole].sum(axis=1, dtype=np.int64)
        if chunk.shape[0] > whole * _COUNT_BLOCK:
            below += np.count_nonzero(mask[:, whole * _COUNT_BLOCK :], axis=1)
    return below
