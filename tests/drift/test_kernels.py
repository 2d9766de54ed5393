"""Kernels against independent references: scipy, numpy, and naive per-column loops."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from modelyard.drift import kernels


def _data(seed: int, rows: int, cols: int, shift: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, cols)) + np.linspace(0, shift, cols)
    return data


def _with_ties_and_nans(data: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = data.round(1)  # many ties
    out[rng.random(out.shape) < 0.05] = np.nan
    return out


@pytest.mark.parametrize(("rows_ref", "rows_cur"), [(500, 300), (1000, 1000), (37, 2000)])
def test_ks_statistic_equals_scipy(rows_ref: int, rows_cur: int) -> None:
    ref = _with_ties_and_nans(_data(1, rows_ref, 8), 2)
    cur = _with_ties_and_nans(_data(3, rows_cur, 8, shift=0.8), 4)
    got = kernels.ks_statistic(ref, cur)
    for c in range(8):
        a, b = ref[:, c], cur[:, c]
        expected = stats.ks_2samp(a[~np.isnan(a)], b[~np.isnan(b)]).statistic
        assert abs(got[c] - expected) <= 1e-12


def test_wasserstein_equals_scipy() -> None:
    ref = _with_ties_and_nans(_data(5, 700, 6) * 10, 6)
    cur = _with_ties_and_nans(_data(7, 450, 6, shift=2.0) * 10, 8)
    got = kernels.wasserstein_distance(ref, cur)
    for c in range(6):
        a, b = ref[:, c], cur[:, c]
        expected = stats.wasserstein_distance(a[~np.isnan(a)], b[~np.isnan(b)])
        assert got[c] == pytest.approx(expected, rel=1e-9)


def test_ecdf_distances_of_empty_column_are_nan() -> None:
    ref = np.array([[1.0, np.nan], [2.0, np.nan]])
    cur = np.array([[1.5, 1.0], [3.0, 2.0]])
    result = kernels.ks_statistic(ref, cur)
    assert not np.isnan(result[0])
    assert np.isnan(result[1])


def test_quantile_edges_equal_numpy_quantile_and_collapse_duplicates() -> None:
    data = _with_ties_and_nans(_data(9, 1000, 5), 10)
    edges = kernels.quantile_edges(data, bins=10)
    for c in range(5):
        column = data[:, c][~np.isnan(data[:, c])]
        expected = np.unique(np.quantile(column, np.arange(1, 10) / 10))
        got = edges[c][np.isfinite(edges[c])]
        np.testing.assert_array_equal(got, expected)
    constant = kernels.quantile_edges(np.ones((50, 1)), bins=10)
    assert constant[0, 0] == 1.0
    assert np.isinf(constant[0, 1:]).all()


def test_bin_counts_equal_naive_counting() -> None:
    data = _with_ties_and_nans(_data(11, 3000, 4), 12)
    edges = kernels.quantile_edges(data, bins=7)
    counts = kernels.bin_counts(data, edges)
    for c in range(4):
        column = data[:, c][~np.isnan(data[:, c])]
        cut = np.concatenate([[-np.inf], edges[c], [np.inf]])
        naive = [np.sum((column >= lo) & (column < hi)) for lo, hi in itertools.pairwise(cut)]
        np.testing.assert_array_equal(counts[c], naive)
        assert counts[c].sum() == column.size


def test_uniform_edges_match_histogram_bin_edges() -> None:
    x = np.random.default_rng(0).normal(size=500)
    edges = kernels.uniform_edges([x.min()], [x.max()], bins=13)
    np.testing.assert_array_equal(edges[0], np.histogram_bin_edges(x, bins=13)[1:-1])
    counts = kernels.bin_counts(x[:, None], edges)
    np.testing.assert_array_equal(counts[0], np.histogram(x, bins=13)[0])


def _naive_props(p_counts, q_counts, eps):  # type: ignore[no-untyped-def]
    p_out, q_out = [], []
    p_total, q_total = sum(p_counts), sum(q_counts)
    for a, b in zip(p_counts, q_counts, strict=True):
        if a == 0 and b == 0:
            continue
        p_out.append(a / p_total if a else eps)
        q_out.append(b / q_total if b else eps)
    return p_out, q_out


@pytest.mark.parametrize("base", [math.e, 2.0, 10.0])
def test_psi_and_kl_equal_a_naive_loop(base: float) -> None:
    rng = np.random.default_rng(13)
    ref = rng.integers(0, 50, size=(6, 9))
    cur = rng.integers(0, 50, size=(6, 9))
    ref[0, 3] = 0  # empty in the reference only
    cur[1, 4] = 0  # empty in the current only
    ref[2, 5] = cur[2, 5] = 0  # empty on both sides
    psi = kernels.psi(ref, cur, base=base)
    kl = kernels.kl_divergence(ref, cur, base=base)
    kl_rev = kernels.kl_divergence(ref, cur, base=base, direction="current||reference")
    for c in range(6):
        p, q = _naive_props(ref[c], cur[c], 1e-4)
        naive_psi = sum((b - a) * math.log(b / a, base) for a, b in zip(p, q, strict=True))
        naive_kl = sum(a * math.log(a / b, base) for a, b in zip(p, q, strict=True))
        naive_kl_rev = sum(b * math.log(b / a, base) for a, b in zip(p, q, strict=True))
        assert psi[c] == pytest.approx(naive_psi, rel=1e-12)
        assert kl[c] == pytest.approx(naive_kl, rel=1e-12)
        assert kl_rev[c] == pytest.approx(naive_kl_rev, rel=1e-12)


def test_kl_normalised_equals_scipy_entropy() -> None:
    ref = np.array([[10, 0, 30, 5]])
    cur = np.array([[3, 7, 0, 9]])
    p, q, _ = kernels.proportions(ref, cur, epsilon=1e-4, drop_empty=False)
    got = kernels.kl_divergence(ref, cur, normalize=True, drop_empty=False)
    assert got[0] == pytest.approx(stats.entropy(p[0], q[0]), rel=1e-12)


@pytest.mark.parametrize("base", [None, 2.0])
def test_js_equals_scipy_jensenshannon(base: float | None) -> None:
    rng = np.random.default_rng(17)
    ref = rng.integers(0, 40, size=(5, 8))
    cur = rng.integers(0, 40, size=(5, 8))
    ref[0, :3] = 0
    cur[1, 5:] = 0
    got = kernels.js_distance(ref, cur, base=base or math.e)
    for c in range(5):
        assert got[c] == pytest.approx(jensenshannon(ref[c], cur[c], base=base), rel=1e-12)


def test_chi_square_homogeneity_equals_chi2_contingency() -> None:
    ref = np.array([[30, 20, 0, 5], [12, 0, 8, 0]])
    cur = np.array([[10, 25, 5, 0], [9, 0, 14, 2]])
    result = kernels.chi_square(ref, cur)
    for c in range(2):
        used = (ref[c] > 0) | (cur[c] > 0)
        table = np.vstack([ref[c][used], cur[c][used]])
        expected = stats.chi2_contingency(table, correction=False)
        assert result.statistic[c] == pytest.approx(expected.statistic, rel=1e-12)
        assert result.p_value[c] == pytest.approx(expected.pvalue, rel=1e-10)
        assert result.dof[c] == expected.dof


def test_chi_square_goodness_of_fit_equals_scipy_chisquare() -> None:
    ref = np.array([[30, 20, 10]])
    cur = np.array([[10, 25, 5]])
    result = kernels.chi_square(ref, cur, test="goodness_of_fit")
    f_exp = ref[0] * cur[0].sum() / ref[0].sum()
    expected = stats.chisquare(cur[0], f_exp)
    assert result.statistic[0] == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value[0] == pytest.approx(expected.pvalue, rel=1e-10)


def test_chi_square_counts_categories_unseen_in_reference() -> None:
    result = kernels.chi_square([[50, 50, 0]], [[50, 40, 10]])
    assert result.dof[0] == 2
    assert np.isfinite(result.statistic[0])
    assert result.p_value[0] < 0.01


def test_kernels_are_vectorised_column_independent() -> None:
    ref = _data(19, 400, 5)
    cur = _data(20, 300, 5, shift=1.0)
    whole = kernels.ks_statistic(ref, cur)
    for c in range(5):
        single = kernels.ks_statistic(ref[:, [c]], cur[:, [c]])
        assert single[0] == whole[c]


def test_bin_counts_from_sorted_columns_equal_the_counting_pass() -> None:
    ref = _with_ties_and_nans(_data(21, 900, 6), 22)
    cur = _with_ties_and_nans(_data(23, 700, 6, shift=0.5), 24)
    edges = kernels.quantile_edges(ref, bins=8)
    ref_sorted, n = kernels.sorted_columns(ref)
    _, m = kernels.sorted_columns(cur)
    result = kernels.ecdf_distances(ref_sorted, n, cur, m, current_is_sorted=False, edges=edges)
    np.testing.assert_array_equal(result.current_bin_counts, kernels.bin_counts(cur, edges))
    threaded = kernels.ecdf_distances(
        ref_sorted, n, cur, m, current_is_sorted=False, edges=edges, workers=3
    )
    np.testing.assert_array_equal(threaded.ks, result.ks)
    np.testing.assert_array_equal(threaded.wasserstein, result.wasserstein)


@pytest.mark.parametrize("step", [1, 8, 64])
@pytest.mark.parametrize(
    ("rows_ref", "rows_cur", "nans"),
    [(300, 300, False), (300, 300, True), (410, 170, False), (170, 410, True), (90, 90, True)],
)
def test_ecdf_distances_equal_scipy_on_every_path(
    monkeypatch: pytest.MonkeyPatch, step: int, rows_ref: int, rows_cur: int, nans: bool
) -> None:
    """Bounded spans refined value by value (small steps), equal and unequal sample sizes,
    heavy ties, identical columns, and per-column missing counts (the general Wasserstein path)."""
    from modelyard.drift import _ecdf

    monkeypatch.setattr(_ecdf, "_ks_first_step", lambda rows: step)
    monkeypatch.setattr(_ecdf, "_ROW_BLOCK", 64)  # several row blocks per column
    rng = np.random.default_rng(step * 1000 + rows_ref + rows_cur)
    ref = np.column_stack(
        [
            rng.normal(size=rows_ref),
            rng.integers(0, 4, size=rows_ref),
            rng.normal(size=rows_ref).round(1),
            np.full(rows_ref, 2.0),
            rng.exponential(size=rows_ref),
        ]
    )
    cur = np.column_stack(
        [
            rng.normal(0.2, size=rows_cur),
            rng.integers(1, 5, size=rows_cur),
            rng.normal(size=rows_cur).round(1),
            np.full(rows_cur, 2.0),
            rng.exponential(size=rows_cur),
        ]
    )
    if rows_ref == rows_cur:
        cur[:, 4] = ref[:, 4][rng.permutation(rows_ref)]  # the same sample, shuffled
    if nans:
        ref[rng.random(ref.shape) < 0.1] = np.nan
        cur[rng.random(cur.shape) < 0.2] = np.nan
    ref_sorted, n = kernels.sorted_columns(ref)
    cur_sorted, m = kernels.sorted_columns(cur)
    result = kernels.ecdf_distances(ref_sorted, n, cur_sorted, m)
    for c in range(ref.shape[1]):
        a, b = ref[:, c][~np.isnan(ref[:, c])], cur[:, c][~np.isnan(cur[:, c])]
        expected = stats.ks_2samp(a, b)
        assert abs(result.ks[c] - expected.statistic) <= 1e-12
        assert result.ks_numerator[c] == round(expected.statistic * a.size * b.size)
        w1 = stats.wasserstein_distance(a, b)
        assert result.wasserstein[c] == pytest.approx(w1, rel=1e-9, abs=1e-300)
    if rows_ref == rows_cur and not nans:
        assert result.ks[4] == 0.0
        assert result.wasserstein[4] == 0.0


@pytest.mark.parametrize("workers", [1, 3])
def test_bin_counts_over_many_row_blocks_equal_a_naive_count(workers: int) -> None:
    data = _with_ties_and_nans(_data(25, 1301, 7), 26)  # several blocks of 255 rows
    edges = kernels.quantile_edges(data, bins=6)
    got = kernels.bin_counts(data, edges, workers=workers)
    for c in range(data.shape[1]):
        values = data[:, c][~np.isnan(data[:, c])]
        bins = np.searchsorted(edges[c], values, side="right")  # [e_j, e_{j+1}) -> j + 1
        np.testing.assert_array_equal(got[c], np.bincount(bins, minlength=edges.shape[1] + 1))


def test_ks_finds_a_gap_between_grid_points_of_otherwise_identical_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelyard.drift import _ecdf

    monkeypatch.setattr(_ecdf, "_ks_first_step", lambda rows: 8)
    ref = np.sort(np.random.default_rng(31).normal(size=(300, 3)), axis=0)
    cur = ref.copy()
    cur[10, 1] = (ref[10, 1] + ref[11, 1]) / 2  # one value moved, off the grid of every 8th
    result = kernels.ecdf_distances(ref, [300] * 3, cur, [300] * 3)
    for c in range(3):
        expected = stats.ks_2samp(ref[:, c], cur[:, c], method="asymp").statistic
        assert abs(result.ks[c] - expected) <= 1e-12
    assert result.ks[1] == pytest.approx(1 / 300)
    assert result.ks[0] == result.ks[2] == 0.0


@pytest.mark.parametrize("workers", [1, 2])
def test_sorted_columns_equal_numpy_sort_over_several_transposed_pieces(workers: int) -> None:
    data = _with_ties_and_nans(_data(33, 20_000, 40), 34)  # blocks sorted in several pieces
    values, counts = kernels.sorted_columns(data, workers=workers)
    np.testing.assert_array_equal(values, np.sort(data, axis=0))
    np.testing.assert_array_equal(counts, np.count_nonzero(~np.isnan(data), axis=0))
