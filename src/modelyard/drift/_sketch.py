"""Bounded quantile sketches of numeric columns, and their merge.

A sketch of a column of ``n`` values is ``K`` of its values ``u_1 <= ... <= u_K``, each standing
for ``n / K`` of them. Compressing a weighted sorted sample with cumulative weight ``C(x)`` takes
``u_j`` as the first value whose cumulative weight reaches ``(j - 1/2) n / K``; then the sketch's
ECDF is ``round(K * F(x)) / K``, within ``1 / (2K)`` of ``F`` everywhere: a single batch states
exactly that bound. Pooling sketches gives an ECDF that is the count-weighted mean of theirs, so
its error is the weighted mean of theirs; a compression adds ``1 / (2K)``. :func:`merge_many`
pools any number of parts and compresses once, so merging many partitions adds ``1 / (2K)`` once,
not once per part; :func:`merge_samples` is its two-part case. Both track the bound per column
(``rank_error``).

Because ``KS = sup |F_ref - F_cur|``, a KS statistic against a sketch is within ``rank_error`` of
the exact one, and a Wasserstein-1 distance within ``rank_error * (max - min)`` of the reference
range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["compress", "compress_sorted", "merge_many", "merge_samples", "pack", "unpack"]

FloatArray = NDArray[np.float64]


def compress(values: FloatArray, weights: FloatArray, size: int) -> FloatArray:
    """``size`` values standing for equal shares of the weighted sorted sample ``values``.

    >>> compress(np.arange(10.0), np.ones(10), 2)
    array([2., 7.])
    """
    cumulative = np.cumsum(weights)
    total = cumulative[-1]
    targets = (np.arange(1, size + 1) - 0.5) * (total / size)
    index = np.searchsorted(cumulative, targets, side="left")
    return np.asarray(values[np.minimum(index, values.size - 1)], dtype=np.float64)


def compress_sorted(values: FloatArray, size: int) -> FloatArray:
    """:func:`compress` for equal weights, without building weights or cumulative sums.

    >>> compress_sorted(np.arange(10.0), 2)
    array([2., 7.])
    """
    targets = (np.arange(1, size + 1) - 0.5) * (values.size / size)
    # With unit weights the cumulative weight of value i is i + 1, so the first value whose
    # cumulative weight reaches t is at index ceil(t) - 1.
    index = np.ceil(targets).astype(np.int64) - 1
    return np.asarray(values[np.clip(index, 0, values.size - 1)], dtype=np.float64)


State = tuple[FloatArray, int, float]


def merge_samples(first: State, second: State, size: int | None) -> State:
    """Merge two column samples ``(sorted points, value count, rank error)``.

    With ``size=None`` both must be exact (every value kept) and the result is exact. Otherwise the
    result is exact while the total count fits in ``size``, and a sketch of ``size`` points after.

    >>> points, count, error = merge_samples((np.array([1.0, 3.0]), 2, 0.0),
    ...                                      (np.array([2.0]), 1, 0.0), None)
    >>> points, count, error
    (array([1., 2., 3.]), 3, 0.0)
    """
    return merge_many([first, second], size)


def merge_many(parts: Sequence[State], size: int | None) -> State:
    """Merge any number of column samples with one compression (see the module's bound).

    Parts holding no values are skipped: merging with an empty part changes nothing, so a
    sketch is never compressed a second time for it.

    >>> parts = [(np.arange(10.0), 10, 0.0), (np.arange(10.0, 20.0), 10, 0.0)]
    >>> points, count, error = merge_many(parts, 4)
    >>> points.tolist(), count, error
    ([2.0, 7.0, 12.0, 17.0], 20, 0.125)
    """
    kept = [p for p in parts if p[1] > 0]
    if not kept:
        return np.empty(0), 0, 0.0
    total = sum(n for _, n, _ in kept)
    exact = all(e == 0 and a.size == n for a, n, e in kept)
    if len(kept) == 1:
        a, n, e = kept[0]
        if size is None or a.size <= size:
            return a, n, e
        # A batch on its own: compress it directly (the common streaming step).
        return compress_sorted(a, size), n, 1.0 / (2 * size) if exact else e + 1.0 / (2 * size)
    values = np.concatenate([a for a, _, _ in kept])
    if size is None or (exact and total <= size):
        return np.sort(values, kind="stable"), total, 0.0 if exact else max(e for *_, e in kept)
    if exact:
        values.sort(kind="stable")
        return compress_sorted(values, size), total, 1.0 / (2 * size)
    weights = np.concatenate([np.full(a.size, n / max(a.size, 1)) for a, n, _ in kept])
    order = np.argsort(values, kind="stable")
    points = compress(values[order], weights[order], size)
    error = sum(n * e for _, n, e in kept) / total + 1.0 / (2 * size)
    return points, total, float(error)


def pack(columns: Sequence[FloatArray], rows: int | None = None) -> FloatArray:
    """Stack 1-D sorted columns into a ``(rows, columns)`` array padded with NaN at the end."""
    length = max((c.size for c in columns), default=0) if rows is None else rows
    out = np.full((length, len(columns)), np.nan)
    for index, column in enumerate(columns):
        out[: column.size, index] = column
    return out


def unpack(matrix: FloatArray, lengths: Sequence[int]) -> list[FloatArray]:
    """The inverse of :func:`pack`."""
    return [matrix[: int(n), index].copy() for index, n in enumerate(lengths)]
