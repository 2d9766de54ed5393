"""Times as int64 nanoseconds since the epoch, from NumPy, pandas or Arrow, with their time zone.

A time-zone-aware column is read as UTC instants and keeps its zone's name, so calendar windows
can start at local midnight. A naive column is taken as it is: its wall-clock times are treated as
UTC, which makes a day run from midnight to midnight of the values themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import is_arrow
from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError

__all__ = ["Times", "read_times", "to_utc", "to_wall"]

_NAT = np.iinfo(np.int64).min


class Times:
    """``values`` (UTC ns, undefined where ``missing``), ``missing`` (bool), ``timezone``."""

    __slots__ = ("missing", "timezone", "values")

    def __init__(
        self, values: NDArray[np.int64], missing: NDArray[np.bool_], timezone: str | None
    ) -> None:
        self.values = values
        self.missing = missing
        self.timezone = timezone


def _column(data: Any, time: str) -> Any:
    if type(data).__name__ == "DataFrame" and hasattr(data, "columns"):
        names = [str(c) for c in data.columns]
    elif is_arrow(data):
        names = [str(c) for c in data.schema.names]
    elif isinstance(data, Mapping):
        names = [str(c) for c in data]
    else:
        raise DriftInputError(
            f"time={time!r} names a column, but a {type(data).__name__} has no named columns; "
            "pass a pandas DataFrame, a pyarrow Table or a mapping, or pass the times themselves "
            "without time=",
            type_name=type(data).__name__,
        )
    if time not in names:
        raise ColumnMismatchError(
            f"no time column {time!r} in the data; its columns are {names[:20]}",
            missing=[time],
            unexpected=[],
        )
    if is_arrow(data):
        return data.column(names.index(time))
    return data[time]


def _wrong_type(dtype: object) -> ColumnTypeError:
    return ColumnTypeError(
        f"times must be datetimes, not {dtype}; convert them first (for epoch seconds: "
        "pandas.to_datetime(values, unit='s'), for text: pandas.to_datetime(values))",
        dtype=str(dtype),
    )


def _from_arrow(column: Any) -> Times:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_date(kind):
        column, timezone = column.cast(pa.timestamp("ns")), None
    elif pa.types.is_timestamp(kind):
        timezone = kind.tz
        column = column.cast(pa.timestamp("ns", tz=timezone))
    else:
        raise _wrong_type(kind)
    missing = np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=np.bool_)
    integers = pc.fill_null(column.cast(pa.int64()), _NAT)
    values = np.asarray(integers.to_numpy(zero_copy_only=False), dtype=np.int64)
    return Times(values, missing, timezone)


def _from_pandas(column: Any) -> Times:
    import pandas as pd

    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        raise _wrong_type(column.dtype)
    index = pd.DatetimeIndex(column).as_unit("ns")
    timezone = None if index.tz is None else str(index.tz)
    return Times(np.asarray(index.asi8, dtype=np.int64), np.asarray(index.isna()), timezone)


def read_times(data: Any, time: str | None) -> Times:
    """The times of ``data[time]``, or of ``data`` itself when ``time`` is None."""
    column = data if time is None else _column(data, time)
    if is_arrow(column) or (type(column).__module__ or "").startswith("pyarrow"):
        return _from_arrow(column)
    if (type(column).__module__ or "").startswith("pandas"):
        return _from_pandas(column)
    array = np.asarray(column)
    if array.ndim != 1:
        raise DriftInputError(f"times must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind != "M":
        if array.dtype == object and array.size:
            import pandas as pd

            return _from_pandas(pd.Series(array))
        raise _wrong_type(array.dtype)
    values = array.astype("datetime64[ns]").view(np.int64)
    return Times(values, np.isnat(array), None)


def to_wall(utc: NDArray[np.int64], timezone: str | None) -> NDArray[np.int64]:
    """Local wall-clock times (as if UTC) of UTC instants."""
    if timezone is None:
        return utc
    import pandas as pd

    index = pd.DatetimeIndex(utc.view("datetime64[ns]")).tz_localize("UTC")
    return np.asarray(index.tz_convert(timezone).tz_localize(None).asi8, dtype=np.int64)


def to_utc(wall: NDArray[np.int64], timezone: str | None) -> NDArray[np.int64]:
    """UTC instants of local wall-clock times.

    A wall time that happens twice (the hour the clocks go back) is taken at its first
    occurrence, and one that never happens (the hour they go forward) at the first instant after
    the gap, so a day that starts in either hour still starts once.
    """
    if timezone is None:
        return wall
    import pandas as pd

    index = pd.DatetimeIndex(wall.view("datetime64[ns]")).tz_localize(
        timezone, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(index.asi8, dtype=np.int64)
