"""The numbers of every window at once: bin counts, category counts, KS and Wasserstein.

Binned statistics alone need, per window and column, the count of each bin. They come from one
counting pass with window ids: the bin of each value (a binary search among the reference's
edges), then one ``bincount`` over ``window * bins + bin``. Categories are counted the same way,
over codes from one factorisation of the column. KS and Wasserstein need each window's values in
order: the rows are grouped by window once (:meth:`Windows.csr`; a slice of the data where the
windows are one run of it), and each column is sorted by window and value (an in-place sort of
each window's segment). The bin counts then come from the sorted segments, a binary search of
each edge per window, and :func:`segment_distances` reads every segment against the sorted
reference: compiled, all segments walk the reference together a block at a time, each search
starting where the previous value's ended; in NumPy, one binary search per value and prefix
sums of the reference. The statistics are computed on all windows' counts stacked, and the KS
p-values of all windows in one call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift import _binning
from modelyard.drift._columns import _label, _split_numeric, _to_text
from modelyard.drift._compare import _binned, _Numbers, _scipy_ks, _sorted
from modelyard.drift._config import DriftConfig
from modelyard.drift._ks_pvalue import ks_pvalue
from modelyard.drift._parallel import column_blocks, run_blocks
from modelyard.drift._profile import DriftProfile
from modelyard.drift._statistics import STATISTICS, SortedInputs
from modelyard.drift._windows import Windows

__all__ = ["NumericWindows", "category_counts", "numeric_windows"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Current values per chunk of segment_distances.
_CHUNK = 1 << 16

_ONE_TEXT_PER_VALUE = frozenset({"string", "boolean", "integer", "empty"})


@dataclass
class NumericWindows:
    """Per window ``w``: ``numbers`` (each array ``(windows, columns)``), bin counts
    ``(windows, columns, bins)``, and the finite, missing and infinite values per column."""

    numbers: _Numbers
    reference_counts: IntArray
    current_counts: IntArray
    finite: IntArray
    missing: IntArray
    infinite: IntArray

    def window(self, w: int) -> _Numbers:
        """The numbers of window ``w`` alone, shaped as :func:`compare` holds them."""
        return _Numbers(
            *(
                {k: v[w] for k, v in part.items()}
                for part in (self.numbers.value, self.numbers.p_value, self.numbers.score)
            )
        )


def _window_rows(windows: Windows) -> tuple[IntArray, IntArray | None]:
    """Window id per row (``-1``: none) for windows that do not overlap; otherwise the
    ``(window, row)`` pairs, as ids of gathered rows and the rows to gather."""
    if windows.overlapping:
        window, row = windows.memberships()
        return window, row
    return np.asarray(windows.ids(), dtype=np.int64), None


@dataclass
class _Column:
    """What one column yields for every window."""

    counts: IntArray  # (windows, bins)
    missing: IntArray  # (windows,)
    infinite: IntArray
    numerator: IntArray | None = None  # KS statistic times n * m, exact
    wasserstein: FloatArray | None = None


def segment_distances(
    reference: FloatArray, current: FloatArray, offsets: IntArray
) -> tuple[IntArray, FloatArray]:
    r"""KS numerators and Wasserstein-1 distances of many sorted segments against one reference.

    ``reference`` holds ``n`` sorted finite values; ``current`` the finite values of every
    segment, each sorted, segment ``s`` being ``current[offsets[s]:offsets[s + 1]]``. The cost
    is ``O(m log n)`` for ``m`` current values in all: two binary searches of every current
    value among the reference values and prefix sums of the reference, whatever ``n``.

    KS: with ``F`` counting reference values and ``G`` a segment's values, ``n m D`` is the
    largest ``|m F(y) - n G(y)|`` over the segment's values ``y``, taken at ``y`` and just
    below it (the two ECDFs are step functions that jump only there or at reference values,
    between which the gap moves monotonically to the next current value).

    Wasserstein: between consecutive current values ``a <= b`` the current ECDF is a constant
    ``g = j / m``, and ``integral_a^b |F - g|`` splits at the reference quantile ``x*`` where
    ``F`` reaches ``g``: ``g (x' - a) - I(a, x') + I(x', b) - g (b - x')`` with ``x'`` the
    quantile clipped to ``[a, b]`` and ``I(a, b) = integral_a^b F``, which prefix sums of the
    reference give in constant time. The tails below the first and above the last current
    value add ``integral F`` and ``integral (1 - F)``. Values are centred on the reference
    median first, so that the prefix sums stay small.

    >>> import numpy as np, scipy.stats
    >>> ref = np.sort(np.random.default_rng(0).normal(size=500))
    >>> cur = np.random.default_rng(1).normal(0.3, size=300)
    >>> parts = [np.sort(cur[:100]), np.sort(cur[100:])]
    >>> num, w1 = segment_distances(ref, np.concatenate(parts), np.array([0, 100, 300]))
    >>> ks = num / (500 * np.array([100, 200]))
    >>> [round(float(x), 12) for x in ks - [scipy.stats.ks_2samp(ref, p).statistic for p in parts]]
    [0.0, 0.0]
    >>> want = [scipy.stats.wasserstein_distance(ref, p) for p in parts]
    >>> bool(np.allclose(w1, want, rtol=1e-12, atol=0))
    True
    """
    segments = offsets.size - 1
    numerator = np.zeros(segments, dtype=np.int64)
    w1 = np.full(segments, np.nan)
    if reference.size == 0 or segments == 0:
        return numerator, w1
    centre = reference[reference.size // 2]
    native = _binning.compiled()
    if native is not None:
        # The same formulas value by value, each search starting from the previous value's
        # place rather than spanning the reference, with no temporaries.
        native.segment_distances(
            np.ascontiguousarray(reference, dtype=np.float64),
            np.ascontiguousarray(current, dtype=np.float64),
            float(centre),
            np.ascontiguousarray(offsets, dtype=np.int64),
            numerator,
            w1,
        )
        return numerator, w1
    ref = reference - centre
    prefix = np.concatenate([[0.0], np.cumsum(ref)])
    # Whole segments in chunks of about _CHUNK values: the twenty-odd temporaries of a chunk
    # stay in cache instead of being fresh memory the size of the column.
    cuts = np.searchsorted(offsets, np.arange(0, int(offsets[-1]), _CHUNK), side="right") - 1
    bounds = sorted({0, *cuts.tolist(), segments})
    for lo, hi in itertools.pairwise(bounds):
        local = offsets[lo : hi + 1] - offsets[lo]
        part = current[offsets[lo] : offsets[hi]] - centre
        numerator[lo:hi], w1[lo:hi] = _segments(ref, prefix, part, local)
    return numerator, w1


def _segments(
    ref: FloatArray, prefix: FloatArray, y: FloatArray, offsets: IntArray
) -> tuple[IntArray, FloatArray]:
    """:func:`segment_distances` of a few whole segments, with the reference centred."""
    n = ref.size
    segments = offsets.size - 1
    sizes = np.diff(offsets)
    numerator = np.zeros(segments, dtype=np.int64)
    w1 = np.full(segments, np.nan)
    filled = np.flatnonzero(sizes > 0)
    if filled.size == 0:
        return numerator, w1
    m = np.repeat(sizes, sizes)
    first = np.repeat(offsets[:-1], sizes)
    position = np.arange(y.size, dtype=np.int64) - first
    last_of_segment = position == m - 1
    upto = np.searchsorted(ref, y, side="right").astype(np.int64)
    below = _below(ref, y, upto)
    # KS: at the last of tied current values G counts them all; just below the first, none.
    ends_tie = last_of_segment.copy()
    ends_tie[:-1] |= y[1:] != y[:-1]
    starts_tie = position == 0
    starts_tie[1:] |= y[1:] != y[:-1]
    right = np.where(ends_tie, np.abs(upto * m - (position + 1) * n), 0)
    left = np.where(starts_tie, np.abs(below * m - position * n), 0)
    starts = offsets[:-1][filled]
    numerator[filled] = np.maximum.reduceat(np.maximum(right, left), starts)

    def integral(a: FloatArray, ka: IntArray, b: FloatArray, kb: IntArray) -> FloatArray:
        """``integral_a^b F`` for ``a <= b``, with ``ka``, ``kb`` reference values ``<=`` each."""
        inside = (kb - ka) * b - (prefix[kb] - prefix[ka])
        return np.asarray((ka * (b - a) + inside) / n, dtype=np.float64)

    # Between each current value and the next one of its segment (none after the last).
    nxt = np.empty_like(y)
    nxt[:-1], nxt[-1] = y[1:], y[-1]
    nxt[last_of_segment] = y[last_of_segment]
    k_next = np.empty_like(upto)
    k_next[:-1], k_next[-1] = upto[1:], upto[-1]
    k_next[last_of_segment] = upto[last_of_segment]
    level = (position + 1) / m
    quantile_rank = np.minimum(((position + 1) * n + m - 1) // m, n)
    quantile = ref[np.maximum(quantile_rank - 1, 0)]
    cross = np.clip(quantile, y, nxt)
    k_cross = _upto_quantile(ref, quantile_rank, quantile, y, upto, nxt, k_next)
    between = (
        level * (cross - y)
        - integral(y, upto, cross, k_cross)
        + integral(cross, k_cross, nxt, k_next)
        - level * (nxt - cross)
    )
    between[last_of_segment] = 0.0
    # Tails: below the first value F alone counts, above the last value 1 - F.
    low, k_low = y[starts], upto[starts]
    ends = offsets[1:][filled] - 1
    high, k_high = y[ends], upto[ends]
    head = (k_low * low - prefix[k_low]) / n
    tail = ((prefix[n] - prefix[k_high]) - (n - k_high) * high) / n
    w1[filled] = np.add.reduceat(between, starts) + head + tail
    return numerator, w1


def _below(ref: FloatArray, y: FloatArray, upto: IntArray) -> IntArray:
    """Reference values below each ``y``, from those up to it: they differ only where ``y``
    equals a reference value, searched again alone (one binary search of every value saved)."""
    equal = (upto > 0) & (ref[np.maximum(upto - 1, 0)] == y)
    below: IntArray = upto.copy()
    if equal.any():
        below[equal] = np.searchsorted(ref, y[equal], side="left")
    return below


def _upto_quantile(
    ref: FloatArray,
    rank: IntArray,
    quantile: FloatArray,
    y: FloatArray,
    upto: IntArray,
    nxt: FloatArray,
    k_next: IntArray,
) -> IntArray:
    """Reference values up to ``clip(quantile, y, nxt)``, known without a search but where the
    quantile ``ref[rank - 1]`` is tied with the next reference value."""
    k = np.where(quantile <= y, upto, np.where(quantile >= nxt, k_next, rank))
    tied = (quantile > y) & (quantile < nxt) & (rank < ref.size)
    tied &= ref[np.minimum(rank, ref.size - 1)] == quantile
    if tied.any():
        k[tied] = np.searchsorted(ref, quantile[tied], side="right")
    out: IntArray = np.asarray(k, dtype=np.int64)
    return out


@dataclass
class _Layout:
    """Where each window's rows are, worked out once for all columns."""

    ids: IntArray | None = None  # window per row (or per gathered row), for counting
    rows: IntArray | None = None  # the rows to gather, None for all rows in data order
    offsets: IntArray | None = None  # window w holds gathered values offsets[w]:offsets[w + 1]
    span: slice | None = None  # the gathered rows, when they are one run of the data

    @classmethod
    def of(cls, windows: Windows, grouped: bool) -> _Layout:
        if not grouped:
            ids, rows = _window_rows(windows)
            return cls(ids=ids, rows=rows)
        offsets, gathered = windows.csr()
        run = gathered.size > 0 and int(gathered[-1]) - int(gathered[0]) + 1 == gathered.size
        if run and bool(np.all(gathered[1:] > gathered[:-1])):
            # Windows in data order, rows in one run (sorted times): a slice, not a gather.
            first = int(gathered[0])
            return cls(offsets=offsets, span=slice(first, first + gathered.size))
        return cls(offsets=offsets, rows=gathered)


