"""The compiled fast paths (bin counting, sorting) and their NumPy fallbacks against references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.drift import _binning

IMPLEMENTATIONS = ["compiled", "numpy"]


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "compiled" and _binning._native is None:
        pytest.skip("modelyard was built without its compiled counter")
    if request.param == "numpy":
        monkeypatch.setattr(_binning, "_native", None)
    return str(request.param)


def test_the_compiled_counter_is_built() -> None:
    # Installs from source build it wherever a C compiler exists (as on CI); a silent fallback
    # to NumPy would leave the fast path untested.
    if _binning.NATIVE_DISABLED:
        pytest.skip("MODELYARD_NO_EXTENSIONS is set")
    assert _binning._native is not None


def _naive(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per column: values below each edge (-inf counted), NaN, -inf and +inf."""
    columns = values.shape[1]
    below = np.zeros((edges.shape[1], columns), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for c in range(columns):
            for k in range(edges.shape[1]):
                below[k, c] = np.count_nonzero(values[:, c] < edges[c, k])
    nan = np.isnan(values).sum(axis=0)
    negative = (values == -np.inf).sum(axis=0)
    positive = (values == np.inf).sum(axis=0)
    return below, nan, negative, positive


def _assert_naive_counts(
    tally: _binning.Tally, values: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, ...]:
    expected = _naive(values, edges)
    names = ("below", "nan", "negative_infinite", "positive_infinite")
    for name, counts in zip(names, expected, strict=True):
        np.testing.assert_array_equal(getattr(tally, name), counts, err_msg=name)
    return expected


def _special_data(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    values = rng.normal(size=(rows, columns)).round(1)  # ties fall on the edges
    for special, share in ((np.nan, 0.05), (np.inf, 0.02), (-np.inf, 0.02)):
        values[rng.random(values.shape) < share] = special
    return values


@pytest.mark.parametrize(
    ("rows", "columns", "bins"),
    [
        (1, 1, 2),
        (7, 3, 10),  # fewer rows than laid side by side
        (1000, 1, 10),
        (999, 7, 5),  # narrow, width not a multiple of 8, rows not a multiple of the side
        (2000, 20, 10),
        (300, 64, 10),
        (300, 67, 30),  # several passes over the edges, leftover columns
        (300, 9, 1),  # no edges at all
        (5000, 16, 14),
    ],
)
@pytest.mark.parametrize("order", ["C", "F"])  # F: read column by column, without a copy
def test_count_below_equals_a_naive_count(
    implementation: str, rows: int, columns: int, bins: int, order: str
) -> None:
    rng = np.random.default_rng(rows * 31 + columns)
    values = np.asarray(_special_data(rng, rows, columns), order=order)
    edges = _binning.quantile_edges(rng.normal(size=(500, columns)).round(1), bins=bins)
    tally = _binning.count_below(values, edges, workers=2)
    _, nan, negative, positive = _assert_naive_counts(tally, values, edges)
    finite = tally.counts(finite_only=True)
    assert (finite.sum(axis=1) == rows - nan - negative - positive).all()
    assert (tally.counts(finite_only=False).sum(axis=1) == rows - nan).all()


def test_collapsed_edges_and_strided_input(implementation: str) -> None:
    rng = np.random.default_rng(5)
    values = _special_data(rng, 4000, 40)[:, ::2]  # not contiguous
    edges = _binning.quantile_edges(np.tile([0.0, 0.0, 1.0, 1.0], 5)[:, None] * np.ones(20), 10)
    assert np.isinf(edges).any()  # collapsed duplicates are padded with +inf
    tally = _binning.count_below(values, edges)
    below, *_ = _naive(values, edges)
    np.testing.assert_array_equal(tally.below, below)


def test_threads_do_not_change_counts(implementation: str) -> None:
    rng = np.random.default_rng(8)
    values = _special_data(rng, 50_001, 24)
    edges = _binning.quantile_edges(rng.normal(size=(1000, 24)), bins=10)
    one = _binning.count_below(values, edges, workers=1)
    four = _binning.count_below(values, edges, workers=4)
    for name in ("below", "nan", "negative_infinite", "positive_infinite"):
        np.testing.assert_array_equal(getattr(one, name), getattr(four, name))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 80),
    columns=st.integers(1, 20),
    bins=st.integers(1, 15),
    seed=st.integers(0, 2**32 - 1),
)
def test_compiled_and_numpy_counts_agree(rows: int, columns: int, bins: int, seed: int) -> None:
    if _binning._native is None:
        pytest.skip("modelyard was built without its compiled counter")
    rng = np.random.default_rng(seed)
    values = _special_data(rng, rows, columns)
    edges = _binning.quantile_edges(rng.normal(size=(40, columns)).round(1), bins=bins)
    compiled = _binning.count_below(values, edges)
    by_column = _binning.count_below(np.asfortranarray(values), edges, workers=2)
    saved, _binning._native = _binning._native, None
    try:
        numpy = _binning.count_below(values, edges)
    finally:
        _binning._native = saved
    for name in ("below", "nan", "negative_infinite", "positive_infinite"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(numpy, name))
        np.testing.assert_array_equal(getattr(by_column, name), getattr(numpy, name))


