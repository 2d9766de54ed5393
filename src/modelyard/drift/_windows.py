"""Assign rows to windows of time or of row counts, vectorised: no Python loop over rows or windows.

Windows are half-open, ``[start, end)``. Tumbling windows (``every`` alone) cover the data's time
range without gaps, empty windows included, so a monitor shows a gap as a window with 0 rows.
Rolling windows (``every`` longer than ``step``) overlap, and a row belongs to each window that
covers it.

How rows find their windows: a tumbling window's id is ``floor((t - origin) / every)`` when
windows have one length in nanoseconds, else a binary search of ``t`` among the window starts;
the rows of each window then come from one stable sort of the ids, which NumPy runs as a radix
sort (linear time) while ids fit in 16 bits, and only when asked for. Rolling windows sort the
times once; each window is then a contiguous slice of that order, found by a binary search of
its start and end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._calendar import check_count, wall_starts
from modelyard.drift._calendar import ends as calendar_ends
from modelyard.drift._every import DAY, Every, parse_every
from modelyard.drift._times import read_times, to_utc, to_wall
from modelyard.errors import DriftInputError, InputError

__all__ = ["Windows", "windows"]


class Windows:
    """Windows over the rows of one dataset, and which rows fall in each.

    Attributes:
        kind: ``"time"`` or ``"rows"``.
        start: per window, where it starts: ``datetime64[ns]`` instants for time windows (UTC
            when the times carry a time zone, named by ``timezone``), row positions for count
            windows.
        end: per window, where it ends (excluded: a window is ``[start, end)``).
        rows: rows per window (``int64``); 0 for an empty window inside the range.
        missing: positions of rows without a time; they are in no window.
        overlapping: whether a row can be in more than one window (rolling windows).
        every: the length of a window, as given.
        step: how far apart windows start, as given (``every`` for tumbling windows).
        timezone: the time zone of the times, or None for naive times.

    Example:
        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> ts = np.array(["2026-01-01T10", "2026-01-03T09", "2026-01-01T23", "NaT"],
        ...               dtype="datetime64[ns]")
        >>> w = drift.windows(ts, every="1D")
        >>> w
        Windows(3 time windows of 1D from 2026-01-01T00:00:00 to 2026-01-04T00:00:00,
                3 rows, 1 without a time)
        >>> w.rows.tolist(), w.ids().tolist(), w.indices(0).tolist(), w.missing.tolist()
        ([2, 0, 1], [0, 2, 0, -1], [0, 2], [3])
    """

    def __init__(
        self,
        *,
        kind: Literal["time", "rows"],
        start: NDArray[Any],
        end: NDArray[Any],
        length: int,
        missing: NDArray[np.int64],
        timezone: str | None,
        every: str,
        step: str,
        ids: NDArray[np.int64] | None = None,
        order: NDArray[np.int64] | None = None,
        lo: NDArray[np.int64] | None = None,
        hi: NDArray[np.int64] | None = None,
        counts: NDArray[np.int64] | None = None,
    ) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.missing = missing
        self.timezone = timezone
        self.every = every
        self.step = step
        self._length = length  # rows in the data, windowed or not
        self._ids = ids
        self._order = order
        self._lo = lo
        self._hi = hi
        if counts is None:
            assert lo is not None and hi is not None
            counts = (hi - lo).astype(np.int64)
        self.rows: NDArray[np.int64] = counts
        # Read-only: indices() hands out views, and a caller's edit must not move rows between
        # windows behind the object's back.
        for array in (start, end, missing, counts, ids, order):
            if array is not None:
                array.setflags(write=False)
        self.overlapping = bool(len(start) > 1 and np.any(end[:-1] > start[1:]))

    @property
    def data_rows(self) -> int:
        """Rows in the data the windows were built over, in a window or not."""
        return self._length

    def __len__(self) -> int:
        return len(self.start)

    def __repr__(self) -> str:
        shape = "rolling " if self.overlapping else ""
        size = f"every={self.every}, step={self.step}" if self.every != self.step else self.every
        if len(self) == 0:
            span = "no windows"
        elif self.kind == "time":
            first, last = np.datetime_as_string(np.array([self.start[0], self.end[-1]]), unit="s")
            span = f"from {first} to {last}"
            if self.timezone:
                span += f" UTC ({self.timezone})"
        else:
            span = f"over rows {self.start[0]} to {self.end[-1]}"
        text = (
            f"Windows({len(self)} {shape}{self.kind} windows of {size} {span}, "
            f"{self._length - len(self.missing)} rows"
        )
        if self.kind == "time":
            text += f", {len(self.missing)} without a time"
        return text + ")"

    def ids(self) -> NDArray[np.int64]:
        """The window of every row (``-1`` for a row in no window), for windows that do not
        overlap; rolling windows raise :class:`~modelyard.errors.DriftInputError`, use
        :meth:`memberships` instead."""
        if self.overlapping:
            raise DriftInputError(
                "rolling windows overlap, so a row can be in several windows and has no single "
                "window id; use memberships() or csr() instead",
            )
        if self._ids is None:
            ids = np.full(self._length, -1, dtype=np.int64)
            window, row = self.memberships()
            ids[row] = window
            ids.setflags(write=False)
            self._ids = ids
        return self._ids

    def _slices(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        if self._order is None:
            assert self._ids is not None
            # Ids shifted by one (rows without a window sort first) and narrowed to 16 bits
            # where they fit, because NumPy's stable sort of 16-bit integers is a radix sort.
            shifted = self._ids + 1
            if len(self) + 1 < 2**15:
                shifted = shifted.astype(np.int16)
            self._order = np.argsort(shifted, kind="stable").astype(np.int64, copy=False)
            self._order.setflags(write=False)
            outside = self._length - int(self.rows.sum())
            self._hi = outside + np.cumsum(self.rows)
            self._lo = self._hi - self.rows
        assert self._lo is not None and self._hi is not None
        return self._order, self._lo, self._hi

    def indices(self, window: int) -> NDArray[np.int64]:
        """The row positions in one window: in data order for tumbling and count windows, in
        time order for rolling windows."""
        if not -len(self) <= window < len(self):
            raise DriftInputError(
                f"window {window} does not exist; there are {len(self)} windows", window=window
            )
        order, lo, hi = self._slices()
        return order[lo[window] : hi[window]]

    def memberships(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(window, row)`` pairs, one per row and window it is in, grouped by window."""
        order, lo, hi = self._slices()
        total = int(self.rows.sum())
        window = np.repeat(np.arange(len(self), dtype=np.int64), self.rows)
        if not self.overlapping and total and int(hi[-1]) - int(lo[0]) == total:
            return window, order[lo[0] : hi[-1]]
        first = np.cumsum(self.rows) - self.rows
        position = np.arange(total, dtype=np.int64) + np.repeat(lo - first, self.rows)
        return window, order[position]

    def csr(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(offsets, indices)``: window ``i`` holds ``indices[offsets[i]:offsets[i + 1]]``."""
        offsets = np.concatenate([[0], np.cumsum(self.rows)]).astype(np.int64)
        return offsets, self.memberships()[1]

    def to_pandas(self) -> Any:
        """One row per window: ``window``, ``start``, ``end``, ``rows``."""
        import pandas as pd

        start: Any = self.start
        end: Any = self.end
        if self.kind == "time":
            start, end = pd.DatetimeIndex(start), pd.DatetimeIndex(end)
            if self.timezone:
                start = start.tz_localize("UTC").tz_convert(self.timezone)
                end = end.tz_localize("UTC").tz_convert(self.timezone)
        return pd.DataFrame(
            {"window": np.arange(len(self)), "start": start, "end": end, "rows": self.rows}
        )


def _row_count(data: Any) -> int:
    if isinstance(data, Mapping):
        return len(next(iter(data.values()))) if data else 0
    if hasattr(data, "num_rows"):
        return int(data.num_rows)
    if hasattr(data, "shape"):
        return int(data.shape[0])
    try:
        return len(data)
    except TypeError:
        raise DriftInputError(
            f"cannot count the rows of a {type(data).__name__}; pass a DataFrame, a pyarrow "
            "Table or an array",
            type_name=type(data).__name__,
        ) from None


def _count_windows(data: Any, rows: object, step: object) -> Windows:
    size = _positive_int(rows, "rows")
    stride = size if step is None else _positive_int(step, "step")
    length = _row_count(data)
    start = np.arange(0, length, stride, dtype=np.int64)
    end = np.minimum(start + size, length)
    return Windows(
        kind="rows",
        start=start,
        end=end,
        length=length,
        missing=np.empty(0, dtype=np.int64),
        timezone=None,
        every=str(size),
        step=str(stride),
        order=np.arange(length, dtype=np.int64),
        lo=start,
        hi=end,
    )


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name}={value!r} must be a whole number of rows, at least 1")
    return int(value)


def _time_windows(data: Any, time: str | None, every: object, step: object, anchor: str) -> Windows:
    length = parse_every(every)
    stride = length if step is None else parse_every(step, name="step")
    if anchor not in ("calendar", "first"):
        raise InputError(f"anchor={anchor!r} must be 'calendar' or 'first'")
    times = read_times(data, time)
    values, timezone = times.values, times.timezone
    missing = np.flatnonzero(times.missing).astype(np.int64)
    valid = values if not len(missing) else values[~times.missing]
    if len(valid) == 0:
        empty = np.empty(0, dtype="datetime64[ns]")
        none = np.empty(0, dtype=np.int64)
        return Windows(
            kind="time",
            start=empty,
            end=empty,
            length=len(values),
            missing=missing,
            timezone=timezone,
            every=length.text,
            step=stride.text,
            ids=np.full(len(values), -1, dtype=np.int64),
            counts=none,
        )
    lo, hi = int(valid.min()), int(valid.max())
    if stride.calendar:
        wall_lo, wall_hi = to_wall(np.array([lo, hi], dtype=np.int64), timezone)
        wall = wall_starts(int(wall_lo), int(wall_hi), stride, anchor)
        starts = to_utc(wall, timezone)
    else:
        wall = None
        if anchor == "first":
            origin = lo
        else:
            # Fixed steps count from the local midnight of the first day, as pandas' resample
            # does by default (origin="start_day").
            wall_lo = int(to_wall(np.array([lo], dtype=np.int64), timezone)[0])
            origin = int(to_utc(np.array([(wall_lo // DAY) * DAY], dtype=np.int64), timezone)[0])
        first, last = (lo - origin) // stride.nanos, (hi - origin) // stride.nanos
        check_count(last - first + 1, stride)
        starts = origin + np.arange(first, last + 1, dtype=np.int64) * stride.nanos
    ends = calendar_ends(starts, wall, length, stride, timezone)
    common: dict[str, Any] = {
        "kind": "time",
        "start": starts.view("datetime64[ns]"),
        "end": ends.view("datetime64[ns]"),
        "length": len(values),
        "missing": missing,
        "timezone": timezone,
        "every": length.text,
        "step": stride.text,
    }
    if length.same_length(stride):
        return Windows(**common, **_tumbling(values, times.missing, starts, stride, timezone))
    order = np.argsort(np.where(times.missing, np.iinfo(np.int64).min, values))
    ordered = values[order]
    # Rows without a time sort first, below every window start, so no slice reaches them.
    lo_index = np.searchsorted(ordered, starts, side="left").astype(np.int64)
    hi_index = np.searchsorted(ordered, ends, side="left").astype(np.int64)
    lo_index = np.maximum(lo_index, len(missing))
    hi_index = np.maximum(hi_index, lo_index)
    return Windows(**common, order=order.astype(np.int64), lo=lo_index, hi=hi_index)


def _tumbling(
    values: NDArray[np.int64],
    missing: NDArray[np.bool_],
    starts: NDArray[np.int64],
    stride: Every,
    timezone: str | None,
) -> dict[str, Any]:
    uniform = stride.nanos if not stride.calendar else 0
    if stride.days and timezone is None:
        uniform = stride.days * DAY
    if uniform:
        ids = (values - starts[0]) // uniform
    else:
        ids = np.searchsorted(starts, values, side="right").astype(np.int64) - 1
    if missing.any():
        ids[missing] = -1
    counts = np.bincount(ids + 1, minlength=len(starts) + 1)[1:].astype(np.int64)
    return {"ids": ids, "counts": counts}


def windows(
    data: Any,
    *,
    time: str | None = None,
    every: object = None,
    step: object = None,
    rows: int | None = None,
    anchor: Literal["calendar", "first"] = "calendar",
) -> Windows:
    """Split the rows of ``data`` into windows of time or of row counts.

    Args:
        data: a pandas DataFrame, pyarrow Table or mapping with a time column named by ``time``;
            or the times themselves (NumPy ``datetime64``, a pandas Series or index, a pyarrow
            array); or, for count windows, anything with a length.
        time: the name of the time column.
        every: the length of a time window: ``"15min"``, ``"1h"``, ``"1D"``, ``"1W"``,
            ``"1M"``, ``"1Q"``, ``"1Y"`` or a ``datetime.timedelta``.
        step: how far apart windows start (default ``every``: tumbling windows). A step shorter
            than ``every`` makes rolling windows that overlap (``every="7D", step="1D"``).
        rows: the length of a count window in rows, taken in data order (``step`` is then a
            number of rows too).
        anchor: ``"calendar"`` (default) aligns windows on the calendar: days start at
            midnight (in the data's time zone, or of the naive times as given), weeks on Monday,
            months on the 1st, 3M windows on quarters; steps shorter than a day count from
            midnight of the first day. ``"first"`` starts the first window at the first time.

    Windows run from the one holding the earliest time to the one holding the latest; empty
    windows between them are kept with 0 rows. Rows without a time are in no window and are
    listed in :attr:`Windows.missing`.

    Raises:
        InputError: for a missing, unknown or contradictory ``every``, ``step`` or ``rows``.
        ColumnMismatchError: when ``time`` names no column.
        ColumnTypeError: when the times are not datetimes.

    Example:
        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> frame = pd.DataFrame({"ts": pd.date_range("2026-03-28", periods=4, freq="D",
        ...                                           tz="Europe/Paris")})
        >>> w = drift.windows(frame, time="ts", every="2D", step="1D")
        >>> w.to_pandas()
           window                     start                       end  rows
        0       0 2026-03-28 00:00:00+01:00 2026-03-30 00:00:00+02:00     2
        1       1 2026-03-29 00:00:00+01:00 2026-03-31 00:00:00+02:00     2
        2       2 2026-03-30 00:00:00+02:00 2026-04-01 00:00:00+02:00     2
        3       3 2026-03-31 00:00:00+02:00 2026-04-02 00:00:00+02:00     1
    """
    if (every is None) == (rows is None):
        raise InputError(
            "pass either every= (time windows, with time=) or rows= (count windows), not "
            f"{'both' if rows is not None else 'neither'}"
        )
    if rows is not None:
        if time is not None:
            raise InputError(
                "rows= makes windows of row counts in data order and takes no time=; sort the "
                "data by time first, or use every= for time windows"
            )
        return _count_windows(data, rows, step)
    return _time_windows(data, time, every, step, anchor)
