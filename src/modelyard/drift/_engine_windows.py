"""What the Dask and Spark monitors share: the checks, the window grid, one partition's window
profiles, and the judging of the merged windows on the driver.

The grid is built once on the driver from the time range of the whole data (one cheap pass over
the time column): the window code of :func:`modelyard.drift.windows` run on the two extreme times
gives the same starts and ends as on the whole column, because a grid depends only on the range,
the time zone and the arguments. Each partition then finds every row's windows by a binary
search of its time among the starts and ends (a row is in every window with
``start <= t < end``, so rolling windows share rows), profiles each window's rows with the
reference's columns and kinds on the calling thread, and ships ``{window: profile bytes}``. The
driver merges each window's parts flat and judges it with :func:`modelyard.drift.compare`, which
takes a current profile, so a window's verdicts are those of ``compare`` on its rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._compare import StatsArg, _plan, _selected
from modelyard.drift._compare import compare as compare_profiles
from modelyard.drift._config import DriftConfig, Statistic
from modelyard.drift._engine import Settings, exact_memory_warning
from modelyard.drift._monitor import _empty_column, _window_verdict, monitor_config
from modelyard.drift._monitoring import Monitoring, WindowColumn, WindowDrift
from modelyard.drift._profile import DriftProfile, merge
from modelyard.drift._times import read_times
from modelyard.drift._warnings import DriftWarning
from modelyard.drift._window_args import window_bounds
from modelyard.drift._windows import Windows
from modelyard.drift._windows import windows as make_windows
from modelyard.errors import DriftInputError, EmptyDataError, InputError

__all__ = [
    "Gathered",
    "Grid",
    "Plan",
    "Range",
    "WindowPart",
    "check_time",
    "gather",
    "grid_of",
    "judge",
    "plan",
    "time_range",
    "window_part",
]

Anchor = Literal["calendar", "first"]


@dataclass(frozen=True)
class Plan:
    """Everything checked before any task runs: how partitions are profiled and judged."""

    reference: DriftProfile
    settings: Settings
    time: str
    every: object
    step: object
    anchor: Anchor
    config: DriftConfig
    stats: StatsArg
    columns: tuple[str, ...] | None
    chosen: dict[str, tuple[Statistic, ...]]

    @property
    def read_columns(self) -> list[str]:
        """What a partition reads: the profiled columns and the time column."""
        names = self.settings.read_columns
        return names if self.time in names else [*names, self.time]


def plan(
    reference: object,
    *,
    time: object,
    every: object,
    step: object,
    anchor: Anchor,
    sample_size: int | None,
    stats: StatsArg,
    thresholds: Mapping[str, float] | None,
    columns: Sequence[str] | None,
    config: DriftConfig | str | None,
    engine: str,
) -> Plan:
    """Check the arguments as :func:`modelyard.drift.monitor` does, before any data is read."""
    if not isinstance(reference, DriftProfile):
        raise DriftInputError(
            f"reference must be a DriftProfile, got {type(reference).__name__}; profile the "
            f"reference data first (modelyard.drift.{engine}.profile)"
        )
    if not isinstance(time, str):
        raise InputError(
            f"time= must name the data's time column, got {type(time).__name__}; the windows "
            "are cut by the values of that column"
        )
    if every is None:
        raise InputError(
            "every= is needed: the length of a time window ('1h', '1D', '7D', '1M', ...)"
        )
    # Parses every, step and anchor with the window code's own checks and messages.
    make_windows(np.empty(0, dtype="datetime64[ns]"), every=every, step=step, anchor=anchor)
    cfg = monitor_config(config, thresholds)
    names = reference.columns if columns is None else _selected(reference, columns)
    chosen = _plan(stats, names, [reference.column_kinds[n] for n in names], cfg)
    settings = Settings.build(
        bins=reference.bins,
        binning=reference.binning,
        sample_size=sample_size,
        kinds=reference,
        columns=None if columns is None else list(names),
    )
    return Plan(
        reference=reference,
        settings=settings,
        time=time,
        every=every,
        step=step,
        anchor=anchor,
        config=cfg,
        stats=stats,
        columns=None if columns is None else tuple(names),
        chosen=chosen,
    )


def check_time(empty: Any, time: str) -> str | None:
    """Refuse a missing or non-time time column of a table's schema (an empty pandas frame or
    Arrow table); the time zone of the column."""
    return read_times(empty, time).timezone


@dataclass(frozen=True)
class Range:
    """One partition's (or the whole data's) time range and row counts."""

    rows: int = 0
    missing: int = 0
    low: int | None = None
    high: int | None = None

    def __add__(self, other: Range) -> Range:
        lows = [v for v in (self.low, other.low) if v is not None]
        highs = [v for v in (self.high, other.high) if v is not None]
        return Range(
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            low=min(lows) if lows else None,
            high=max(highs) if highs else None,
        )


def time_range(table: Any, time: str) -> Range:
    """The range of one partition's time column (an Arrow table or pandas frame)."""
    times = read_times(table, time)
    valid = times.values[~times.missing]
    if not len(valid):
        return Range(rows=len(times.values), missing=len(times.values))
    return Range(
        rows=len(times.values),
        missing=int(times.missing.sum()),
        low=int(valid.min()),
        high=int(valid.max()),
    )