def _awkward_values(rng: np.random.Generator, length: int, columns: int) -> np.ndarray:
    values = rng.normal(size=(length, columns)) * 10.0 ** rng.integers(-300, 300, size=columns)
    values[:, 0] = values[:, 0].round(0)  # ties
    values[rng.random(values.shape) < 0.01] = np.nan
    values[rng.random(values.shape) < 0.01] = -np.inf
    values[rng.random(values.shape) < 0.01] = np.inf
    values[rng.random(values.shape) < 0.01] = -0.0
    values[rng.random(values.shape) < 0.01] = 5e-324  # the smallest subnormal
    values[rng.random(values.shape) < 0.01] = -np.finfo(np.float64).max
    return values


@pytest.mark.parametrize("length", [1, 2, 2047, 2048, 5000, 300_000])
def test_sorted_columns_equal_numpy_sort(implementation: str, length: int) -> None:
    rng = np.random.default_rng(length)
    columns = 1 if length > 10_000 else 5
    values = _awkward_values(rng, length, columns)
    got, counts = _binning.sorted_columns(values, workers=2)
    expected = np.sort(values, axis=0)
    np.testing.assert_array_equal(got, expected)  # NaN compare equal here, -0.0 == 0.0
    np.testing.assert_array_equal(counts, (~np.isnan(values)).sum(axis=0))


def test_sorting_constant_and_all_missing_columns(implementation: str) -> None:
    values = np.empty((4096, 3))
    values[:, 0] = 2.5  # every digit pass has a single bucket
    values[:, 1] = np.nan
    values[:, 2] = np.arange(4096.0)[::-1]
    got, counts = _binning.sorted_columns(values)
    assert (got[:, 0] == 2.5).all()
    assert np.isnan(got[:, 1]).all()
    np.testing.assert_array_equal(got[:, 2], np.arange(4096.0))
    np.testing.assert_array_equal(counts, [4096, 0, 4096])


def test_native_functions_refuse_wrong_buffers() -> None:
    if _binning._native is None:
        pytest.skip("modelyard was built without its compiled fast paths")
    native = _binning._native
    with pytest.raises(TypeError):
        native.sort_rows(np.zeros((2, 3), dtype=np.float32))
    frozen = np.zeros((2, 3))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"read-only|writable"):
        native.sort_rows(frozen)
    with pytest.raises(ValueError, match="edges must be"):
        native.count_below(np.zeros((4, 3)), np.zeros((2, 2)), np.zeros((5, 3), dtype=np.int64))
    with pytest.raises(TypeError):
        native.count_below(np.zeros((4, 3)), np.zeros((2, 3)), np.zeros((5, 3)))


