"""Bin edges, bin counts and column sorting, vectorised across columns.

Counting and sorting use the compiled fast paths of ``_native.c`` when the package was built with
them, and NumPy otherwise; the results are the same. ``MODELYARD_NO_EXTENSIONS=1`` in the
environment selects NumPy at import (the test suite runs both ways).

Which sort is faster depends on the machine: the compiled radix sort was tuned where NumPy's sort
was a scalar introsort; a NumPy built with a SIMD sort (x86-simd-sort on AVX2/AVX-512, Highway on
Arm) sorts three to five times faster than it. So the first sort of long rows in a process times
both on a small sample and keeps the faster (about 20 ms, once); ``MODELYARD_SORT=numpy`` or
``=native`` skips the measurement, and :func:`sort_engine` says which one is in use.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelyard.drift._parallel import column_blocks, default_workers, run_blocks, sort_block

try:
    from modelyard.drift import _native
except ImportError:  # built without the compiled fast paths: NumPy gives the same results
    _native = None  # type: ignore[assignment]
# Set in the environment, the variable also keeps setup.py from building the extension.
NATIVE_DISABLED = os.environ.get("MODELYARD_NO_EXTENSIONS", "") not in ("", "0")
if NATIVE_DISABLED:
    _native = None  # type: ignore[assignment]

__all__ = ["bin_counts", "quantile_edges", "sort_engine", "sorted_columns", "uniform_edges"]


def compiled() -> ModuleType | None:
    """The compiled kernels of ``_native.c``, or None where NumPy stands in for them (not built,
    or ``MODELYARD_NO_EXTENSIONS=1``); read at each call, so that tests can switch it off."""
    return _native


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
    _sort_rows(buffer)
    for first in range(0, rows, step):
        out[first : first + step] = buffer[:, first : first + step].T
    # NaN sorts last: only a column ending in NaN needs its values counted.
    counts = np.full(columns, rows, dtype=np.int64)
    gaps = np.nonzero(np.isnan(buffer[:, -1]))[0]
    if gaps.size:
        counts[gaps] = np.count_nonzero(~np.isnan(buffer[gaps]), axis=1)
    return counts


# Row length from which the compiled radix sort beats NumPy's sort.
_COMPILED_SORT_MIN_LENGTH = 2048


def _sort_rows(buffer: FloatArray) -> None:
    """Sort each row of a C-contiguous array in place, NaN last (the same order either way)."""
    if buffer.shape[1] >= _COMPILED_SORT_MIN_LENGTH and sort_engine() == "native":
        assert _native is not None
        _native.sort_rows(buffer)
    else:
        buffer.sort(axis=1)


_engine: str | None = None
_engine_lock = threading.Lock()


def sort_engine() -> str:
    """``"native"`` or ``"numpy"``: the sort used for long rows in this process.

    ``MODELYARD_SORT`` (``numpy``, ``native`` or ``auto``, the default) decides; ``auto`` times both
    once, on 16 rows of 16,384 values, and keeps the faster. Without the compiled extension it is
    always ``"numpy"``.
    """
    global _engine
    if _engine is not None:
        return _engine
    with _engine_lock:
        if _engine is None:
            _engine = _choose_engine(os.environ.get("MODELYARD_SORT", "auto").strip().lower())
    return _engine


def _choose_engine(wanted: str) -> str:
    if _native is None:
        return "numpy"
    if wanted in ("numpy", "native"):
        return wanted
    if wanted not in ("", "auto"):
        raise ValueError(f"MODELYARD_SORT must be numpy, native or auto, not {wanted!r}")
    timings = time_sorts(rows=16, length=1 << 14, repeat=3)
    return min(timings, key=lambda engine: timings[engine])


def _numpy_sort_rows(buffer: FloatArray) -> None:
    buffer.sort(axis=1)


def time_sorts(*, rows: int, length: int, repeat: int) -> dict[str, float]:
    """Seconds per value of each available row sort (best of ``repeat``), on seeded normals."""
    sample = np.random.default_rng(0).normal(size=(rows, length))
    sorts: dict[str, Callable[[FloatArray], None]] = {"numpy": _numpy_sort_rows}
    if _native is not None:
        sorts["native"] = _native.sort_rows
    timings = {}
    for engine, sort in sorts.items():
        best = math.inf
        for _ in range(repeat):
            buffer = sample.copy()
            start = time.perf_counter()
            sort(buffer)
            best = min(best, time.perf_counter() - start)
        timings[engine] = best / sample.size
    return timings


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
    :func:`quantile_edges`; missing values (NaN) are not counted, ``-inf`` falls in the first bin
    and ``+inf`` in the last. Returns ``(columns, bins)``. ``workers`` threads count separate
    ranges of rows (``None``: one per CPU, at most 4).

    >>> import numpy as np
    >>> bin_counts(np.array([[0.0], [1.0], [1.5], [np.nan], [9.0]]), [[1.0, 2.0]])
    array([[1, 2, 1]])
    """
    array = _as_2d(data)
    cut = np.asarray(edges, dtype=np.float64)
    if cut.ndim == 1:
        cut = cut[None, :]
    if cut.shape[0] != array.shape[1]:
        raise ValueError(f"edges has {cut.shape[0]} rows for {array.shape[1]} columns")
    tally = count_below(array, cut, workers=workers)
    return tally.counts(finite_only=False)