@dataclass(frozen=True)
class Grid:
    """The windows of the whole data: starts and ends as UTC nanoseconds, and how they were
    asked for."""

    windows: Windows
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]

    @staticmethod
    def build(found: Range, timezone: str | None, plan: Plan) -> Grid:
        """The grid :func:`modelyard.drift.windows` gives a column with this range."""
        import pandas as pd

        extremes = [] if found.low is None or found.high is None else [found.low, found.high]
        index = pd.DatetimeIndex(np.array(extremes, dtype=np.int64).view("datetime64[ns]"))
        if timezone is not None:
            index = index.tz_localize("UTC").tz_convert(timezone)
        built = make_windows(index, every=plan.every, step=plan.step, anchor=plan.anchor)
        return Grid(
            windows=built,
            starts=np.asarray(built.start.view(np.int64)),
            ends=np.asarray(built.end.view(np.int64)),
        )

    def __len__(self) -> int:
        return len(self.starts)

    def copies(self) -> float:
        """How many windows a moment of the covered time falls in, on average: 1 for tumbling
        windows, about ``every / step`` for rolling ones (each of their profiles holds its rows)."""
        if len(self) == 0:  # no row has a time
            return 1.0
        span = int(self.ends.max()) - int(self.starts.min())  # > 0: every window has a length
        return max(1.0, float((self.ends - self.starts).sum()) / span)


@dataclass
class WindowPart:
    """One partition's share: each non-empty window's rows and profile bytes, the rows without a
    time, and the rows with a time but in no window (a gap between windows)."""

    rows: int = 0
    missing: int = 0
    unplaced: int = 0
    windows: dict[int, tuple[int, bytes]] = field(default_factory=dict)

    def records(self) -> list[tuple[int, int, bytes | None]]:
        """As ``(window, rows, profile)`` rows, for an engine that ships tables: the counts ride
        on negative window numbers."""
        out: list[tuple[int, int, bytes | None]] = [
            (-1, self.rows, None),
            (-2, self.missing, None),
            (-3, self.unplaced, None),
        ]
        out.extend((w, n, encoded) for w, (n, encoded) in self.windows.items())
        return out


def window_part(table: Any, plan: Plan, grid: Grid) -> WindowPart:
    """Profile every window's rows of one partition (an Arrow table with the read columns)."""
    times = read_times(table, plan.time)
    length = len(times.values)
    if not length or not len(grid):
        return WindowPart(rows=length, missing=int(times.missing.sum()), unplaced=0)
    # Windows [first, last) hold t: first is the first window that ends after t, last the
    # first that starts after it; starts and ends both ascend.
    first = np.searchsorted(grid.ends, times.values, side="right")
    last = np.searchsorted(grid.starts, times.values, side="right")
    counts = np.where(times.missing, 0, np.maximum(last - first, 0)).astype(np.int64)
    missing = int(times.missing.sum())
    unplaced = int(np.count_nonzero(counts == 0)) - missing
    total = int(counts.sum())
    rows = np.repeat(np.arange(length, dtype=np.int64), counts)
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    window = np.repeat(first, counts) + offset
    order = np.argsort(window, kind="stable")
    window, rows = window[order], rows[order]
    bounds = np.flatnonzero(np.diff(window)) + 1
    profiled = table.select(plan.settings.read_columns)
    out = WindowPart(rows=length, missing=missing, unplaced=unplaced)
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), total], strict=True):
        if lo == hi:
            continue
        first_row, last_row = int(rows[lo]), int(rows[hi - 1])
        if last_row - first_row == hi - lo - 1:
            # A run of consecutive rows (files written in time order): a copy-free slice.
            taken = profiled.slice(first_row, hi - lo)
        else:
            taken = profiled.take(rows[lo:hi])
        encoded = plan.settings.profile_bytes(taken.to_batches())
        assert encoded is not None
        out.windows[int(window[lo])] = (hi - lo, encoded)
    return out


