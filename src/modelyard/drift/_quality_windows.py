"""Every window's data-quality counts from one pass over the data, with window ids.

Each column is read once as the reference's kind; its missing values and values below and above
the reference range are counted per window by ``bincount`` over the window ids, and its
categories by one factorisation (as the monitor counts them for drift). The counts are what
:func:`quality` would read from each window's rows, so each window's report, built from them by
the same code, equals ``quality(profile, window_rows)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import NUMERIC_KINDS, _numeric_values, is_arrow, to_pandas
from modelyard.drift._monitor_counts import _window_rows, category_counts
from modelyard.drift._profile import DriftProfile
from modelyard.drift._quality_read import BatchCounts
from modelyard.drift._windows import Windows
from modelyard.errors import ColumnTypeError

__all__ = ["Categories", "window_counts"]

#: Column names, then per window the label counts of each, then missing values per window and
#: column (as :func:`category_counts` returns them).
Categories = tuple[tuple[str, ...], list[tuple[dict[str, int], ...]], NDArray[np.int64]]


def window_counts(
    reference: DriftProfile,
    data: Any,
    chosen: tuple[str, ...],
    windows: Windows,
    counted: Categories | None = None,
) -> list[BatchCounts] | None:
    """The quality counts of every window of ``data`` (a DataFrame or mapping), or None where
    one pass cannot promise :func:`quality`'s counts (other inputs, repeated column names, a
    column no longer readable as its kind: its description depends on the window's rows).

    ``counted``: category counts per window the caller has already (column names, then what
    :func:`category_counts` gives for them), used instead of counting again."""
    if isinstance(data, np.ndarray) or is_arrow(data):
        return None
    frame = to_pandas(data)
    names = tuple(str(c) for c in frame.columns)
    if len(set(names)) != len(names):
        return None
    by_name = dict(zip(names, frame.columns, strict=True))
    count = len(windows)
    ids, rows = _window_rows(windows)
    inside = ids >= 0
    sizes = windows.rows.tolist()
    result = [BatchCounts(rows=int(sizes[w]), names=names) for w in range(count)]
    categorical: list[str] = []
    for name in chosen:
        if name not in by_name:
            continue
        kind = reference.column_kinds[name]
        if kind not in NUMERIC_KINDS:
            categorical.append(name)
            continue
        try:
            values = _numeric_values(name, frame[by_name[name]], kind)
        except ColumnTypeError:
            return None
        if rows is not None:
            values = values[rows]
        index = reference._numeric_index[name]
        minimum, maximum = float(reference.minimum[index]), float(reference.maximum[index])
        with np.errstate(invalid="ignore"):
            missing, below, above = (
                np.bincount(ids[mask & inside], minlength=count).tolist()
                for mask in (np.isnan(values), values < minimum, values > maximum)
            )
        for w in range(count):
            result[w].add_numeric(name, missing[w], sizes[w] - missing[w], below[w], above[w])
    if categorical:
        if counted is not None and set(categorical) <= set(counted[0]):
            known, labels, missing_labels = counted
        else:
            known = tuple(categorical)
            labels, missing_labels = category_counts(frame, known, windows)
        position = {name: i for i, name in enumerate(known)}
        for w in range(count):
            for name in categorical:
                c = position[name]
                result[w].categorical[name] = (labels[w][c], int(missing_labels[w, c]))
    return result
