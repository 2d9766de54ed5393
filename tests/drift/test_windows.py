"""Window assignment against a naive loop over rows and against pandas' resample."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import modelyard.drift as drift
from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError, InputError

DAY = np.timedelta64(1, "D")


def random_times(rng: np.random.Generator, n: int, days: float = 20.0) -> np.ndarray:
    start = np.datetime64("2026-01-05T07:13:00", "ns")
    offsets = rng.uniform(0, days * 86_400e9, size=n).astype(np.int64)
    times = start + offsets.astype("timedelta64[ns]")
    times[rng.random(n) < 0.05] = np.datetime64("NaT")
    return times


def naive_memberships(times: np.ndarray, w: drift.Windows) -> list[list[int]]:
    """A plain loop over windows and rows: the definition of ``[start, end)``."""
    members: list[list[int]] = []
    for start, end in zip(w.start, w.end, strict=True):
        members.append([i for i, t in enumerate(times) if not np.isnat(t) and start <= t < end])
    return members


def as_lists(w: drift.Windows) -> list[list[int]]:
    return [sorted(w.indices(j).tolist()) for j in range(len(w))]


@pytest.mark.parametrize(
    ("every", "step", "anchor"),
    [
        ("1D", None, "calendar"),
        ("1h", None, "calendar"),
        ("15min", None, "calendar"),
        ("2D", None, "calendar"),
        ("1W", None, "calendar"),
        ("1M", None, "calendar"),
        ("1D", None, "first"),
        ("7h", None, "first"),
        ("3D", "1D", "calendar"),
        ("1D", "6h", "calendar"),
        ("2h", "1D", "calendar"),  # shorter than the step: gaps between windows
        ("1W", "1D", "first"),
    ],
)
def test_rows_fall_in_exactly_the_windows_that_cover_them(
    every: str, step: str | None, anchor: str
) -> None:
    rng = np.random.default_rng(len(every) * 7 + len(step or ""))
    times = random_times(rng, 300)
    w = drift.windows(times, every=every, step=step, anchor=anchor)  # type: ignore[arg-type]
    expected = naive_memberships(times, w)
    assert as_lists(w) == expected
    assert w.rows.tolist() == [len(m) for m in expected]
    assert w.missing.tolist() == np.flatnonzero(np.isnat(times)).tolist()
    valid = times[~np.isnat(times)]
    # The windows span the data: the first starts at or before the earliest time, the last
    # holds the latest (windows shorter than their step leave gaps, so not every row is in one).
    assert w.start[0] <= valid.min()
    assert w.start[-1] <= valid.max()
    if every != "2h":
        assert w.start[0] <= valid.min() < w.end[0]
        assert valid.max() < w.end[-1]
    else:
        assert valid.min() < w.start[0] + DAY
    window, row = w.memberships()
    assert sorted(zip(window.tolist(), row.tolist(), strict=True)) == sorted(
        (j, i) for j, members in enumerate(expected) for i in members
    )
    offsets, indices = w.csr()
    assert [sorted(indices[offsets[j] : offsets[j + 1]].tolist()) for j in range(len(w))] == (
        expected
    )
    if not w.overlapping:
        ids = w.ids()
        for j, members in enumerate(expected):
            assert (ids[members] == j).all()
        assert (ids >= 0).sum() == sum(len(m) for m in expected)


@pytest.mark.parametrize(
    ("every", "freq", "extra"),
    [
        ("1D", "1D", {}),
        ("1h", "1h", {}),
        ("15min", "15min", {}),
        ("3D", "3D", {}),
        ("5h", "5h", {}),
        ("1W", "W-MON", {"closed": "left", "label": "left"}),
        ("1M", "MS", {}),
        ("3M", "QS-JAN", {}),
    ],
)
@pytest.mark.parametrize("tz", [None, "Europe/Paris", "America/New_York"])
def test_tumbling_windows_agree_with_pandas_resample(
    every: str, freq: str, extra: dict[str, str], tz: str | None
) -> None:
    rng = np.random.default_rng(3)
    # Across both daylight-saving changes of 2026, so local days of 23 and 25 hours occur.
    offsets = rng.uniform(0, 330 * 86_400e9 if "M" in every else 30 * 86_400e9, 3000)
    base = pd.Timestamp("2026-03-01 05:00") if "M" in every else pd.Timestamp("2026-03-20 05:00")
    index = pd.DatetimeIndex(base + pd.to_timedelta(offsets.astype(np.int64), unit="ns"))
    if tz is not None:
        index = index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dropna()
    series = pd.Series(np.ones(len(index)), index=index)
    expected = series.resample(freq, **extra).count()  # type: ignore[call-overload]
    w = drift.windows(pd.Series(index), every=every)
    frame = w.to_pandas()
    assert frame["rows"].tolist() == expected.tolist()
    assert list(frame["start"]) == list(expected.index)
    assert w.timezone == tz


def test_tumbling_windows_agree_with_pandas_in_the_autumn_change_too() -> None:
    index = pd.date_range("2026-10-20", "2026-11-10", freq="37min", tz="Europe/Paris")
    w = drift.windows(pd.Series(index), every="1D")
    expected = pd.Series(1, index=index).resample("1D").count()
    assert w.rows.tolist() == expected.tolist()
    lengths = (w.end - w.start) / np.timedelta64(1, "h")
    assert sorted(set(lengths.tolist())) == [24.0, 25.0]


def test_empty_windows_inside_the_range_are_kept() -> None:
    times = np.array(["2026-01-01T05", "2026-01-04T05"], dtype="datetime64[ns]")
    w = drift.windows(times, every="1D")
    assert w.rows.tolist() == [1, 0, 0, 1]
    assert w.indices(1).tolist() == []
    assert w.start.tolist() == (np.datetime64("2026-01-01", "ns") + np.arange(4) * DAY).tolist()


def test_time_zones_pandas_arrow_and_numpy_give_the_same_windows() -> None:
    index = pd.date_range("2026-03-27 20:00", periods=200, freq="17min", tz="Europe/Paris")
    frame = pd.DataFrame({"ts": index, "x": np.arange(200)})
    from_pandas = drift.windows(frame, time="ts", every="1D")
    from_arrow = drift.windows(pa.Table.from_pandas(frame), time="ts", every="1D")
    from_mapping = drift.windows({"ts": index}, time="ts", every="1D")
    for w in (from_arrow, from_mapping):
        assert w.rows.tolist() == from_pandas.rows.tolist()
        assert (w.start == from_pandas.start).all()
        assert w.timezone == "Europe/Paris"
    # Local midnight, not UTC midnight: the first window starts at 2026-03-27 00:00 +01:00.
    assert from_pandas.start[0] == np.datetime64("2026-03-26T23:00", "ns")
    # Naive times are taken as they are: the same wall clock without a zone.
    naive = drift.windows(index.tz_localize(None).to_numpy(), every="1D")
    assert naive.timezone is None
    assert naive.start[0] == np.datetime64("2026-03-27T00:00", "ns")


def test_missing_times_are_reported_not_dropped_silently() -> None:
    times = pd.Series(pd.to_datetime(["2026-01-01", None, "2026-01-02", None]))
    w = drift.windows(times, every="1D")
    assert w.missing.tolist() == [1, 3]
    assert w.ids().tolist() == [0, -1, 1, -1]
    assert "2 without a time" in repr(w)
    arrow = drift.windows(pa.array([None, datetime.datetime(2026, 1, 1)]), every="1h")
    assert arrow.missing.tolist() == [0]
    nothing = drift.windows(np.array(["NaT"], dtype="datetime64[ns]"), every="1D")
    assert len(nothing) == 0 and nothing.missing.tolist() == [0]


def test_count_windows_follow_the_row_order() -> None:
    w = drift.windows(np.zeros((10, 2)), rows=3)
    assert w.kind == "rows"
    assert w.start.tolist() == [0, 3, 6, 9] and w.end.tolist() == [3, 6, 9, 10]
    assert w.rows.tolist() == [3, 3, 3, 1]
    assert w.ids().tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    rolling = drift.windows(pd.DataFrame({"a": range(10)}), rows=4, step=2)
    assert rolling.overlapping
    assert [rolling.indices(j).tolist() for j in range(len(rolling))] == [
        [0, 1, 2, 3],
        [2, 3, 4, 5],
        [4, 5, 6, 7],
        [6, 7, 8, 9],
        [8, 9],
    ]
    with pytest.raises(DriftInputError, match="memberships"):
        rolling.ids()


def test_rolling_windows_put_a_row_in_several_windows() -> None:
    times = np.array(["2026-01-01T12", "2026-01-02T12", "2026-01-03T12"], dtype="datetime64[ns]")
    w = drift.windows(times, every="2D", step="1D")
    assert [w.indices(j).tolist() for j in range(len(w))] == [[0, 1], [1, 2], [2]]


def test_anchor_first_starts_at_the_first_time() -> None:
    times = np.array(["2026-01-01T10:30", "2026-01-02T10:29", "2026-01-02T10:30"], dtype="M8[ns]")
    w = drift.windows(times, every="1D", anchor="first")
    assert w.start[0] == times[0]
    assert w.rows.tolist() == [2, 1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"every": "1D", "rows": 5}, InputError, "not both"),
        ({}, InputError, "not neither"),
        ({"every": "5m"}, InputError, "'5min' for minutes or '5M' for months"),
        ({"every": "1 fortnight"}, InputError, "unknown unit"),
        ({"every": "0D"}, InputError, "at least one unit"),
        ({"every": 3}, InputError, "not a duration"),
        ({"every": "1M", "anchor": "first"}, InputError, "anchor='first'"),
        ({"every": "1M", "step": "1D"}, InputError, "must also step by months"),
        ({"every": "1D", "anchor": "start"}, InputError, "'calendar' or 'first'"),
        ({"every": "1ns"}, InputError, "more than 1,000,000"),
        ({"rows": 0}, InputError, "at least 1"),
        ({"rows": 5, "time": "ts"}, InputError, "sort the data by time"),
        ({"every": "1D", "time": "when"}, ColumnMismatchError, "no time column 'when'"),
        ({"every": "1D", "time": "x"}, ColumnTypeError, "must be datetimes"),
    ],
)
def test_bad_arguments_get_clear_errors(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    frame = pd.DataFrame(
        {"ts": pd.date_range("2026-01-01", periods=5, freq="D"), "x": np.arange(5)}
    )
    data = frame if "time" in kwargs else frame["ts"]
    with pytest.raises(error, match=match):
        drift.windows(data, **kwargs)  # type: ignore[arg-type]


def test_epoch_numbers_are_refused_with_a_hint() -> None:
    with pytest.raises(ColumnTypeError, match="unit='s'"):
        drift.windows(np.arange(10), every="1D")


def test_a_missing_window_index_is_an_error() -> None:
    w = drift.windows(np.zeros(4), rows=2)
    with pytest.raises(DriftInputError, match="there are 2 windows"):
        w.indices(2)


@pytest.mark.parametrize(
    ("tz", "first_day"),
    [
        (
            "America/Sao_Paulo",
            "2018-10-30",
        ),  # 2018-11-04 00:00 never happened: clocks went to 01:00
        ("America/Havana", "2026-10-28"),  # 2026-11-01 00:00-01:00 happened twice
        ("Australia/Lord_Howe", "2026-03-30"),  # a half-hour change
        ("Asia/Kolkata", "2026-03-30"),  # no change, a half-hour offset
    ],
)
def test_each_row_lands_in_the_window_of_its_local_calendar_day(tz: str, first_day: str) -> None:
    instants = pd.date_range(first_day, periods=10 * 24 * 4, freq="15min", tz="UTC")
    local = pd.Series(instants.tz_convert(tz))
    w = drift.windows(local, every="1D")
    frame = w.to_pandas()
    days = local.dt.tz_localize(None).dt.normalize()
    window_day = frame["start"].dt.tz_localize(None).dt.normalize().to_numpy()[w.ids()]
    assert (window_day == days.to_numpy()).all()
    # Consecutive windows meet: every local day is one window, none overlap, none is skipped.
    assert (w.end[:-1] == w.start[1:]).all()
    assert len(w) == days.nunique()


def test_chunked_arrow_times_and_pre_1970_dates() -> None:
    chunked = pa.chunked_array(
        [
            pa.array([datetime.datetime(1969, 12, 31, 23)]),
            pa.array([None, datetime.datetime(1970, 1, 1, 1)]),
        ]
    )
    w = drift.windows(chunked, every="1D")
    assert w.ids().tolist() == [0, -1, 1]
    assert w.start[0] == np.datetime64("1969-12-31", "ns")
    months = drift.windows(np.array(["1969-11-15", "1970-02-01"], dtype="M8[ns]"), every="1M")
    assert months.rows.tolist() == [1, 0, 0, 1]
    assert months.start[0] == np.datetime64("1969-11-01", "ns")


def test_windows_cannot_be_edited_through_the_arrays_they_hand_out() -> None:
    times = np.array(["2026-01-01T05", "2026-01-02T05", "2026-01-02T06"], dtype="M8[ns]")
    w = drift.windows(times, every="1D")
    for array in (w.rows, w.start, w.end, w.ids(), w.indices(1), w.missing):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    assert w.indices(1).tolist() == [1, 2]