@pytest.mark.parametrize("order", ["C", "F"])
def test_a_lone_infinity_or_nan_in_finite_data_is_found(implementation: str, order: str) -> None:
    # Blocks whose values are all finite skip the NaN and infinity counts; one odd value in one
    # block must still be counted, and nowhere else.
    rng = np.random.default_rng(12)
    values = rng.normal(size=(40_000, 24))
    values[31_337, 5], values[2, 17], values[39_999, 23] = np.inf, -np.inf, np.nan
    values = np.asarray(values, order=order)
    edges = _binning.quantile_edges(rng.normal(size=(1000, 24)), bins=10)
    tally = _binning.count_below(values, edges, workers=2)
    _assert_naive_counts(tally, values, edges)
    assert (tally.nan.sum(), tally.infinite.sum()) == (1, 2)


def _segments_case(
    rng: np.random.Generator, n: int, sizes: list[int], ties: bool, shift: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    draw = (lambda k: rng.poisson(4, k).astype(float)) if ties else (lambda k: rng.normal(size=k))
    reference = np.sort(draw(n))
    parts = [np.sort(draw(k) + shift * (i % 2)) for i, k in enumerate(sizes)]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return reference, np.concatenate([*parts, np.empty(0)]), offsets


@pytest.mark.parametrize(
    ("n", "sizes", "ties", "shift"),
    [
        (1, [3, 0, 1], False, 0.0),  # a reference of one value
        (5000, [1, 2, 0, 700, 9000], False, 0.3),  # walks that cross blocks of the reference
        (5000, [400] * 30, True, 0.5),  # ties on both sides, many segments in step
        (20_000, [50] * 40 + [3], False, 4.0),  # segments beyond the whole reference
        (300, [5000, 10], True, -3.0),  # far more values than the reference holds
    ],
)
def test_compiled_segment_distances_equal_numpy(
    n: int, sizes: list[int], ties: bool, shift: float
) -> None:
    from modelyard.drift._monitor_counts import segment_distances

    if _binning.compiled() is None:
        pytest.skip("modelyard was built without its compiled kernels")
    reference, current, offsets = _segments_case(np.random.default_rng(n), n, sizes, ties, shift)
    numerator, w1 = segment_distances(reference, current, offsets)
    saved, _binning._native = _binning._native, None
    try:
        want_numerator, want_w1 = segment_distances(reference, current, offsets)
    finally:
        _binning._native = saved
    np.testing.assert_array_equal(numerator, want_numerator)
    np.testing.assert_allclose(w1, want_w1, rtol=1e-12, atol=1e-15)  # NaN for empty segments


def test_compiled_kernels_refuse_bad_arguments() -> None:
    native = _binning.compiled()
    if native is None:
        pytest.skip("modelyard was built without its compiled kernels")
    reference, current = np.arange(5.0), np.arange(4.0)
    numerator, w1 = np.zeros(2, dtype=np.int64), np.zeros(2)
    with pytest.raises(ValueError, match="offsets must rise"):
        native.segment_distances(reference, current, 0.0, np.array([0, 3, 2]), numerator, w1)
    with pytest.raises(ValueError, match="offsets must rise"):
        native.segment_distances(reference, current, 0.0, np.array([0, 3, 5]), numerator, w1)
    with pytest.raises(ValueError, match="at least one value"):
        native.segment_distances(np.empty(0), current, 0.0, np.array([0, 2, 4]), numerator, w1)
    with pytest.raises(TypeError):
        native.segment_distances(reference, current, 0.0, np.array([0.0, 2, 4]), numerator, w1)
    with pytest.raises(ValueError, match="numerator must lie"):
        native.ks_exact_unequal(3, 4, np.array([13]), np.zeros(1))
    with pytest.raises(ValueError, match="numerator must lie"):
        native.ks_exact_unequal(3, 4, np.array([0]), np.zeros(1))
    with pytest.raises(ValueError, match="as long as numerator"):
        native.ks_exact_unequal(3, 4, np.array([5, 6]), np.zeros(1))
