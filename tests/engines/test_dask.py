"""modelyard.drift.dask on a real two-process ``distributed.LocalCluster``: equal to the single
process profile when exact, within the stated bound as a sketch, empty partitions skipped."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import modelyard.drift as drift
from modelyard.drift._engine import Settings
from modelyard.errors import DriftInputError, EmptyDataError
from tests.engines import _data

dd = pytest.importorskip("dask.dataframe")
on_dask = pytest.importorskip("modelyard.drift.dask")


def _frame(data: pd.DataFrame, parts: int = _data.PARTS) -> object:
    return dd.from_pandas(data, npartitions=parts, sort=False)


def _values(report: drift.DriftReport) -> pd.DataFrame:
    return report.to_pandas().sort_values(["column", "statistic"]).reset_index(drop=True)


def test_an_exact_profile_equals_the_single_process_profile(dask_client: object) -> None:
    data = _data.frame()
    with pytest.warns(drift.DriftWarning, match=r"6,000 rows x 3 numeric columns"):
        got = on_dask.profile(_frame(data), sample_size=None)
    assert got == _data.single_process(data, sample_size=None)
    # The null sits in one partition only; the column is categorical in every partition.
    assert got.column_kinds["flag"] == "categorical"
    assert got.missing_count("flag") == 1


def test_a_sketch_is_within_its_stated_bound_of_the_exact_profile(dask_client: object) -> None:
    data = _data.frame(rows=40_000)
    got = on_dask.profile(_frame(data, parts=8), sample_size=500)
    exact = _data.single_process(data, sample_size=None)
    assert got.rows == exact.rows
    assert np.array_equal(got.missing, exact.missing)
    assert np.array_equal(got.counts, exact.counts)
    assert got.categories == exact.categories
    for j, column in enumerate(exact.numeric_columns):
        assert 0 < got.rank_error[j] <= 1 / 500
        assert _data.ecdf_gap(got, exact, column) <= got.rank_error[j] + 1e-12


def test_an_exact_compare_equals_compare_in_one_process(dask_client: object) -> None:
    reference = _data.single_process(_data.frame(0), sample_size=None)
    current = _data.frame(1, shift=0.3)
    with pytest.warns(drift.DriftWarning, match="exact profile"):
        got = on_dask.compare(reference, _frame(current), sample_size=None)
    want = drift.compare(reference, pa.Table.from_pandas(current, preserve_index=False))
    assert got.drifted == want.drifted == ["x"]
    a, b = _values(got), _values(want)
    assert a[["column", "statistic", "drifted"]].equals(b[["column", "statistic", "drifted"]])
    assert np.allclose(a["value"], b["value"], rtol=0, atol=1e-12, equal_nan=True)


def test_a_sketch_compare_keeps_ks_within_both_bounds(dask_client: object) -> None:
    reference = on_dask.profile(_frame(_data.frame(0, rows=20_000)), sample_size=1000)
    current = _data.frame(1, shift=0.05, rows=20_000)
    got = on_dask.compare(reference, _frame(current), sample_size=1000)
    exact = drift.compare(
        _data.single_process(_data.frame(0, rows=20_000), sample_size=None),
        pa.Table.from_pandas(current, preserve_index=False),
    )
    current_profile = on_dask.profile(_frame(current), kinds=reference, sample_size=1000)
    for j, column in enumerate(reference.numeric_columns):
        bound = reference.rank_error[j] + current_profile.rank_error[j]
        ks = got.column(column).statistic("ks").value
        assert abs(ks - exact.column(column).statistic("ks").value) <= bound + 1e-12


def test_a_current_side_of_some_of_the_reference_columns(dask_client: object) -> None:
    data = _data.frame()
    reference = _data.single_process(data, sample_size=None)
    with pytest.warns(drift.DriftWarning, match="6,000 rows x 1 numeric columns"):
        got = on_dask.profile(
            _frame(data), kinds=reference, columns=["x", "city"], sample_size=None
        )
    assert got.columns == ("x", "city")
    assert drift.compare(reference, got, columns=["x", "city"]).drifted == []
    with pytest.raises(DriftInputError, match=r"\['zzz'\] are not in the reference"):
        on_dask.profile(_frame(data), kinds=reference, columns=["zzz"])


def test_empty_partitions_are_skipped(dask_client: object) -> None:
    data = _data.frame()
    with_empty = dd.concat([_frame(data.iloc[:0], parts=1), _frame(data), _frame(data.iloc[:0], 1)])
    assert with_empty.npartitions == _data.PARTS + 2
    with pytest.warns(drift.DriftWarning, match="6,000 rows"):
        got = on_dask.profile(with_empty, sample_size=None)
    assert got == _data.single_process(data, sample_size=None)


def test_every_partition_empty_is_an_empty_data_error(dask_client: object) -> None:
    with pytest.raises(EmptyDataError, match="every partition"):
        on_dask.profile(_frame(_data.frame().iloc[:0], parts=2))


def _write_lake(folder: Path, data: pd.DataFrame) -> list[Path]:
    table = pa.Table.from_pandas(data, preserve_index=False)
    step = len(data) // 3
    paths = []
    for index, first in enumerate((0, step, 2 * step)):
        path = folder / f"part-{index}.parquet"
        last = len(data) if index == 2 else first + step
        pq.write_table(table.slice(first, last - first), path, row_group_size=700)
        paths.append(path)
    empty = folder / "part-3.parquet"
    pq.write_table(table.slice(0, 0), empty)
    return [*paths, empty]


def test_parquet_files_by_list_glob_and_url(dask_client: object, tmp_path: Path) -> None:
    data = _data.frame()
    paths = _write_lake(tmp_path, data)
    want = _data.single_process(data, sample_size=None)
    with pytest.warns(drift.DriftWarning, match="6,000 rows"):
        assert on_dask.profile(paths, sample_size=None) == want
    with pytest.warns(drift.DriftWarning):
        assert on_dask.profile(str(tmp_path / "*.parquet"), sample_size=None) == want
    with pytest.warns(drift.DriftWarning):
        assert on_dask.profile([p.as_uri() for p in paths], sample_size=None) == want


def test_a_partition_ships_a_bounded_sketch() -> None:
    rng = np.random.default_rng(3)
    table = pa.table({str(j): rng.normal(size=200_000) for j in range(5)})
    kinds = {str(j): "numeric" for j in range(5)}
    sketch = Settings.build(
        bins=10, binning="quantile", sample_size=1000, kinds=kinds, columns=None
    )
    exact = Settings.build(bins=10, binning="quantile", sample_size=None, kinds=kinds, columns=None)
    small, full = sketch.profile_bytes(table.to_batches()), exact.profile_bytes(table.to_batches())
    assert small is not None and full is not None
    assert len(small) < 5 * 1000 * 8 + 16_384
    assert len(full) > 5 * 200_000 * 8


def test_bad_input_is_refused_before_any_work() -> None:
    data = _data.frame(rows=100)
    with pytest.raises(DriftInputError, match="dask DataFrame or Parquet paths"):
        on_dask.profile(data)
    with pytest.raises(DriftInputError, match=r"\['nope'\] are not in the data"):
        on_dask.profile(_frame(data), columns=["nope"])
    with pytest.raises(DriftInputError, match="must be a DriftProfile"):
        on_dask.compare(data, _frame(data))  # type: ignore[arg-type]
    with pytest.raises(DriftInputError, match="sample_size"):
        on_dask.profile(_frame(data), sample_size=1)
    reference = drift.profile(data.assign(extra=np.arange(100.0)))
    with pytest.raises(DriftInputError, match=r"\['extra'\] are not in the data"):
        on_dask.compare(reference, _frame(data))


def test_without_dask_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"pip install 'dask\[dataframe\]' distributed"):
        on_dask.profile(["a.parquet"])