def _per_window(mask: NDArray[np.bool_], offsets: IntArray) -> IntArray:
    """How many of each window's values ``mask`` marks (the windows' values one after another)."""
    marked = np.flatnonzero(mask)
    return np.diff(np.searchsorted(marked, offsets)).astype(np.int64)


def _column_pass(
    values: FloatArray,
    c: int,
    edges: FloatArray,
    layout: _Layout,
    count: int,
    reference: FloatArray | None,
) -> _Column:
    """One column for every window: bin counts, NaN and infinities, by one pass with window ids
    or, with ``reference`` (its sorted values), from each window's sorted segment, which also
    gives KS and Wasserstein."""
    bins = edges.size + 1
    if reference is None:
        assert layout.ids is not None
        ids, rows = layout.ids, layout.rows
        x = values[:, c] if rows is None else values[rows, c]
        inside = ids >= 0
        finite = np.isfinite(x)
        # Counting "edges <= value" is the IEEE comparison of compare()'s counting pass.
        key = ids * bins + np.searchsorted(edges, x, side="right")
        counts = np.bincount(key[finite & inside], minlength=count * bins).reshape(count, bins)
        return _Column(
            counts,
            np.bincount(ids[np.isnan(x) & inside], minlength=count),
            np.bincount(ids[np.isinf(x) & inside], minlength=count),
        )
    assert layout.offsets is not None
    offsets = layout.offsets
    if layout.span is not None:
        x = np.array(values[layout.span, c], dtype=np.float64)
    else:
        x = values[layout.rows, c]
    # One sort per column by window and value: each window's segment sorted in place, -inf
    # first, then the finite values, +inf, NaN.
    bounds = offsets.tolist()
    for w in range(count):
        if bounds[w + 1] - bounds[w] > 1:
            x[bounds[w] : bounds[w + 1]].sort()
    odd = ~np.isfinite(x)
    if odd.any():
        missing = _per_window(np.isnan(x), offsets)
        infinite = _per_window(odd, offsets) - missing
        finite_sizes = np.diff(offsets) - missing - infinite
        # Removing the values at both ends of each segment leaves each one sorted.
        x = x[~odd]
        offsets = np.concatenate([[0], np.cumsum(finite_sizes)]).astype(np.int64)
    else:
        missing = infinite = np.zeros(count, dtype=np.int64)
    # Bin counts from the sorted segments: the values below an edge are a prefix of the
    # segment, found by a binary search of the edge ("edges <= value", as compare() counts).
    counts = np.empty((count, bins), dtype=np.int64)
    cuts = np.empty(bins + 1, dtype=np.int64)
    bounds = offsets.tolist()
    for w in range(count):
        cuts[0], cuts[-1] = bounds[w], bounds[w + 1]
        cuts[1:-1] = np.searchsorted(x[bounds[w] : bounds[w + 1]], edges, side="left")
        cuts[1:-1] += bounds[w]
        np.subtract(cuts[1:], cuts[:-1], out=counts[w])
    out = _Column(counts, missing, infinite)
    out.numerator, out.wasserstein = segment_distances(reference, x, offsets)
    return out


