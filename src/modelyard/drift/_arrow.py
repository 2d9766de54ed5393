"""Column-at-a-time reading of pyarrow batches, so profiling a stream holds one batch at a time.

Numeric columns come out as zero-copy NumPy views where Arrow allows (float64 without nulls), so a
batch is never copied whole: the extra memory is one column at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import Kind, check_names
from modelyard.errors import ColumnMismatchError, ColumnTypeError

__all__ = ["arrow_kind", "iter_arrow_columns"]


def arrow_kind(arrow_type: Any) -> Kind:
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(arrow_type):
        return "categorical"
    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_timestamp(arrow_type) or t.is_date(arrow_type) or t.is_duration(arrow_type):
        return "datetime"
    if t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "numeric"
    return "categorical"


def _numeric(name: str, column: Any, kind: Kind) -> NDArray[np.float64]:
    import pyarrow as pa

    if pa.types.is_null(column.type):
        # A column with no values at all (Arrow cannot type it) fits any pinned kind.
        return np.full(len(column), np.nan)
    if kind == "datetime":
        if pa.types.is_date(column.type):
            column = column.cast(pa.timestamp("ns"))
        elif pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("ns", tz=column.type.tz))
        elif pa.types.is_duration(column.type):
            column = column.cast(pa.duration("ns"))
        else:
            raise ColumnTypeError(
                f"column {name!r} was profiled as datetime but now has type {column.type}",
                column=name,
            )
        column = column.cast(pa.int64())
    elif arrow_kind(column.type) != "numeric":
        raise ColumnTypeError(
            f"column {name!r} has Arrow type {column.type}, which numeric drift statistics cannot "
            "use; leave it categorical or convert it to numbers first",
            column=name,
            dtype=str(column.type),
        )
    if isinstance(column, pa.ChunkedArray):
        # One chunk (a row group, a record batch) is used as it is; combining would copy it.
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_decimal(column.type):
        column = column.cast(pa.float64())
    values = column.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _categories(column: Any) -> tuple[dict[str, int], int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    missing = column.null_count
    if pa.types.is_floating(column.type):
        missing += int(pc.sum(pc.is_nan(column)).as_py() or 0)
        column = pc.drop_null(pc.if_else(pc.is_nan(column), None, column))
    counts: dict[str, int] = {}
    for item in pc.value_counts(pc.drop_null(column)).to_pylist():
        label = str(item["values"])
        counts[label] = counts.get(label, 0) + int(item["counts"])
    return counts, missing


def iter_arrow_columns(
    batch: Any,
    *,
    names: Sequence[str] | None,
    kinds: Sequence[Kind] | None,
    categorical: Sequence[str],
    numeric: Sequence[str],
    columns: Sequence[str] | None,
) -> tuple[tuple[str, ...], tuple[Kind, ...], int, Iterator[tuple[int, Any]]]:
    """Names, kinds and row count of a batch, and a lazy iterator over its columns' values.

    The iterator yields ``(position, values)``: a float64 array for numeric columns, a
    ``(counts, missing)`` pair for categorical ones.
    """
    own = tuple(str(n) for n in batch.schema.names)
    chosen = tuple(columns) if columns is not None else own
    absent = [c for c in chosen if c not in own]
    if absent and names is None:
        raise ColumnMismatchError(
            f"columns {absent} are not in the data", missing=absent, unexpected=[]
        )
    if names is not None:
        if columns is None:
            check_names(tuple(names), own)
        else:
            check_names(tuple(names), tuple(c for c in own if c in set(names)))
        chosen = tuple(names)
    position_of = {n: i for i, n in enumerate(own)}
    found: list[Kind] = []
    for index, name in enumerate(chosen):
        arrow_type = batch.schema.field(position_of[name]).type
        if kinds is not None:
            kind = kinds[index]
        elif name in categorical:
            kind = "categorical"
        else:
            kind = arrow_kind(arrow_type)
            if name in numeric and kind not in ("numeric", "datetime"):
                raise ColumnTypeError(
                    f"column {name!r} has Arrow type {arrow_type} and cannot be numeric",
                    column=name,
                    dtype=str(arrow_type),
                )
        found.append(kind)
    final_kinds = tuple(found)

    def values() -> Iterator[tuple[int, Any]]:
        for index, (name, kind) in enumerate(zip(chosen, final_kinds, strict=True)):
            column = batch.column(position_of[name])
            if kind in ("numeric", "datetime"):
                yield index, _numeric(name, column, kind)
            else:
                yield index, _categories(column)

    return chosen, final_kinds, batch.num_rows, values()
