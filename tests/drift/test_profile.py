"""Profiles: inputs, merging, sketches, serialisation, immutability."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

import modelyard.drift as drift
from modelyard.errors import ColumnTypeError, DriftInputError, EmptyDataError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame(
        {
            "amount": rng.lognormal(size=n),
            "age": pd.array(rng.integers(18, 90, size=n), dtype="Int64"),
            "city": rng.choice(["Oslo", "Lima", "Pune"], size=n),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], size=n)),
            "active": rng.random(n) < 0.3,
            "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        }
    )
    df.loc[::17, "amount"] = np.nan
    df.loc[::23, "age"] = pd.NA
    df.loc[::29, "city"] = None
    return df


def test_kinds_and_missing_counts(frame: pd.DataFrame) -> None:
    p = drift.profile(frame)
    assert p.column_kinds == {
        "amount": "numeric",
        "age": "numeric",
        "city": "categorical",
        "tier": "categorical",
        "active": "boolean",
        "seen": "datetime",
    }
    assert p.missing_count("amount") == frame["amount"].isna().sum()
    assert p.missing_count("age") == frame["age"].isna().sum()
    assert p.missing_count("city") == frame["city"].isna().sum()
    assert p.rows == len(frame)


def test_numpy_pyarrow_and_dataframe_inputs_agree(frame: pd.DataFrame) -> None:
    numeric = frame[["amount"]].rename(columns={"amount": "0"})
    from_pandas = drift.profile(numeric)
    from_numpy = drift.profile(frame[["amount"]].to_numpy())
    from_arrow = drift.profile(pa.Table.from_pandas(numeric, preserve_index=False))
    assert from_pandas == from_numpy == from_arrow


def test_batches_give_the_same_profile_as_the_whole(frame: pd.DataFrame) -> None:
    whole = drift.profile(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    batched = drift.profile(iter(table.to_batches(max_chunksize=97)))
    assert batched == whole


@pytest.mark.parametrize("cut", [1, 100, 599])
def test_merge_equals_whole(frame: pd.DataFrame, cut: int) -> None:
    whole = drift.profile(frame)
    left, right = drift.profile(frame.iloc[:cut]), drift.profile(frame.iloc[cut:])
    assert left.merge(right) == whole
    assert drift.merge(right, left) == whole


def test_merge_refuses_different_settings(frame: pd.DataFrame) -> None:
    with pytest.raises(DriftInputError, match="differ in"):
        drift.profile(frame, bins=5).merge(drift.profile(frame, bins=6))


def test_round_trip_bytes_is_exact(frame: pd.DataFrame) -> None:
    for p in (
        drift.profile(frame),
        drift.profile(frame, sample_size=64),
        drift.profile(frame[["amount"]], binning="doane"),
    ):
        data = p.to_bytes()
        assert isinstance(data, bytes)
        assert data[:4] != b"\x80\x04"  # not a pickle
        back = drift.DriftProfile.from_bytes(data)
        assert back == p
        assert back.to_bytes() == data
    assert drift.DriftProfile.media_type == "application/vnd.modelyard.drift-profile+arrow"


def test_from_bytes_rejects_garbage() -> None:
    from modelyard.errors import CodecError

    with pytest.raises(CodecError):
        drift.DriftProfile.from_bytes(b"not arrow")


def test_profile_is_immutable(frame: pd.DataFrame) -> None:
    p = drift.profile(frame)
    with pytest.raises(ValueError, match="read-only"):
        p.sample[0, 0] = 1.0
    with pytest.raises(AttributeError):
        p.rows = 3  # type: ignore[misc]


def test_sketch_error_is_bounded_and_tracked() -> None:
    rng = np.random.default_rng(1)
    data = rng.standard_t(3, size=(50_000, 3))
    current = rng.standard_t(3, size=(7_000, 3)) + 0.1
    size = 500
    batches = [data[i : i + 1_000] for i in range(0, len(data), 1_000)]
    sketched = drift.profile(iter(batches), sample_size=size)
    assert sketched.sample.shape[0] == size
    assert (sketched.counts == len(data)).all()
    bound = sketched.rank_error
    assert (bound > 0).all()
    # Binary-counter merging: the bound grows with log2(batches), here 50 batches.
    assert (bound <= (2 + 2 * np.log2(len(batches))) / (2 * size)).all()
    exact = drift.kernels.ks_statistic(data, current)
    approx = drift.kernels.ecdf_distances(
        sketched.sample, sketched.sample_counts, np.sort(current, axis=0), np.full(3, len(current))
    )
    assert (np.abs(approx.ks - exact) <= bound + 1e-12).all()
    exact_w = drift.kernels.wasserstein_distance(data, current)
    span = sketched.maximum - sketched.minimum
    assert (np.abs(approx.wasserstein - exact_w) <= bound * span + 1e-9).all()
    # merging sketches keeps a valid bound
    halves = drift.profile(data[:20_000], sample_size=size).merge(
        drift.profile(data[20_000:], sample_size=size)
    )
    again = drift.kernels.ecdf_distances(
        halves.sample, halves.sample_counts, np.sort(current, axis=0), np.full(3, len(current))
    )
    assert (np.abs(again.ks - exact) <= halves.rank_error + 1e-12).all()
    # p-values use the true counts, not the sketch size
    report = drift.compare(sketched, current, stats=["ks"])
    ks = report.column("0").statistic("ks")
    expected = stats.ks_2samp(data[:, 0], current[:, 0])
    assert ks.value == pytest.approx(expected.statistic, abs=float(bound[0]))


def test_empty_and_bad_inputs() -> None:
    with pytest.raises(EmptyDataError):
        drift.profile(np.empty((0, 3)))
    with pytest.raises(EmptyDataError):
        drift.profile(iter([]))
    with pytest.raises(DriftInputError, match="cannot compute drift"):
        drift.profile(42)
    with pytest.raises(ColumnTypeError):
        drift.profile(pd.DataFrame({"s": ["a", "b"]}), numeric=["s"])
    with pytest.raises(DriftInputError, match="bins"):
        drift.profile(np.ones((3, 1)), bins=0)


def test_constant_and_all_missing_columns_warn() -> None:
    df = pd.DataFrame({"k": [1.0] * 10, "gone": [np.nan] * 10, "x": np.arange(10.0)})
    with pytest.warns(drift.DriftWarning) as caught:
        p = drift.profile(df)
    messages = " ".join(str(w.message) for w in caught)
    assert "'k' is constant" in messages
    assert "'gone' has no values" in messages
    assert p.missing_count("gone") == 10


def test_profiles_are_shareable_between_threads() -> None:
    rng = np.random.default_rng(3)
    p = drift.profile(rng.normal(size=(2000, 4)))
    current = rng.normal(size=(1000, 4))
    expected = drift.compare(p, current).to_dict()
    results: list[dict[str, object]] = []

    def work() -> None:
        results.append(drift.compare(p, current).to_dict())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


@pytest.mark.parametrize("expected_rows", [600, 100, 5000])
def test_expected_rows_gives_the_same_profile(frame: pd.DataFrame, expected_rows: int) -> None:
    whole = drift.profile(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    arrow = drift.profile(iter(table.to_batches(max_chunksize=97)), expected_rows=expected_rows)
    pandas_batches = drift.profile(
        (frame.iloc[i : i + 150] for i in range(0, len(frame), 150)), expected_rows=expected_rows
    )
    assert arrow == whole
    assert pandas_batches == whole
