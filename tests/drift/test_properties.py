"""Property tests: zero on identical data, symmetry, column-order invariance, merge of any split."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import modelyard.drift as drift
from modelyard.drift import kernels

pytestmark = pytest.mark.filterwarnings("ignore::modelyard.drift.DriftWarning")

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Values on a coarse grid make ties common, the hard case for ECDF statistics.
gridded = st.integers(-20, 20).map(float)
values = st.one_of(finite, gridded)


def matrix(
    min_rows: int = 1, max_rows: int = 40, max_cols: int = 4
) -> st.SearchStrategy[np.ndarray]:
    return st.tuples(st.integers(min_rows, max_rows), st.integers(1, max_cols)).flatmap(
        lambda shape: arrays(np.float64, shape, elements=values)
    )


common = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(matrix())
def test_identical_data_gives_zero_for_every_statistic(data: np.ndarray) -> None:
    sorted_, n = kernels.sorted_columns(data)
    distances = kernels.ecdf_distances(sorted_, n, sorted_, n)
    assert (distances.ks == 0).all()
    assert (distances.wasserstein == 0).all()
    edges = kernels.quantile_edges(data, bins=5)
    counts = kernels.bin_counts(data, edges)
    assert np.allclose(kernels.psi(counts, counts), 0, atol=1e-15)
    assert np.allclose(kernels.kl_divergence(counts, counts), 0, atol=1e-15)
    assert np.allclose(kernels.js_distance(counts, counts), 0, atol=1e-7)
    assert (kernels.ks_pvalue(distances.ks, n, n, numerator=distances.ks_numerator) == 1).all()


@common
@given(
    st.integers(1, 6).flatmap(
        lambda bins: st.tuples(
            arrays(np.int64, (3, bins), elements=st.integers(0, 50)),
            arrays(np.int64, (3, bins), elements=st.integers(0, 50)),
        )
    )
)
def test_js_and_psi_are_symmetric(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    a[:, 0] += 1  # no all-zero rows
    b[:, 0] += 1
    np.testing.assert_allclose(kernels.js_distance(a, b), kernels.js_distance(b, a), rtol=1e-12)
    np.testing.assert_allclose(kernels.psi(a, b), kernels.psi(b, a), rtol=1e-12)


@pytest.mark.slow
@common
@given(matrix(min_rows=2, max_cols=5), matrix(min_rows=2, max_cols=5), st.randoms())
def test_results_do_not_depend_on_column_order(
    ref: np.ndarray, cur: np.ndarray, random: object
) -> None:
    k = min(ref.shape[1], cur.shape[1])
    ref, cur = ref[:, :k], cur[:, :k]
    order = list(range(k))
    random.shuffle(order)  # type: ignore[attr-defined]
    straight = drift.compare(ref, cur, stats=["psi", "ks", "wasserstein", "kl", "js"])
    shuffled = drift.compare(
        ref[:, order], cur[:, order], stats=["psi", "ks", "wasserstein", "kl", "js"]
    )
    for new_position, old_position in enumerate(order):
        a = straight.column(str(old_position)).statistics
        b = shuffled.column(str(new_position)).statistics
        assert [r.value for r in a] == [r.value for r in b]
        assert [r.p_value for r in a] == [r.p_value for r in b]


@common
@given(matrix(min_rows=2, max_rows=60), st.data())
def test_merging_profiles_of_any_split_equals_the_whole(
    data: np.ndarray, draw: st.DataObject
) -> None:
    cuts = sorted(draw.draw(st.lists(st.integers(1, data.shape[0] - 1), max_size=3)))
    bounds = [0, *cuts, data.shape[0]]
    parts = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", drift.DriftWarning)
        whole = drift.profile(data, bins=4)
        merged = drift.merge(*[drift.profile(p, bins=4) for p in parts])
    assert merged == whole
