"""modelyard.drift.dask.monitor on a real two-process ``distributed.LocalCluster``: every window
equal to ``drift.monitor`` in one process when exact, within the sketch's bound otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import modelyard.drift as drift
from modelyard.errors import (
    ColumnMismatchError,
    ColumnTypeError,
    DriftInputError,
    EmptyDataError,
    InputError,
)
from tests.engines import _data

dd = pytest.importorskip("dask.dataframe")
on_dask = pytest.importorskip("modelyard.drift.dask")

REFERENCE = _data.single_process(_data.frame(0), sample_size=None)


def _frame(data: pd.DataFrame, parts: int = _data.PARTS) -> Any:
    # Partitions of equal row counts: their edges fall inside days, not on midnights.
    return dd.from_pandas(data, npartitions=parts, sort=False)


def _exact(data: Any, **options: Any) -> drift.Monitoring:
    with pytest.warns(drift.DriftWarning, match="exact profile"):
        return on_dask.monitor(REFERENCE, data, time="ts", sample_size=None, **options)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "windows",
    [{"every": "1D"}, {"every": "2D", "step": "1D"}, {"every": "6h", "anchor": "first"}],
    ids=["tumbling", "rolling", "first"],
)
@pytest.mark.parametrize("timezone", [None, "Europe/Paris"])
def test_exact_windows_equal_monitor_in_one_process(
    dask_client: object, windows: dict[str, str], timezone: str | None
) -> None:
    data = _data.timed(timezone=timezone, shifted_day=5)
    got = _exact(_frame(data), **windows)
    want = drift.monitor(REFERENCE, data, time="ts", **windows)  # type: ignore[arg-type]
    _data.same_monitoring(got, want)
    assert got.timezone == timezone
    # An empty window in the middle (2-day windows overlap it), two rows without a time, and
    # the shifted day found.
    assert (0 in [w.rows for w in got.windows]) == ("step" not in windows)
    assert got.outside_rows == 2
    assert any(w.verdict == "drift" and "x" in w.drifted for w in got.windows)


def test_some_columns_and_statistics_with_custom_thresholds(dask_client: object) -> None:
    data = _data.timed(shifted_day=2)
    options: dict[str, Any] = {
        "every": "1D",
        "columns": ["x", "city"],
        "stats": ["psi", "ks"],
        "thresholds": {"psi": 0.05},
    }
    got = _exact(_frame(data), **options)
    _data.same_monitoring(got, drift.monitor(REFERENCE, data, time="ts", **options))
    assert [c.name for c in got.windows[0].columns] == ["x", "city"]


def test_parquet_files_equal_monitor_in_one_process(dask_client: object, tmp_path: Path) -> None:
    data = _data.timed(timezone="America/New_York", shifted_day=1)
    table = pa.Table.from_pandas(data, preserve_index=False)
    paths = []
    for index, (first, last) in enumerate([(0, 1000), (1000, 1001), (1001, 3333), (3333, None)]):
        path = tmp_path / f"part-{index}.parquet"
        stop = len(data) if last is None else last
        pq.write_table(table.slice(first, stop - first), path, row_group_size=500)
        paths.append(path)
    pq.write_table(table.slice(0, 0), tmp_path / "part-9.parquet")
    want = drift.monitor(REFERENCE, data, time="ts", every="1D")
    _data.same_monitoring(_exact(paths, every="1D"), want)
    _data.same_monitoring(_exact(str(tmp_path / "*.parquet"), every="1D"), want)


def test_a_sketch_keeps_ks_within_its_bound_and_the_verdicts(dask_client: object) -> None:
    data = _data.timed(shifted_day=4)
    got = on_dask.monitor(REFERENCE, _frame(data), time="ts", every="1D", sample_size=200)
    want = drift.monitor(REFERENCE, data, time="ts", every="1D")
    assert [(w.rows, w.verdict, w.drifted) for w in got.windows] == [
        (w.rows, w.verdict, w.drifted) for w in want.windows
    ]
    assert [w.drifted for w in got.windows] == [[], [], [], [], ["x"], [], [], []]
    compared = 0
    for a, b in zip(got.windows, want.windows, strict=True):
        for column in REFERENCE.numeric_columns:
            if not a.rows:
                continue
            ks, exact = a.column(column).statistic("ks"), b.column(column).statistic("ks")
            assert ks.value is not None and exact.value is not None
            # The reference is exact (rank error 0); a window's sketch keeps 1/200 or better.
            assert abs(ks.value - exact.value) <= 1 / 200
            compared += ks.value != exact.value
    assert compared  # the windows (up to 864 rows) were sketched, not kept whole


def test_no_rows_and_no_times(dask_client: object) -> None:
    data = _data.timed()
    with pytest.raises(EmptyDataError, match="no rows"):
        on_dask.monitor(REFERENCE, _frame(data.iloc[:0], parts=2), time="ts", every="1D")
    untimed = data.assign(ts=pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns]"))
    got = _exact(_frame(untimed), every="1D")
    want = drift.monitor(REFERENCE, untimed, time="ts", every="1D")
    _data.same_monitoring(got, want)
    assert (len(got.windows), got.outside_rows) == (0, len(data))


def _exploding(data: pd.DataFrame) -> Any:
    """A Dask frame with the data's columns whose every partition fails when read."""

    def read(_: int) -> pd.DataFrame:
        raise RuntimeError("a partition was read")

    return dd.from_map(read, [0, 1], meta=data.iloc[:0])


def test_bad_input_is_refused_before_any_task_runs(dask_client: object) -> None:
    data = _data.timed(rows=200)
    lake = _exploding(data)
    with pytest.raises(RuntimeError, match="a partition was read"):
        on_dask.monitor(REFERENCE, lake, time="ts", every="1D")
    with pytest.raises(DriftInputError, match="must be a DriftProfile"):
        on_dask.monitor(data, lake, time="ts", every="1D")  # type: ignore[arg-type]
    with pytest.raises(ColumnMismatchError, match="no time column 'when'"):
        on_dask.monitor(REFERENCE, lake, time="when", every="1D")
    with pytest.raises(ColumnTypeError, match="times must be datetimes"):
        on_dask.monitor(REFERENCE, lake, time="x", every="1D")
    with pytest.raises(InputError, match="every"):
        on_dask.monitor(REFERENCE, lake, time="ts", every="fortnightly")
    with pytest.raises(InputError, match="every= is needed"):
        on_dask.monitor(REFERENCE, lake, time="ts", every=None)
    with pytest.raises(DriftInputError, match=r"\['x'\] are not in the data"):
        on_dask.monitor(REFERENCE, _exploding(data.drop(columns="x")), time="ts", every="1D")
    with pytest.raises(DriftInputError, match="bins each comparison"):
        on_dask.monitor(REFERENCE, lake, time="ts", every="1D", config="evidently")
    with pytest.raises(DriftInputError, match="dask DataFrame or Parquet paths"):
        on_dask.monitor(REFERENCE, data, time="ts", every="1D")