@dataclass
class Gathered:
    """Every partition's share: the row counts, and each window's rows and profile parts (kept
    apart for one flat merge)."""

    rows: int = 0
    missing: int = 0
    unplaced: int = 0
    windows: dict[int, tuple[int, list[bytes]]] = field(default_factory=dict)

    def add(self, window: int, rows: int, encoded: bytes | None) -> None:
        """One ``(window, rows, profile)`` record of :meth:`WindowPart.records`."""
        if window == -1:
            self.rows += rows
        elif window == -2:
            self.missing += rows
        elif window == -3:
            self.unplaced += rows
        else:
            assert encoded is not None
            count, pieces = self.windows.get(window, (0, []))
            pieces.append(encoded)
            self.windows[window] = (count + rows, pieces)


def gather(records: Iterable[tuple[int, int, bytes | None]]) -> Gathered:
    """Every partition's records, summed."""
    total = Gathered()
    for window, rows, encoded in records:
        total.add(window, rows, encoded)
    return total


def grid_of(found: Range, timezone: str | None, plan: Plan) -> Grid:
    """The windows of the whole data, from its time range, once it is known to hold rows; in
    exact mode, after warning of the memory the windows' profiles will take."""
    if found.rows == 0:
        raise EmptyDataError("the data has no rows; there is nothing to monitor")
    grid = Grid.build(found, timezone, plan)
    if plan.settings.sample_size is None:
        columns = len(plan.settings.numeric_read_columns)
        exact_memory_warning(found.rows, columns, copies=grid.copies())
    return grid


def judge(plan: Plan, grid: Grid, total: Gathered) -> Monitoring:
    """Merge each window's parts and judge it against the reference, as ``monitor`` does (on
    data :func:`grid_of` found rows in)."""
    reference = plan.reference
    names = list(plan.chosen)
    kind_of = reference.column_kinds
    starts, ends = window_bounds(grid.windows)
    judged: list[WindowDrift] = []
    for w in range(len(grid)):
        rows, pieces = total.windows.get(w, (0, []))
        if not pieces:
            columns = tuple(
                _empty_column(n, kind_of[n], plan.chosen[n], plan.config) for n in names
            )
            verdict: Any = "insufficient data"
        else:
            columns = _judged_columns(plan, pieces)
            verdict = _window_verdict(columns)
        judged.append(
            WindowDrift(
                window=w, start=starts[w], end=ends[w], rows=rows, verdict=verdict, columns=columns
            )
        )
    built = grid.windows
    outside = total.missing if built.overlapping else total.missing + total.unplaced
    return Monitoring(
        kind="time",
        every=built.every,
        step=built.step,
        timezone=built.timezone,
        config=plan.config,
        reference_rows=reference.rows,
        data_rows=total.rows,
        outside_rows=outside,
        windows=tuple(judged),
    )


def _judged_columns(plan: Plan, pieces: Sequence[bytes]) -> tuple[WindowColumn, ...]:
    current = merge(*(DriftProfile.from_bytes(p) for p in pieces))
    with warnings.catch_warnings():
        # A window may hold a constant column; the verdicts say so, as monitor() does.
        warnings.simplefilter("ignore", DriftWarning)
        report = compare_profiles(
            plan.reference,
            current,
            stats=plan.stats,
            columns=plan.columns,
            config=plan.config,
        )
    return tuple(
        WindowColumn(
            name=c.name,
            kind=c.kind,
            verdict=c.verdict,
            reason=c.reason,
            current_count=c.current_count,
            current_missing=c.current_missing,
            statistics=c.statistics,
            bin_labels=c.bin_labels,
            reference_shares=c.reference_shares,
            current_shares=c.current_shares,
        )
        for c in report.columns
    )
