"""Read a batch against a reference profile's schema, counting only what quality checks need.

Each column is read as the kind the reference gave it, so a column that can no longer be read
that way (strings where numbers were) is recorded as such instead of raising: a schema change is
a finding, not a crash. Numeric columns are reduced at once to four counts (missing, present,
below the reference minimum, above the reference maximum); nothing is sorted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._arrow import arrow_kind
from modelyard.drift._columns import NUMERIC_KINDS, Kind, infer_kind, is_arrow, to_pandas
from modelyard.drift._profile import DriftProfile
from modelyard.drift._profile import _is_batches as is_batches
from modelyard.errors import ColumnTypeError, DriftInputError

__all__ = ["BatchCounts", "read_batch"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

# Rows per block when counting a NumPy matrix: the boolean temporaries of a block stay small.
_BLOCK_VALUES = 1 << 21


@dataclass
class BatchCounts:
    """What the quality checks need from a batch, per column of the reference it shares."""

    rows: int
    names: tuple[str, ...]
    # Reference numeric (and datetime) columns, in the order ``numeric`` lists them.
    numeric: list[str] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    present: list[int] = field(default_factory=list)
    below: list[int] = field(default_factory=list)
    above: list[int] = field(default_factory=list)
    # Reference categorical (and boolean) columns: label -> count, and missing values.
    categorical: dict[str, tuple[dict[str, int], int]] = field(default_factory=dict)
    # Columns that cannot be read as the reference's kind: name -> the batch's type.
    unreadable: dict[str, str] = field(default_factory=dict)

    def add_numeric(self, name: str, missing: int, present: int, below: int, above: int) -> None:
        self.numeric.append(name)
        self.missing.append(missing)
        self.present.append(present)
        self.below.append(below)
        self.above.append(above)


def _count_matrix(
    values: NDArray[Any], minimum: FloatArray, maximum: FloatArray
) -> tuple[IntArray, IntArray, IntArray]:
    """NaN, below-minimum and above-maximum counts of every column of a matrix, block by block.

    Infinities compare as they should (below any finite minimum, above any finite maximum), and
    NaN compares false, so it is counted only as missing.
    """
    rows, columns = values.shape
    missing = np.zeros(columns, dtype=np.int64)
    below = np.zeros(columns, dtype=np.int64)
    above = np.zeros(columns, dtype=np.int64)
    step = max(1, _BLOCK_VALUES // max(columns, 1))
    for first in range(0, rows, step):
        part = np.asarray(values[first : first + step], dtype=np.float64)
        for total, mask in (
            (missing, np.isnan(part)),
            (below, part < minimum),
            (above, part > maximum),
        ):
            # Counting a whole mask is a fast flat pass, counting it per column a slow strided
            # one; the usual block has nothing to count at all.
            if np.count_nonzero(mask):
                total += mask.sum(axis=0)
    return missing, below, above


def _count_column(values: FloatArray, minimum: float, maximum: float) -> tuple[int, int, int, int]:
    missing, below, above = _count_matrix(values[:, None], np.array([minimum]), np.array([maximum]))
    return int(missing[0]), values.size - int(missing[0]), int(below[0]), int(above[0])


def _from_numpy(
    reference: DriftProfile, array: NDArray[Any], columns: tuple[str, ...]
) -> BatchCounts | None:
    """The fast path: a numeric matrix against a reference whose checked columns are numeric."""
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise DriftInputError(f"a NumPy input must be 2-D (rows, columns), got {array.ndim}-D")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        return None
    kinds = reference.column_kinds
    names = tuple(str(i) for i in range(array.shape[1]))
    shared = [c for c in columns if c in kinds and c in set(names)]
    if any(kinds[c] != "numeric" for c in shared):
        return None  # categorical (or datetime) reference columns are read through pandas
    result = BatchCounts(rows=array.shape[0], names=names)
    index = [reference._numeric_index[c] for c in shared]
    positions = [int(c) for c in shared]
    # Every column in order (the usual case) is read in place; a selection is a copy.
    chosen = array if positions == list(range(array.shape[1])) else array[:, positions]
    missing, below, above = _count_matrix(
        chosen, reference.minimum[index], reference.maximum[index]
    )
    for j, name in enumerate(shared):
        n_missing = int(missing[j])
        result.add_numeric(name, n_missing, result.rows - n_missing, int(below[j]), int(above[j]))
    return result


def _count_columns(
    reference: DriftProfile,
    result: BatchCounts,
    columns: tuple[str, ...],
    column_of: Callable[[str], Any],
    categories: Callable[[Any], tuple[dict[str, int], int]],
    numeric: Callable[[str, Any, Kind], FloatArray],
    described: Callable[[Any], str],
) -> BatchCounts:
    """Count the ``columns`` the batch has (``column_of(name)``: its column, or None) into
    ``result``, each read as the reference's kind with the input's own readers; a column that
    cannot be read so is recorded as ``described(column)``."""
    kinds = reference.column_kinds
    for name in columns:
        column = column_of(name)
        if column is None:
            continue
        kind = kinds[name]
        if kind not in NUMERIC_KINDS:
            result.categorical[name] = categories(column)
            continue
        try:
            values = numeric(name, column, kind)
        except ColumnTypeError:
            result.unreadable[name] = described(column)
            continue
        index = reference._numeric_index[name]
        result.add_numeric(
            name,
            *_count_column(
                values, float(reference.minimum[index]), float(reference.maximum[index])
            ),
        )
    return result


def _from_pandas(reference: DriftProfile, df: Any, columns: tuple[str, ...]) -> BatchCounts:
    from modelyard.drift._columns import _category_counts, _numeric_values

    names = tuple(str(c) for c in df.columns)
    if len(set(names)) != len(names):
        raise DriftInputError("column names must be unique (after conversion to str)")
    by_name = dict(zip(names, df.columns, strict=True))
    return _count_columns(
        reference,
        BatchCounts(rows=len(df), names=names),
        columns,
        lambda name: df[by_name[name]] if name in by_name else None,
        _category_counts,
        _numeric_values,
        lambda series: f"{infer_kind(series)} (dtype {series.dtype})",
    )


def _from_arrow(reference: DriftProfile, batch: Any, columns: tuple[str, ...]) -> BatchCounts:
    from modelyard.drift._arrow import _categories, _numeric

    names = tuple(str(n) for n in batch.schema.names)
    if len(set(names)) != len(names):
        raise DriftInputError("column names must be unique")
    position = {n: i for i, n in enumerate(names)}
    return _count_columns(
        reference,
        BatchCounts(rows=batch.num_rows, names=names),
        columns,
        lambda name: batch.column(position[name]) if name in position else None,
        _categories,
        _numeric,
        lambda column: f"{arrow_kind(column.type)} (Arrow type {column.type})",
    )


def read_batch(reference: DriftProfile, batch: object, columns: tuple[str, ...]) -> BatchCounts:
    """Counts of ``batch`` for the reference columns ``columns`` that it has.

    Raises:
        DriftInputError: an unsupported input type, or repeated column names.
    """
    if is_arrow(batch):
        return _from_arrow(reference, batch, columns)
    if is_batches(batch):
        raise DriftInputError(
            f"quality checks one batch, got a {type(batch).__name__} of batches; check each "
            "(one report per window) or concatenate them first",
            type_name=type(batch).__name__,
        )
    if isinstance(batch, np.ndarray):
        counts = _from_numpy(reference, batch, columns)
        if counts is not None:
            return counts
        import pandas as pd

        matrix = batch if batch.ndim == 2 else batch[:, None]
        batch = pd.DataFrame(matrix, columns=[str(i) for i in range(matrix.shape[1])])
    return _from_pandas(reference, to_pandas(batch), columns)