@dataclass(frozen=True)
class Tally:
    """What one counting pass learns about each column: see :func:`count_below`."""

    rows: int
    below: IntArray  # (edges, columns): values below each edge, -inf included
    nan: IntArray  # (columns,)
    negative_infinite: IntArray
    positive_infinite: IntArray

    @classmethod
    def from_table(cls, rows: int, table: IntArray) -> Tally:
        """From an ``(edges + 3, columns)`` table: below each edge, then NaN, -inf, +inf."""
        edges = table.shape[0] - 3
        return cls(rows, table[:edges], table[edges], table[edges + 1], table[edges + 2])

    @property
    def infinite(self) -> IntArray:
        return self.negative_infinite + self.positive_infinite

    def counts(self, *, finite_only: bool) -> IntArray:
        """``(columns, bins)`` bin counts of the non-missing values; ``finite_only`` leaves the
        infinities out (otherwise ``-inf`` is in the first bin and ``+inf`` in the last)."""
        below = self.below
        total = self.rows - self.nan
        if finite_only:
            below = below - self.negative_infinite
            total = total - self.infinite
        cumulative = np.concatenate([below, total[None, :]], axis=0)
        return np.ascontiguousarray(np.diff(cumulative, axis=0, prepend=0).T)


def count_below(array: FloatArray, cut: FloatArray, *, workers: int | None = 1) -> Tally:
    """One pass over a ``(rows, columns)`` array: the values below each of the ``(columns, edges)``
    edges ``cut``, and the NaN, ``-inf`` and ``+inf`` values, per column.

    Uses the compiled counter when the package was built with it, and NumPy otherwise; both make
    the same IEEE comparisons, so the counts are identical.
    """
    rows, columns = array.shape
    edge_rows = np.ascontiguousarray(cut.T, dtype=np.float64)
    n_edges = edge_rows.shape[0]
    threads = _threads(workers)
    if _native is not None and array.flags.f_contiguous and not array.flags.c_contiguous:
        return _count_native_by_column(array, edge_rows, workers)
    if _native is not None:
        count = _count_native
        parts = _row_parts(rows, threads, minimum=_COMPILED_MIN_ROWS)
    else:
        count = _count_numpy
        parts = _row_parts(rows, 4 * threads, minimum=_COUNT_BLOCK)
    tallies = np.zeros((len(parts), n_edges + 3, columns), dtype=np.int64)

    def work(part: slice) -> None:
        tallies[parts.index(part)] = count(array[part], edge_rows)

    run_blocks(work, parts, workers)
    return Tally.from_table(rows, tallies.sum(axis=0))


def _row_parts(rows: int, wanted: int, *, minimum: int) -> list[slice]:
    return column_blocks(rows, max(minimum, -(-rows // max(1, wanted)), 1))


# Rows below which a second thread is not worth starting for the compiled counter.
_COMPILED_MIN_ROWS = 4096
# The compiled counter works on eight columns at a time; narrower data is laid out as if it
# were this wide, several rows side by side, so that the vector loops are long enough.
_COMPILED_MIN_WIDTH = 64


def _count_native(array: FloatArray, edge_rows: FloatArray) -> IntArray:
    """``(edges + 3, columns)`` for one range of rows, from the compiled counter."""
    assert _native is not None
    rows, columns = array.shape
    n_edges = edge_rows.shape[0]
    array = np.ascontiguousarray(array)
    out = np.zeros((n_edges + 3, columns), dtype=np.int64)
    # Side by side: rows (r, r + 1, ..., r + side - 1) as one row of side * columns values, the
    # edges repeated as often; the counts are folded back afterwards.
    side = 1
    if 0 < columns < _COMPILED_MIN_WIDTH:
        step = 8 // math.gcd(columns, 8)
        side = step * -(-_COMPILED_MIN_WIDTH // (step * columns))
    head = rows - rows % side if rows >= side else 0
    if side > 1 and head:
        wide = np.zeros((n_edges + 3, side * columns), dtype=np.int64)
        _native.count_below(
            array[:head].reshape(head // side, side * columns), np.tile(edge_rows, (1, side)), wide
        )
        out += wide.reshape(n_edges + 3, side, columns).sum(axis=1)
    else:
        head = 0
    if head < rows:
        _native.count_below(array[head:], edge_rows, out)
    return out


def _count_native_by_column(array: FloatArray, edge_rows: FloatArray, workers: int | None) -> Tally:
    """The compiled counter on a Fortran-ordered array, read column by column without a copy;
    threads take separate blocks of columns."""
    assert _native is not None
    rows, columns = array.shape
    n_edges = edge_rows.shape[0]
    total = np.zeros((n_edges + 3, columns), dtype=np.int64)
    parts = column_blocks(columns, max(1, -(-columns // _threads(workers))))

    def work(part: slice) -> None:
        out = np.zeros((n_edges + 3, part.stop - part.start), dtype=np.int64)
        _native.count_below(array[:, part].T, np.ascontiguousarray(edge_rows[:, part]), out, True)
        total[:, part] = out

    run_blocks(work, parts, workers)
    return Tally.from_table(rows, total)


def _count_numpy(array: FloatArray, edge_rows: FloatArray) -> IntArray:
    """``(edges + 3, columns)`` for one range of rows, with NumPy comparisons."""
    below = _count_rows(array, edge_rows)
    infinite = np.zeros((2, array.shape[1]), dtype=np.int64)
    with np.errstate(all="ignore"):
        # A finite column sum proves the column holds no infinity (one cheap pass); only the
        # other columns are searched for them.
        suspect = np.nonzero(~np.isfinite(array.sum(axis=0)))[0]
        if suspect.size:
            values = array[:, suspect]
            infinite[0, suspect] = np.count_nonzero(values == -np.inf, axis=0)
            infinite[1, suspect] = np.count_nonzero(values == np.inf, axis=0)
    return np.concatenate([below, infinite], axis=0)


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
