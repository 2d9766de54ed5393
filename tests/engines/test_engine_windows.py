"""The engine-independent half of monitoring on Dask and Spark: the window grid built from the
time range alone, and a partition's rows placed in windows by binary search, checked against
``drift.windows`` on the whole column (no engine needed)."""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import modelyard.drift as drift
from modelyard.drift._engine_windows import (
    Grid,
    Plan,
    Range,
    gather,
    grid_of,
    plan,
    time_range,
    window_part,
)
from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError, InputError

REFERENCE = drift.profile(pd.DataFrame({"x": np.arange(50.0)}), sample_size=None)


def _plan(every: object, step: object = None, anchor: str = "calendar", **changed: Any) -> Plan:
    arguments: dict[str, Any] = {
        "time": "ts",
        "every": every,
        "step": step,
        "anchor": anchor,
        "sample_size": None,
        "stats": None,
        "thresholds": None,
        "columns": None,
        "config": None,
        "engine": "dask",
    }
    return plan(changed.pop("reference", REFERENCE), **{**arguments, **changed})


def _times(timezone: str | None, seed: int = 0) -> pd.DataFrame:
    """Random times over about ten weeks across the spring clock change, a few of them NaT."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-03 17:23:11").value
    offsets = rng.integers(0, 70 * 86_400 * 10**9, size=500)
    ts = pd.Series(pd.to_datetime(start + offsets))
    ts[rng.random(500) < 0.02] = pd.NaT
    if timezone is not None:
        ts = ts.dt.tz_localize("UTC").dt.tz_convert(timezone)
    return pd.DataFrame({"ts": ts, "x": rng.normal(size=500)})


CASES = [
    ("1D", None, "calendar"),
    ("2D", "1D", "calendar"),
    ("7D", "1D", "calendar"),
    ("1W", None, "calendar"),
    ("1M", None, "calendar"),
    ("3M", "1M", "calendar"),
    ("6h", None, "first"),
    ("90min", "45min", "first"),
    ("5D", "7D", "calendar"),  # gaps between windows: rows there are in none
]
# Over 2,000 rolling windows, each profiled: slow.
PLACED = [pytest.param(*c, marks=pytest.mark.slow) if c[0] == "90min" else c for c in CASES]


@pytest.mark.parametrize("timezone", [None, "Europe/Paris", "America/New_York"])
@pytest.mark.parametrize(("every", "step", "anchor"), CASES)
def test_the_grid_from_the_range_is_the_grid_of_the_whole_column(
    timezone: str | None, every: str, step: str | None, anchor: str
) -> None:
    data = _times(timezone)
    want = drift.windows(data, time="ts", every=every, step=step, anchor=anchor)
    found = time_range(pa.Table.from_pandas(data, preserve_index=False), "ts")
    grid = Grid.build(found, timezone, _plan(every, step, anchor))
    assert np.array_equal(grid.windows.start, want.start)
    assert np.array_equal(grid.windows.end, want.end)
    assert (grid.windows.timezone, grid.windows.every, grid.windows.step) == (
        want.timezone,
        want.every,
        want.step,
    )
    assert grid.windows.overlapping == want.overlapping


@pytest.mark.parametrize(("every", "step", "anchor"), CASES)
def test_copies_is_how_many_windows_hold_a_row_on_average(
    every: str, step: str | None, anchor: str
) -> None:
    # What an exact monitor's memory warning multiplies by: rolling windows profile a row once
    # in each window that holds it. Against a count over the rows themselves (spread evenly
    # over the range, so the two agree up to the windows cut at its ends).
    data = _times(None, seed=2)
    table = pa.Table.from_pandas(data, preserve_index=False)
    grid = Grid.build(time_range(table, "ts"), None, _plan(every, step, anchor))
    ts = data["ts"].dropna().to_numpy().view(np.int64)
    holding = ((ts[:, None] >= grid.starts) & (ts[:, None] < grid.ends)).sum(axis=1)
    assert grid.copies() == pytest.approx(max(1.0, float(holding.mean())), rel=0.2)
    if step is None:
        assert grid.copies() == 1.0


def test_the_exact_memory_warning_counts_the_rows_rolling_windows_share() -> None:
    data = _times(None, seed=3)
    found = time_range(pa.Table.from_pandas(data, preserve_index=False), "ts")
    found = dataclasses.replace(found, rows=10_000_000)  # the same range, with many rows
    with pytest.warns(drift.DriftWarning, match=r"columns holds every value") as tumbling:
        grid_of(found, None, _plan("1D"))
    with pytest.warns(drift.DriftWarning, match=r"each row in \d\.\d windows") as rolling:
        grid = grid_of(found, None, _plan("7D", "1D"))

    def mib(caught: Any) -> float:
        return float(str(caught[0].message).split("about ")[1].split(" MiB")[0].replace(",", ""))

    assert mib(tumbling) == pytest.approx(10_000_000 * 8 / 2**20, abs=0.1)
    assert 6.0 < grid.copies() < 7.0  # ten weeks of 7-day windows, cut at both ends
    assert mib(rolling) == pytest.approx(mib(tumbling) * grid.copies(), rel=1e-3)
    # Rows, none with a time: no window at all, and the warning counts each row once.
    untimed = Range(rows=10_000_000, missing=10_000_000)
    with pytest.warns(drift.DriftWarning, match=r"columns holds every value") as none:
        assert len(grid_of(untimed, None, _plan("7D", "1D"))) == 0
    assert mib(none) == mib(tumbling)


@pytest.mark.parametrize("timezone", [None, "Europe/Paris"])
@pytest.mark.parametrize(("every", "step", "anchor"), PLACED)
def test_partitions_place_their_rows_in_the_windows_of_the_whole_column(
    timezone: str | None, every: str, step: str | None, anchor: str
) -> None:
    data = _times(timezone, seed=1)
    want = drift.windows(data, time="ts", every=every, step=step, anchor=anchor)
    table = pa.Table.from_pandas(data, preserve_index=False)
    plan_ = _plan(every, step, anchor)
    cuts = [0, 1, 120, 121, 377, 500]  # an empty part, a one-row part, uneven parts
    found = sum((time_range(table.slice(a, b - a), "ts") for a, b in pairwise(cuts)), Range())
    assert found == time_range(table, "ts")
    grid = Grid.build(found, timezone, plan_)
    parts = [window_part(table.slice(a, b - a), plan_, grid) for a, b in pairwise(cuts)]
    total = gather(r for p in parts for r in p.records())
    rows = [total.windows.get(w, (0, []))[0] for w in range(len(grid))]
    assert rows == want.rows.tolist()
    assert total.rows == 500
    assert total.missing == len(want.missing)
    inside = int(want.rows.sum()) if not want.overlapping else 500 - len(want.missing)
    if not want.overlapping:
        assert total.rows - total.missing - total.unplaced == inside
    # Each window's profile holds exactly its rows' values.
    for w in range(len(grid)):
        if rows[w]:
            merged = drift.merge(*(drift.DriftProfile.from_bytes(b) for b in total.windows[w][1]))
            values = np.sort(data["x"].to_numpy()[want.indices(w)])
            assert np.array_equal(merged.sample[: merged.sample_counts[0], 0], values)


def test_no_time_at_all_gives_no_windows() -> None:
    data = pd.DataFrame({"ts": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"), "x": [1.0, 2]})
    found = time_range(data, "ts")
    assert found == Range(rows=2, missing=2)
    grid = Grid.build(found, None, _plan("1D"))
    assert len(grid) == 0
    part = window_part(pa.Table.from_pandas(data, preserve_index=False), _plan("1D"), grid)
    assert (part.rows, part.missing, part.windows) == (2, 2, {})


def test_bad_arguments_are_refused_as_monitor_refuses_them() -> None:
    with pytest.raises(DriftInputError, match="must be a DriftProfile"):
        _plan("1D", reference=pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InputError, match="every= is needed"):
        _plan(None)
    with pytest.raises(InputError):
        _plan("3 parsecs")
    with pytest.raises(InputError, match="anchor"):
        _plan("1D", anchor="noon")
    with pytest.raises(InputError, match="time= must name"):
        _plan("1D", time=None)
    with pytest.raises(DriftInputError, match="bins each comparison"):
        _plan("1D", config="evidently")
    with pytest.raises(ColumnMismatchError):
        _plan("1D", columns=["nope"])
    with pytest.raises(ColumnMismatchError, match="no time column 'ts'"):
        time_range(pd.DataFrame({"x": [1.0]}), "ts")
    with pytest.raises(ColumnTypeError, match="times must be datetimes"):
        time_range(pd.DataFrame({"ts": [1.0]}), "ts")
