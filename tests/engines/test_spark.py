"""modelyard.drift.spark on a real local Spark session (``local[2]``): partitions profiled in
``mapInArrow``, collected with Arrow, merged on the driver."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import modelyard.drift as drift
from modelyard.errors import DriftInputError, EmptyDataError
from tests.engines import _data

pytestmark = pytest.mark.spark

on_spark = pytest.importorskip("modelyard.drift.spark")


def _frame(spark: object, data: pd.DataFrame, parts: int = _data.PARTS) -> object:
    # Spark reads a pandas bool column with a null as a bool column with a null.
    return spark.createDataFrame(data).repartition(parts)  # type: ignore[attr-defined]


def test_an_exact_profile_equals_the_single_process_profile(spark: object) -> None:
    data = _data.frame()
    with pytest.warns(drift.DriftWarning, match=r"6,000 rows x 3 numeric columns"):
        got = on_spark.profile(_frame(spark, data), sample_size=None)
    want = _data.single_process(data, sample_size=None)
    assert got == want
    assert got.column_kinds["flag"] == "categorical"
    assert got.missing_count("flag") == 1


def test_a_sketch_is_within_its_stated_bound_of_the_exact_profile(spark: object) -> None:
    data = _data.frame(rows=40_000)
    got = on_spark.profile(_frame(spark, data, parts=8), sample_size=500)
    exact = _data.single_process(data, sample_size=None)
    assert got.rows == exact.rows
    assert np.array_equal(got.missing, exact.missing)
    assert got.categories == exact.categories
    for j, column in enumerate(exact.numeric_columns):
        assert 0 < got.rank_error[j] <= 1 / 500
        assert _data.ecdf_gap(got, exact, column) <= got.rank_error[j] + 1e-12


def test_an_exact_compare_equals_compare_in_one_process(spark: object) -> None:
    reference = _data.single_process(_data.frame(0), sample_size=None)
    current = _data.frame(1, shift=0.3)
    with pytest.warns(drift.DriftWarning, match="exact profile"):
        got = on_spark.compare(reference, _frame(spark, current), sample_size=None)
    want = drift.compare(reference, pa.Table.from_pandas(current, preserve_index=False))
    assert got.drifted == want.drifted == ["x"]
    a = got.to_pandas().sort_values(["column", "statistic"]).reset_index(drop=True)
    b = want.to_pandas().sort_values(["column", "statistic"]).reset_index(drop=True)
    assert a[["column", "statistic", "drifted"]].equals(b[["column", "statistic", "drifted"]])
    assert np.allclose(a["value"], b["value"], rtol=0, atol=1e-12, equal_nan=True)


def test_empty_partitions_are_skipped(spark: object) -> None:
    data = _data.frame(rows=10)
    frame = _frame(spark, data, parts=16)
    assert 0 in frame.rdd.glom().map(len).collect()  # type: ignore[attr-defined]
    with pytest.warns(drift.DriftWarning, match="10 rows"):
        got = on_spark.profile(frame, sample_size=None)
    assert got == _data.single_process(data, sample_size=None)
    with pytest.raises(EmptyDataError, match="every partition"):
        on_spark.profile(_frame(spark, data, parts=2).limit(0))


def test_bad_input_is_refused_before_any_work(spark: object) -> None:
    data = _data.frame(rows=50)
    with pytest.raises(DriftInputError, match=r"pyspark.sql.DataFrame"):
        on_spark.profile(data)
    with pytest.raises(DriftInputError, match=r"\['nope'\] are not in the data"):
        on_spark.profile(_frame(spark, data), columns=["nope"])
    with pytest.raises(DriftInputError, match="must be a DriftProfile"):
        on_spark.compare(data, _frame(spark, data))  # type: ignore[arg-type]


def test_without_pyspark_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ImportError, match="pip install pyspark"):
        on_spark.profile(object())
