"""Turn user data (DataFrame, NumPy array, pyarrow Table) into numeric and categorical blocks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError

__all__ = ["Frame", "Kind", "check_numeric", "iter_frame_columns", "to_frame"]

Kind = Literal["numeric", "datetime", "categorical", "boolean"]
NUMERIC_KINDS: frozenset[str] = frozenset({"numeric", "datetime"})


@dataclass(frozen=True)
class Frame:
    """One batch of data split by kind. Missing values are NaN (numeric) or None (categorical)."""

    rows: int
    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    numeric: NDArray[np.float64]  # (rows, numeric columns); NaN marks missing and infinite
    numeric_missing: NDArray[np.int64]
    numeric_infinite: NDArray[np.int64]
    categorical: tuple[dict[str, int], ...]  # label -> count, per categorical column
    categorical_missing: NDArray[np.int64]
    # False when to_frame was asked not to look for NaN and infinities: ``numeric`` holds them
    # as given and the two counts above are zeros until check_numeric() fills them in.
    numeric_checked: bool = True

    @property
    def numeric_counts(self) -> NDArray[np.int64]:
        """Finite values per numeric column (once the values are checked)."""
        return (self.rows - self.numeric_missing - self.numeric_infinite).astype(np.int64)

    @property
    def numeric_names(self) -> tuple[str, ...]:
        return tuple(n for n, k in zip(self.names, self.kinds, strict=True) if k in NUMERIC_KINDS)

    @property
    def categorical_names(self) -> tuple[str, ...]:
        return tuple(
            n for n, k in zip(self.names, self.kinds, strict=True) if k not in NUMERIC_KINDS
        )


def _is_dataframe(data: object) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "dtypes")


def is_arrow(data: object) -> bool:
    module = type(data).__module__ or ""
    return module.startswith("pyarrow") and hasattr(data, "schema")


def to_pandas(data: object) -> Any:
    """Return a pandas DataFrame for any supported tabular input (NumPy goes another way)."""
    import pandas as pd

    if _is_dataframe(data):
        return data
    if is_arrow(data):
        return data.to_pandas()  # type: ignore[attr-defined]
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    raise DriftInputError(
        f"cannot compute drift on a {type(data).__name__}; pass a pandas DataFrame, a pyarrow "
        "Table or RecordBatch, a 2-D NumPy array, a mapping of column name to values, or an "
        "iterator of those",
        type_name=type(data).__name__,
    )


def infer_kind(series: Any) -> Kind:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "categorical"


def _numeric_values(name: str, series: Any, kind: Kind) -> NDArray[np.float64]:
    import pandas as pd

    if series.dtype == object and series.isna().all():
        # No values at all (all None): pandas cannot type the column; it fits any pinned kind.
        return np.full(len(series), np.nan)
    if kind == "datetime":
        if not (
            pd.api.types.is_datetime64_any_dtype(series.dtype)
            or pd.api.types.is_timedelta64_dtype(series.dtype)
        ):
            raise ColumnTypeError(
                f"column {name!r} was profiled as datetime but now has dtype {series.dtype}",
                column=name,
            )
        missing = series.isna().to_numpy()
        # Datetimes are compared as nanoseconds since the epoch (timedeltas as nanoseconds).
        if pd.api.types.is_timedelta64_dtype(series.dtype):
            integers = series.astype("timedelta64[ns]").to_numpy().view(np.int64)
        else:
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            integers = series.astype("datetime64[ns]").to_numpy().view(np.int64)
        values = integers.astype(np.float64)
        values[missing] = np.nan
        return np.asarray(values, dtype=np.float64)
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        raise ColumnTypeError(
            f"column {name!r} has dtype {series.dtype}, which numeric drift statistics (PSI on "
            "quantile bins, KS, Wasserstein) cannot use; leave it categorical or convert it to "
            "numbers first",
            column=name,
            dtype=str(series.dtype),
        )
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _label(value: object) -> str:
    return str(value)


# Object columns whose values all have one of these kinds (as pandas infers them) cannot hold two
# values that compare equal but print differently, so counting by value gives the same result as
# counting by text.
_ONE_TEXT_PER_VALUE = frozenset({"string", "boolean", "integer", "empty"})
_to_text = np.frompyfunc(str, 1, 1)


def _category_counts(series: Any) -> tuple[dict[str, int], int]:
    """Counts per category label (``str`` of the value) and the number of missing values.

    A category is the text of a value. Counting values first and labelling afterwards would be
    wrong for an object column that mixes types: ``True == 1 == 1.0`` (with equal hashes), so
    pandas, like a dict, merges them into one group labelled after whichever came first, and the
    same data in another row order would give another profile. Such columns are counted by text.
    """
    missing = int(series.isna().sum())
    counts = series.value_counts(dropna=True, sort=False)
    if series.dtype == object and not _one_text_per_value(series, counts.index):
        import pandas as pd

        text = pd.Series(_to_text(series.dropna().to_numpy()), dtype=object)
        counts = text.value_counts(sort=False)
    result: dict[str, int] = {}
    for label, count in counts.items():
        if count:
            key = _label(label)
            result[key] = result.get(key, 0) + int(count)
    return result, missing


def _split_numeric(
    values: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    zeros = np.zeros(values.shape[1], dtype=np.int64)
    with np.errstate(all="ignore"):
        # A finite sum proves a column has no NaN and no infinity (one cheap pass); only
        # otherwise are the values classified one by one.
        if np.isfinite(values.sum(axis=0)).all():
            return values, zeros, zeros.copy()
    finite = np.isfinite(values)
    not_finite = values.shape[0] - np.count_nonzero(finite, axis=0)
    if not np.any(not_finite):
        return values, zeros, zeros.copy()
    infinite = np.count_nonzero(np.isinf(values), axis=0).astype(np.int64)
    # Infinities are kept out of every statistic and counted apart, like missing values.
    cleaned = np.where(finite, values, np.nan)
    return cleaned, (not_finite - infinite).astype(np.int64), infinite


def _one_text_per_value(series: Any, groups: Any) -> bool:
    from pandas.api.types import infer_dtype

    # A string equals only a string with the same text, so groups keyed by strings cannot have
    # merged values that print differently: the usual object column passes on a look at its
    # groups alone. Booleans and numbers can hide one another in a group (True == 1), so a group
    # of them needs a look at every value.
    if infer_dtype(groups, skipna=False) in ("string", "empty"):
        return True
    return infer_dtype(series, skipna=True) in _ONE_TEXT_PER_VALUE


def check_numeric(frame: Frame) -> Frame:
    """The frame with its NaN and infinities counted, and infinities replaced by NaN."""
    if frame.numeric_checked:
        return frame
    values, missing, infinite = _split_numeric(frame.numeric)
    return replace(
        frame,
        numeric=values,
        numeric_missing=missing,
        numeric_infinite=infinite,
        numeric_checked=True,
    )


def _unchecked(
    values: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    zeros = np.zeros(values.shape[1], dtype=np.int64)
    return values, zeros, zeros.copy()


def _from_numpy(
    array: NDArray[Any],
    names: Sequence[str] | None,
    kinds: Sequence[Kind] | None,
    check: bool,
) -> Frame | None:
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise DriftInputError(f"a NumPy input must be 2-D (rows, columns), got {array.ndim}-D")
    numeric = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    if not numeric:
        return None
    columns = array.shape[1]
    own = tuple(str(i) for i in range(columns))
    if names is not None and tuple(names) != own:
        check_names(own, tuple(names))
    if kinds is not None and any(k not in NUMERIC_KINDS for k in kinds):
        return None
    split = _split_numeric if check else _unchecked
    values, missing, infinite = split(np.asarray(array, dtype=np.float64))
    return Frame(
        rows=array.shape[0],
        names=own,
        kinds=tuple(kinds) if kinds is not None else ("numeric",) * columns,
        numeric=values,
        numeric_missing=missing,
        numeric_infinite=infinite,
        categorical=(),
        categorical_missing=np.zeros(0, dtype=np.int64),
        numeric_checked=check,
    )


def check_names(expected: tuple[str, ...], found: tuple[str, ...]) -> None:
    missing = [n for n in expected if n not in found]
    unexpected = [n for n in found if n not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing from the current data: {missing}")
        if unexpected:
            parts.append(f"not in the reference: {unexpected}")
        raise ColumnMismatchError(
            "the reference and current data have different columns ("
            + "; ".join(parts)
            + "); pass columns=[...] to compare only the shared ones",
            missing=missing,
            unexpected=unexpected,
        )


def _choose(
    df: Any,
    names: Sequence[str] | None,
    kinds: Sequence[Kind] | None,
    categorical: Sequence[str],
    numeric: Sequence[str],
    columns: Sequence[str] | None,
) -> tuple[tuple[str, ...], dict[str, Any], list[Kind]]:
    """The names (as str), their DataFrame labels and the kinds of the columns to read."""
    df_names = tuple(str(c) for c in df.columns)
    if len(set(df_names)) != len(df_names):
        raise DriftInputError("column names must be unique (after conversion to str)")
    by_name = dict(zip(df_names, df.columns, strict=True))
    if columns is not None:
        absent = [c for c in columns if c not in by_name]
        if absent:
            raise ColumnMismatchError(
                f"columns {absent} are not in the data", missing=absent, unexpected=[]
            )
        df_names = tuple(columns)
    if names is not None:
        check_names(tuple(names), df_names)
        df_names = tuple(names)
    chosen_kinds: list[Kind] = []
    for position, name in enumerate(df_names):
        series = df[by_name[name]]
        if kinds is not None:
            kind = kinds[position]
        elif name in categorical:
            kind = "categorical"
        elif name in numeric:
            kind = infer_kind(series)
            if kind not in NUMERIC_KINDS:
                raise ColumnTypeError(
                    f"column {name!r} has dtype {series.dtype} and cannot be treated as numeric",
                    column=name,
                    dtype=str(series.dtype),
                )
        else:
            kind = infer_kind(series)
        chosen_kinds.append(kind)
    unknown = [c for c in (*categorical, *numeric) if c not in df_names]
    if unknown and names is None:
        raise ColumnMismatchError(
            f"columns {unknown} were named in categorical= or numeric= but are not in the data",
            missing=unknown,
            unexpected=[],
        )
    return df_names, by_name, chosen_kinds


def iter_frame_columns(
    data: object,
    *,
    names: Sequence[str] | None,
    kinds: Sequence[Kind] | None,
    categorical: Sequence[str],
    numeric: Sequence[str],
    columns: Sequence[str] | None,
) -> tuple[tuple[str, ...], tuple[Kind, ...], int, Iterator[tuple[int, Any]]]:
    """A DataFrame (or mapping) read one column at a time, as ``iter_arrow_columns`` reads Arrow.

    Numeric columns come out as float64 arrays (a view of the frame's own block where pandas
    allows), never stacked into a matrix: the extra memory is one column, not a copy of the
    frame. The iterator yields ``(position, values)`` for numeric columns and
    ``(position, (counts, missing))`` for categorical ones.
    """
    df = to_pandas(data)
    df_names, by_name, chosen_kinds = _choose(df, names, kinds, categorical, numeric, columns)

    def values() -> Iterator[tuple[int, Any]]:
        for index, (name, kind) in enumerate(zip(df_names, chosen_kinds, strict=True)):
            series = df[by_name[name]]
            if kind in NUMERIC_KINDS:
                yield index, _numeric_values(name, series, kind)
            else:
                yield index, _category_counts(series)

    return df_names, tuple(chosen_kinds), len(df), values()


def to_frame(
    data: object,
    *,
    names: Sequence[str] | None = None,
    kinds: Sequence[Kind] | None = None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    check_values: bool = True,
) -> Frame:
    """Convert one batch. With ``names``/``kinds`` (from a profile) the batch must match them.

    ``check_values=False`` leaves NaN and infinities in the numeric block uncounted, for a
    caller that counts them in a pass of its own (see :func:`check_numeric`)."""
    if isinstance(data, np.ndarray):
        if columns is not None:
            data = data[:, [int(c) for c in columns]] if data.ndim == 2 else data
        frame = _from_numpy(data, names, kinds, check_values) if not categorical else None
        if frame is not None:
            return frame
        import pandas as pd

        array = data if data.ndim == 2 else data[:, None]
        data = pd.DataFrame(array, columns=[str(i) for i in range(array.shape[1])])
    df = to_pandas(data)
    df_names, by_name, chosen_kinds = _choose(df, names, kinds, categorical, numeric, columns)
    numeric_cols = [
        _numeric_values(n, df[by_name[n]], k)
        for n, k in zip(df_names, chosen_kinds, strict=True)
        if k in NUMERIC_KINDS
    ]
    rows = len(df)
    raw = np.column_stack(numeric_cols) if numeric_cols else np.empty((rows, 0), dtype=np.float64)
    values, missing, infinite = (_split_numeric if check_values else _unchecked)(raw)
    cats = [
        _category_counts(df[by_name[n]])
        for n, k in zip(df_names, chosen_kinds, strict=True)
        if k not in NUMERIC_KINDS
    ]
    return Frame(
        rows=rows,
        names=df_names,
        kinds=tuple(chosen_kinds),
        numeric=values,
        numeric_missing=missing,
        numeric_infinite=infinite,
        categorical=tuple(c for c, _ in cats),
        categorical_missing=np.array([m for _, m in cats], dtype=np.int64),
        numeric_checked=check_values,
    )
