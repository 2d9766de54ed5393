"""Profiles of partitions: pinned kinds, empty parts, flat merges, current profiles, transport."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import modelyard.drift as drift
from modelyard.drift._parallel import default_workers
from modelyard.errors import ColumnTypeError, DriftInputError, EmptyDataError

# Partitions with an all-missing or constant column warn as a reference would; not the point here.
pytestmark = pytest.mark.filterwarnings("ignore::modelyard.drift.DriftWarning")

KINDS = {"x": "numeric", "flag": "boolean", "blank": "numeric", "n": "numeric"}


def _parts() -> list[pd.DataFrame]:
    """Partitions whose inferred kinds disagree: a bool column with a null in one part, a column
    with no values at all, an int column in one part and float in another."""
    return [
        pd.DataFrame(
            {"x": [1.0, 2.0, 3.0], "flag": [True, False, True], "blank": [None] * 3, "n": [1, 2, 3]}
        ),
        pd.DataFrame(
            {"x": [4.0, 5.0], "flag": [True, None], "blank": [None] * 2, "n": [4.5, np.nan]}
        ),
    ]


def test_pinned_kinds_make_disagreeing_partitions_merge() -> None:
    parts = _parts()
    with pytest.raises(DriftInputError, match="differ"):
        drift.merge(*(drift.profile(p) for p in parts))
    profiles = [drift.profile(p, kinds=KINDS) for p in parts]
    merged = drift.merge(*profiles)
    assert merged.column_kinds == KINDS
    assert merged.rows == 5
    assert merged.missing_count("flag") == 1 and merged.missing_count("blank") == 5
    assert merged == drift.profile(iter(parts), kinds=KINDS)
    as_arrow = [pa.Table.from_pandas(p, preserve_index=False) for p in parts]
    assert drift.merge(*(drift.profile(t, kinds=KINDS) for t in as_arrow)) == merged


def test_kinds_names_the_columns_and_is_checked() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "label": ["u", "v"]})
    only = drift.profile(frame, kinds={"a": "numeric"})
    assert only.columns == ("a",)
    with pytest.raises(DriftInputError, match="unknown column kinds"):
        drift.profile(frame, kinds={"a": "number"})  # type: ignore[dict-item]
    with pytest.raises(DriftInputError, match="not both"):
        drift.profile(frame, kinds={"a": "numeric"}, categorical=["a"])
    with pytest.raises(DriftInputError, match="not in kinds"):
        drift.profile(frame, kinds={"a": "numeric"}, columns=["label"])
    with pytest.raises(ColumnTypeError):
        drift.profile(frame, kinds={"label": "numeric"})


@pytest.mark.parametrize("sample_size", [None, 8])
def test_empty_inputs_with_pinned_kinds_give_empty_profiles(sample_size: int | None) -> None:
    kinds = {"x": "numeric", "c": "categorical"}
    empty = drift.profile(pd.DataFrame({"x": [], "c": []}), kinds=kinds, sample_size=sample_size)
    assert empty.rows == 0 and empty.columns == ("x", "c")
    assert drift.profile(iter([]), kinds=kinds, sample_size=sample_size) == empty
    with pytest.raises(EmptyDataError, match="kinds="):
        drift.profile(iter([]))
    data = pd.DataFrame({"x": np.arange(20.0), "c": list("ab") * 10})
    full = drift.profile(data, kinds=kinds, sample_size=sample_size)
    assert drift.merge(empty, full, empty) == full
    assert full.merge(empty) == full
    assert drift.merge(empty, empty).rows == 0
    assert drift.DriftProfile.from_bytes(empty.to_bytes()) == empty


def test_merge_of_many_sketches_keeps_the_single_batch_bound() -> None:
    rng = np.random.default_rng(3)
    size, parts = 1000, 256
    data = rng.normal(size=(parts * 2000, 1))
    profiles = [
        drift.profile(data[i : i + 2000], sample_size=size) for i in range(0, len(data), 2000)
    ]
    assert profiles[0].rank_error[0] == 1 / (2 * size)
    merged = drift.merge(*profiles)
    # One compression per column: the parts' bound plus one more half step, however many parts.
    assert merged.rank_error[0] == pytest.approx(2 / (2 * size))
    exact = np.sort(data[:, 0])
    points = merged.sample[: merged.sample_counts[0], 0]
    grid = np.concatenate([points, exact[::97]])
    measured = np.abs(
        np.searchsorted(points, grid, side="right") / points.size
        - np.searchsorted(exact, grid, side="right") / exact.size
    ).max()
    assert measured <= merged.rank_error[0]
    # The method merges flat too.
    assert profiles[0].merge(*profiles[1:]) == merged


def test_exact_merge_equals_the_whole_for_many_parts() -> None:
    rng = np.random.default_rng(4)
    data = rng.normal(size=(5000, 3))
    data[::11, 1] = np.nan
    data[::13, 2] = np.inf
    parts = [drift.profile(data[i : i + 371]) for i in range(0, len(data), 371)]
    assert drift.merge(*parts) == drift.profile(data)


@pytest.mark.parametrize("size", [50, 400])
def test_single_batch_states_the_true_bound_and_meets_it(size: int) -> None:
    """Seeded simulation against the exact ECDF: the stated 1/(2K) holds in every trial, and
    the measured error comes close to it (so the bound is not loose)."""
    rng = np.random.default_rng(5)
    worst = 0.0
    for trial in range(40):
        n = int(rng.integers(size + 1, 20 * size))
        draw = [rng.normal, rng.exponential, lambda size: rng.integers(0, 30, size)][trial % 3]
        values = np.asarray(draw(size=n), dtype=np.float64)
        p = drift.profile(values[:, None], sample_size=size)
        stated = float(p.rank_error[0])
        assert stated == 1 / (2 * size)
        points = p.sample[: p.sample_counts[0], 0]
        exact = np.sort(values)
        grid = np.concatenate([exact, points])
        measured = np.abs(
            np.searchsorted(points, grid, side="right") / points.size
            - np.searchsorted(exact, grid, side="right") / exact.size
        ).max()
        assert measured <= stated + 1e-12
        worst = max(worst, measured)
    assert worst >= 0.9 * (1 / (2 * size))


def _reference_and_current() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(6)
    n, m = 3000, 2500
    ref = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.lognormal(size=n),
            "c": rng.choice(list("pqr"), size=n),
            "d": rng.random(n) < 0.4,
        }
    )
    cur = pd.DataFrame(
        {
            "a": rng.normal(0.1, size=m),
            "b": rng.lognormal(0.05, size=m),
            "c": rng.choice(list("pqrs"), size=m),
            "d": rng.random(m) < 0.45,
        }
    )
    cur.loc[::7, "a"] = np.nan
    cur.loc[::31, "b"] = np.inf
    cur.loc[::13, "c"] = None
    return ref, cur


def _flat(report: drift.DriftReport) -> dict[tuple[str, str], tuple[object, ...]]:
    out: dict[tuple[str, str], tuple[object, ...]] = {}
    for column in report.columns:
        out[column.name, "counts"] = (
            column.current_count,
            column.current_missing,
            column.current_infinite,
            column.verdict,
        )
        for stat in column.statistics:
            out[column.name, stat.statistic] = (
                stat.value,
                stat.p_value,
                stat.adjusted_p_value,
                stat.verdict,
            )
    return out


@pytest.mark.parametrize("reference_size", [None, 300])
def test_compare_to_an_exact_current_profile_equals_compare_to_the_data(
    reference_size: int | None,
) -> None:
    ref, cur = _reference_and_current()
    reference = drift.profile(ref, sample_size=reference_size)
    parts = [cur[i : i + 600] for i in range(0, len(cur), 600)]
    current = drift.merge(*(drift.profile(p, kinds=reference) for p in parts))
    assert current.fixed_edges and np.array_equal(current.edges, reference.edges)
    expected, got = drift.compare(reference, cur), drift.compare(reference, current)
    assert [c.verdict for c in got.columns] == [c.verdict for c in expected.columns]
    assert got.current_rows == expected.current_rows
    want, have = _flat(expected), _flat(got)
    assert want.keys() == have.keys()
    for key, numbers in want.items():
        if key[1] == "counts":
            assert have[key] == numbers, key
            continue
        for a, b in zip(have[key][:3], numbers[:3], strict=True):
            assert (a is None) == (b is None), key
            if a is not None:
                assert a == pytest.approx(b, abs=1e-12, rel=0), key
        assert have[key][3] == numbers[3], key


def test_compare_to_a_sketched_current_profile_is_within_the_bound() -> None:
    ref, cur = _reference_and_current()
    reference = drift.profile(ref)
    parts = [cur[i : i + 500] for i in range(0, len(cur), 500)]
    current = drift.merge(*(drift.profile(p, kinds=reference, sample_size=64) for p in parts))
    assert (current.sample_counts < current.counts).all()
    expected, got = _flat(drift.compare(reference, cur)), _flat(drift.compare(reference, current))
    for name in ("a", "b"):
        bound = float(current.rank_error[current.numeric_columns.index(name)])
        ks_gap = abs(got[name, "ks"][0] - expected[name, "ks"][0])  # type: ignore[operator]
        assert ks_gap <= bound + 1e-12
        span = float(reference.maximum[reference.numeric_columns.index(name)]) - float(
            reference.minimum[reference.numeric_columns.index(name)]
        )
        gap = abs(got[name, "wasserstein"][0] - expected[name, "wasserstein"][0])  # type: ignore[operator]
        assert gap <= bound * span + 1e-9
    for key, numbers in expected.items():
        if key[1] in ("psi", "kl", "js", "chi2"):
            assert got[key][:2] == pytest.approx(numbers[:2], abs=1e-12, rel=0), key


def test_compare_refuses_a_current_profile_made_without_the_reference() -> None:
    ref, cur = _reference_and_current()
    reference = drift.profile(ref)
    with pytest.raises(DriftInputError, match="kinds=reference"):
        drift.compare(reference, drift.profile(cur, sample_size=50))
    other = drift.profile(ref[:100])
    with pytest.raises(DriftInputError, match="another reference"):
        drift.compare(reference, drift.profile(cur, kinds=other))
    empty = drift.profile(cur[:0], kinds=reference)
    with pytest.raises(EmptyDataError):
        drift.compare(reference, empty)
    # An exact current profile made without the reference is fine: its values are all there.
    plain = drift.profile(cur)
    assert drift.compare(reference, plain).column("a").verdict is not None


def test_a_current_profile_round_trips_through_bytes() -> None:
    ref, cur = _reference_and_current()
    reference = drift.profile(ref)
    current = drift.profile(cur, kinds=reference, sample_size=100)
    again = drift.DriftProfile.from_bytes(current.to_bytes())
    assert again == current and again.fixed_edges


def test_unpickled_profiles_stay_read_only_and_report_their_size() -> None:
    p = drift.profile(np.random.default_rng(7).normal(size=(20_000, 4)))
    again = pickle.loads(pickle.dumps(p))
    assert again == p
    for array in (again.sample, again.edges, again.bin_counts, again.counts):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    assert sys.getsizeof(p) >= p.sample.nbytes


def test_threads_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_THREADS", "1")
    assert default_workers() == 1
    monkeypatch.setenv("MODELYARD_THREADS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("MODELYARD_THREADS", "many")
    with pytest.raises(DriftInputError, match="MODELYARD_THREADS"):
        drift.profile(np.random.default_rng(0).normal(size=(10, 2)))


def test_a_dataframe_is_profiled_without_copying_it_whole() -> None:
    import tracemalloc

    rng = np.random.default_rng(8)
    frame = pd.DataFrame(rng.normal(size=(200_000, 10)), columns=[f"c{i}" for i in range(10)])
    size = frame.to_numpy().nbytes
    tracemalloc.start()
    try:
        sketched = drift.profile(frame, sample_size=500, workers=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Column by column: about one column's sorted copy, where stacking took twice the frame.
    assert peak < 0.3 * size
    as_arrow = drift.profile(pa.Table.from_pandas(frame), sample_size=500, workers=1)
    assert sketched == as_arrow


def test_a_stream_of_batches_is_compressed_once_more_not_once_per_level() -> None:
    rng = np.random.default_rng(9)
    size = 200
    values = rng.lognormal(size=40 * 5_000)
    streamed = drift.profile(iter(np.split(values[:, None], 40)), sample_size=size)
    # 40 batch sketches (1/(2K) each) pooled in one compression: 1/K, where pairwise merging
    # stated about (2 + log2 40)/(2K).
    assert streamed.rank_error[0] == pytest.approx(1 / size)
    points = streamed.sample[: streamed.sample_counts[0], 0]
    exact = np.sort(values)
    grid = np.concatenate([points, exact[::53]])
    measured = np.abs(
        np.searchsorted(points, grid, side="right") / points.size
        - np.searchsorted(exact, grid, side="right") / exact.size
    ).max()
    assert measured <= streamed.rank_error[0]
