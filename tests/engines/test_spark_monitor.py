"""modelyard.drift.spark.monitor on a real local Spark session (``local[2]``): every window equal
to ``drift.monitor`` in one process when exact, within the sketch's bound otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
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

pytestmark = pytest.mark.spark

on_spark = pytest.importorskip("modelyard.drift.spark")

REFERENCE = _data.single_process(_data.frame(0), sample_size=None)


@contextmanager
def _session_zone(spark: Any, zone: str) -> Iterator[None]:
    """The session's time zone for one test (the session is shared by the whole run)."""
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        yield
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)


def _frame(spark: Any, data: pd.DataFrame, parts: int = 3) -> Any:
    # A shuffle: every partition holds rows of every window.
    return spark.createDataFrame(data).repartition(parts)


def _exact(data: Any, **options: Any) -> drift.Monitoring:
    with pytest.warns(drift.DriftWarning, match="exact profile"):
        return on_spark.monitor(REFERENCE, data, time="ts", sample_size=None, **options)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "windows", [{"every": "1D"}, {"every": "2D", "step": "1D"}], ids=["tumbling", "rolling"]
)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_exact_windows_equal_monitor_in_one_process(
    spark: Any, windows: dict[str, str], zone: str
) -> None:
    data = _data.timed(timezone=zone, shifted_day=5)
    with _session_zone(spark, zone):
        got = _exact(_frame(spark, data), **windows)
    want = drift.monitor(REFERENCE, data, time="ts", **windows)  # type: ignore[arg-type]
    _data.same_monitoring(got, want)
    # A TIMESTAMP's windows follow the session's calendar, as the data's zone does in pandas.
    assert got.timezone == zone
    assert got.outside_rows == 2
    assert (0 in [w.rows for w in got.windows]) == ("step" not in windows)
    assert any("x" in w.drifted for w in got.windows)


def test_timestamp_ntz_is_taken_as_written(spark: Any) -> None:
    from pyspark.sql import functions as F

    data = _data.timed(shifted_day=2)
    with _session_zone(spark, "America/New_York"):
        frame = spark.createDataFrame(data.assign(ts=data["ts"].astype(str).replace("NaT", None)))
        frame = frame.withColumn("ts", F.col("ts").cast("timestamp_ntz")).repartition(3)
        got = _exact(frame, every="1D")
    want = drift.monitor(REFERENCE, data, time="ts", every="1D")
    _data.same_monitoring(got, want)
    assert got.timezone is None


def test_a_sketch_keeps_ks_within_its_bound_and_the_verdicts(spark: Any) -> None:
    data = _data.timed(timezone="UTC", shifted_day=4)
    with _session_zone(spark, "UTC"):
        got = on_spark.monitor(
            REFERENCE, _frame(spark, data), time="ts", every="1D", sample_size=200
        )
    want = drift.monitor(REFERENCE, data, time="ts", every="1D")
    assert [(w.rows, w.verdict) for w in got.windows] == [(w.rows, w.verdict) for w in want.windows]
    assert [w.drifted for w in got.windows] == [[], [], [], [], ["x"], [], [], []]
    for a, b in zip(got.windows, want.windows, strict=True):
        for column in REFERENCE.numeric_columns:
            if a.rows:
                ks, exact = a.column(column).statistic("ks"), b.column(column).statistic("ks")
                assert ks.value is not None and exact.value is not None
                assert abs(ks.value - exact.value) <= 1 / 200


def test_no_rows_is_an_empty_data_error(spark: Any) -> None:
    frame = _frame(spark, _data.timed(timezone="UTC")).limit(0)
    with pytest.raises(EmptyDataError, match="no rows"):
        on_spark.monitor(REFERENCE, frame, time="ts", every="1D")


def test_bad_input_is_refused_before_any_task_runs(spark: Any) -> None:
    from pyspark.sql import functions as F

    data = _data.timed(rows=200, timezone="UTC")

    @F.udf("timestamp")  # type: ignore[misc]
    def explode(_: Any) -> Any:
        raise RuntimeError("a partition was read")

    lake = _frame(spark, data).withColumn("ts", explode("ts"))
    with pytest.raises(Exception, match="a partition was read"):
        on_spark.monitor(REFERENCE, lake, time="ts", every="1D")
    with pytest.raises(DriftInputError, match="must be a DriftProfile"):
        on_spark.monitor(data, lake, time="ts", every="1D")
    with pytest.raises(DriftInputError, match=r"pyspark\.sql\.DataFrame"):
        on_spark.monitor(REFERENCE, data, time="ts", every="1D")
    with pytest.raises(ColumnMismatchError, match="no time column 'when'"):
        on_spark.monitor(REFERENCE, lake, time="when", every="1D")
    with pytest.raises(ColumnTypeError, match="times must be datetimes, not double"):
        on_spark.monitor(REFERENCE, lake, time="x", every="1D")
    with pytest.raises(InputError, match="every"):
        on_spark.monitor(REFERENCE, lake, time="ts", every="fortnightly")
    with pytest.raises(DriftInputError, match=r"\['x'\] are not in the data"):
        on_spark.monitor(REFERENCE, lake.drop("x"), time="ts", every="1D")
    with pytest.raises(DriftInputError, match="bins each comparison"):
        on_spark.monitor(REFERENCE, lake, time="ts", every="1D", config="evidently")
