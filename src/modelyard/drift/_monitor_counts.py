"""The numbers of every window at once: bin counts, category counts, KS and Wasserstein.

Binned statistics need, per window and column, the count of each bin. They come from one
counting pass with window ids: the bin of each value (a binary search among the reference's
edges), then one ``bincount`` over ``window * bins + bin``. Categories are counted the same way,
over codes from one factorisation of the column. KS and Wasserstein need each window's values in
order: the rows are grouped by window once (:meth:`Windows.csr`), each window's segment of every
column is sorted (together, one sort per column by window and value) and read by the same exact
kernel :func:`compare` uses, which also counts the bins by binary search in the sorted segment.
The statistics themselves are then computed on all windows' counts stacked, and the KS p-values
of all windows in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import _label, _split_numeric, _to_text
from modelyard.drift._compare import _MIN_SCALE, _binned, _Numbers, _scipy_ks
from modelyard.drift._config import DriftConfig
from modelyard.drift._ecdf import ecdf_distances
from modelyard.drift._ks_pvalue import ks_pvalue
from modelyard.drift._profile import DriftProfile
from modelyard.drift._windows import Windows

__all__ = ["NumericWindows", "category_counts", "numeric_windows"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

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


def _counted(values: FloatArray, edges: FloatArray, windows: Windows) -> tuple[IntArray, ...]:
    """Bin counts, NaN and infinities per window and column, by one pass with window ids."""
    count, columns = len(windows), values.shape[1]
    bins = edges.shape[1] + 1
    ids, rows = _window_rows(windows)
    inside = ids >= 0
    counts = np.zeros((count, columns, bins), dtype=np.int64)
    missing = np.zeros((count, columns), dtype=np.int64)
    infinite = np.zeros((count, columns), dtype=np.int64)
    for c in range(columns):
        x = values[:, c] if rows is None else values[rows, c]
        finite = np.isfinite(x)
        # Counting "edges <= value" is the same IEEE comparison as the counting pass of compare.
        key = ids * bins + np.searchsorted(edges[c], x, side="right")
        counts[:, c, :] = np.bincount(key[finite & inside], minlength=count * bins).reshape(
            count, bins
        )
        missing[:, c] = np.bincount(ids[np.isnan(x) & inside], minlength=count)
        infinite[:, c] = np.bincount(ids[np.isinf(x) & inside], minlength=count)
    return counts, missing, infinite


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
    sorted_path = bool(wanted & {"ks", "wasserstein"})
    numbers = _Numbers({}, {}, {})
    ks = np.full((count, columns), np.nan)
    numerator = np.zeros((count, columns), dtype=np.int64)
    w1 = np.full((count, columns), np.nan)
    scipy_p = np.full((count, columns), np.nan)
    exact_sample = bool(np.array_equal(prof.sample_counts[index], reference_n))
    if sorted_path:
        current_counts = np.zeros((count, columns, bins), dtype=np.int64)
        missing = np.zeros((count, columns), dtype=np.int64)
        infinite = np.zeros((count, columns), dtype=np.int64)
        offsets, rows = windows.csr()
        sample = prof.sample[:, index]
        sample_counts = prof.sample_counts[index]
        for w in range(count):
            lo, hi = int(offsets[w]), int(offsets[w + 1])
            if lo == hi:
                continue
            block, missing[w], infinite[w] = _split_numeric(values[rows[lo:hi]])
            finite_w = (hi - lo) - missing[w] - infinite[w]
            distances = ecdf_distances(
                sample,
                sample_counts,
                block,
                finite_w,
                current_is_sorted=False,
                workers=workers,
                edges=edges,
            )
            ks[w], numerator[w], w1[w] = distances.ks, distances.ks_numerator, distances.wasserstein
            assert distances.current_bin_counts is not None
            current_counts[w] = distances.current_bin_counts
            if cfg.ks_method == "scipy":
                scipy_p[w] = _scipy_ks(prof, index, block, exact_sample)
    else:
        current_counts, missing, infinite = _counted(values, edges, windows)
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
        if cfg.ks_method == "scipy":
            ks_p = scipy_p
        else:
            ks_p = ks_pvalue(
                ks.ravel(),
                np.tile(reference_n, count),
                finite.ravel(),
                method=cfg.ks_method,
                numerator=numerator.ravel() if exact_sample else None,
                workers=workers,
            ).reshape(count, columns)
        if "ks" in wanted:
            numbers.value["ks"] = ks
            numbers.p_value["ks"] = numbers.score["ks"] = ks_p
        if "wasserstein" in wanted:
            numbers.value["wasserstein"] = w1
            numbers.p_value["wasserstein"] = ks_p
            if cfg.wasserstein_scale == "std":
                scale = np.maximum(np.nan_to_num(prof.std[index], nan=1.0), _MIN_SCALE)
                numbers.score["wasserstein"] = w1 / scale
            else:
                numbers.score["wasserstein"] = w1
    return NumericWindows(numbers, reference_counts, current_counts, finite, missing, infinite)


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