def numeric_windows(
    prof: DriftProfile,
    index: IntArray,
    values: FloatArray,
    windows: Windows,
    wanted: set[str],
    cfg: DriftConfig,
    workers: int | None,
) -> NumericWindows:
    """Every numeric statistic in ``wanted`` for every window; ``values`` may hold NaN and
    infinities (they are counted apart, as :func:`compare` does)."""
    count, columns = len(windows), index.size
    edges = np.asarray(prof.edges[index], dtype=np.float64)
    reference_counts = np.asarray(prof.bin_counts[index], dtype=np.int64)
    bins = reference_counts.shape[1]
    reference_n = np.asarray(prof.counts[index], dtype=np.int64)
    sample_n = np.asarray(prof.sample_counts[index], dtype=np.int64)
    sorted_path = any(spec.source == "sorted" and n in wanted for n, spec in STATISTICS.items())
    numbers = _Numbers({}, {}, {})
    current_counts = np.zeros((count, columns, bins), dtype=np.int64)
    missing = np.zeros((count, columns), dtype=np.int64)
    infinite = np.zeros((count, columns), dtype=np.int64)
    numerator = np.zeros((count, columns), dtype=np.int64)
    w1 = np.full((count, columns), np.nan)
    exact_sample = bool(np.array_equal(sample_n, reference_n))

    layout = _Layout.of(windows, sorted_path)

    def work(part: slice) -> None:
        for c in range(part.start, part.stop):
            column = index[c]
            reference = prof.sample[: sample_n[c], column] if sorted_path else None
            result = _column_pass(values, c, edges[c], layout, count, reference)
            current_counts[:, c, :] = result.counts
            missing[:, c], infinite[:, c] = result.missing, result.infinite
            if result.numerator is not None and result.wasserstein is not None:
                numerator[:, c], w1[:, c] = result.numerator, result.wasserstein

    run_blocks(work, column_blocks(columns, 1), workers)
    finite = windows.rows[:, None] - missing - infinite
    with np.errstate(all="ignore"):
        stacked = _Numbers({}, {}, {})
        _binned(
            stacked,
            wanted,
            np.tile(reference_counts, (count, 1)),
            current_counts.reshape(count * columns, bins),
            cfg,
        )
    for part, whole in zip(
        (stacked.value, stacked.p_value, stacked.score),
        (numbers.value, numbers.p_value, numbers.score),
        strict=True,
    ):
        for key, array in part.items():
            whole[key] = array.reshape(count, columns)
    if sorted_path:
        empty = (finite == 0) | (sample_n[None, :] == 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ks = np.where(empty, np.nan, numerator / (sample_n[None, :] * finite.astype(float)))
        w1 = np.where(empty, np.nan, w1)
        if cfg.ks_method == "scipy":
            ks_p = _scipy_windows(prof, index, values, windows, exact_sample)
        else:
            ks_p = ks_pvalue(
                ks.ravel(),
                np.tile(reference_n, count),
                finite.ravel(),
                method=cfg.ks_method,
                numerator=numerator.ravel() if exact_sample else None,
                workers=workers,
            ).reshape(count, columns)
        # The statistics read (window, column) arrays as compare reads (column,) ones.
        std = np.broadcast_to(prof.std[index], ks.shape)
        _sorted(numbers, wanted, SortedInputs(ks, w1, ks_p, std), cfg)
    return NumericWindows(numbers, reference_counts, current_counts, finite, missing, infinite)


def _scipy_windows(
    prof: DriftProfile, index: IntArray, values: FloatArray, windows: Windows, exact: bool
) -> FloatArray:
    """KS p-values by scipy, window by window (the configuration asked for scipy's own)."""
    out = np.full((len(windows), index.size), np.nan)
    offsets, rows = windows.csr()
    for w in range(len(windows)):
        if offsets[w + 1] > offsets[w]:
            block = _split_numeric(values[rows[offsets[w] : offsets[w + 1]]])[0]
            out[w] = _scipy_ks(prof, index, block, exact)
    return out


def _row_labels(series: Any) -> tuple[IntArray, list[str]]:
    """A code per row (``-1``: missing) into the category labels, labelled as a profile does."""
    import pandas as pd
    from pandas.api.types import infer_dtype

    if series.dtype == object and infer_dtype(series, skipna=True) not in _ONE_TEXT_PER_VALUE:
        # Values of mixed types can be equal yet print differently (True == 1): such columns
        # are counted by text, as the profile counts them.
        present = series.notna().to_numpy()
        text = np.full(len(series), None, dtype=object)
        text[present] = _to_text(series.to_numpy()[present])
        series = pd.Series(text, dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels: dict[str, int] = {}
    remap = np.array([labels.setdefault(_label(u), len(labels)) for u in uniques], dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    if remap.size:
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return codes, list(labels)


def category_counts(
    frame: Any, names: tuple[str, ...], windows: Windows
) -> tuple[list[tuple[dict[str, int], ...]], IntArray]:
    """Per window, the count of every category of each column, and the missing values per
    window and column, from one factorisation and one ``bincount`` per column."""
    count = len(windows)
    ids, rows = _window_rows(windows)
    inside = ids >= 0
    per_column: list[list[dict[str, int]]] = []
    missing = np.zeros((count, len(names)), dtype=np.int64)
    by_name = {str(c): c for c in frame.columns}
    for c, name in enumerate(names):
        codes, labels = _row_labels(frame[by_name[name]])
        if rows is not None:
            codes = codes[rows]
        width = max(len(labels), 1)
        present = (codes >= 0) & inside
        table = np.bincount(ids[present] * width + codes[present], minlength=count * width)
        table = table.reshape(count, width)
        missing[:, c] = np.bincount(ids[(codes < 0) & inside], minlength=count)
        column: list[dict[str, int]] = []
        for w in range(count):
            found = np.flatnonzero(table[w])
            column.append({labels[k]: int(table[w, k]) for k in found.tolist()})
        per_column.append(column)
    return [tuple(col[w] for col in per_column) for w in range(count)], missing
