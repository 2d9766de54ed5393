"""KS p-values against scipy: exact small-sample distribution and the asymptotic one."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from modelyard.drift import kernels


def _pvalues(n1: int, n2: int, shifts: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(n1, shifts.size))
    cur = rng.normal(size=(n2, shifts.size)) + shifts
    ref_sorted, n = kernels.sorted_columns(ref)
    cur_sorted, m = kernels.sorted_columns(cur)
    distances = kernels.ecdf_distances(ref_sorted, n, cur_sorted, m)
    ours = kernels.ks_pvalue(distances.ks, n, m, numerator=distances.ks_numerator)
    theirs = np.array([stats.ks_2samp(ref[:, c], cur[:, c]).pvalue for c in range(shifts.size)])
    return ours, theirs


def _assert_close(ours: np.ndarray, theirs: np.ndarray, rel: float) -> None:
    for a, b in zip(ours, theirs, strict=True):
        if b >= 1e-12:
            assert a == pytest.approx(b, rel=rel, abs=1e-15), (a, b)
        else:
            assert a <= 1e-11


@pytest.mark.parametrize(
    ("n1", "n2"), [(40, 40), (300, 300), (37, 91), (200, 350), (1000, 1000), (120, 5)]
)
def test_exact_small_samples_match_scipy(n1: int, n2: int) -> None:
    ours, theirs = _pvalues(n1, n2, np.linspace(0, 1.2, 10), seed=n1 + n2)
    _assert_close(ours, theirs, rel=1e-9)


@pytest.mark.parametrize(("n1", "n2"), [(20_000, 15_000), (12_000, 300), (30_000, 150)])
def test_asymptotic_large_samples_match_scipy(n1: int, n2: int) -> None:
    ours, theirs = _pvalues(n1, n2, np.linspace(0, 0.1, 8), seed=n1)
    _assert_close(ours, theirs, rel=1e-6)


@pytest.mark.parametrize("n", [400, 1000, 5000, 50_000, 100_000])
def test_kolmogorov_sf_matches_kstwo_in_every_branch(n: int) -> None:
    # From the Ruben-Gambino region (n*x near 1) through the Pelz-Good body to the Smirnov tail.
    x = np.concatenate(
        [
            np.array([0.4, 0.7, 1.0]) / n,
            np.sqrt(np.linspace(0.05, 2.19, 25) / n),
            np.sqrt(np.linspace(2.2, 30.0, 15) / n),
            [0.5, 0.9],
        ]
    )
    ours = kernels.kolmogorov_sf(n, x)
    theirs = stats.kstwo.sf(x, n)
    _assert_close(ours, theirs, rel=1e-6)
    # The one-sided tails are shared out to threads in chunks; the values do not change.
    np.testing.assert_array_equal(kernels.kolmogorov_sf(n, x, workers=3), ours)


def test_without_numerator_the_statistic_is_rounded_like_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=80), rng.normal(0.5, size=60)
    expected = stats.ks_2samp(a, b)
    got = kernels.ks_pvalue(expected.statistic, 80, 60)
    assert got[0] == pytest.approx(expected.pvalue, rel=1e-9)


def test_methods_can_be_forced() -> None:
    exact = kernels.ks_pvalue(0.2, 300, 200, method="exact")
    asymp = kernels.ks_pvalue(0.2, 300, 200, method="asymp")
    a, b = np.zeros(300), np.zeros(200)
    assert exact[0] != asymp[0]
    assert asymp[0] == pytest.approx(stats.kstwo.sf(0.2, round(300 * 200 / 500)), rel=1e-6)
    del a, b
    with pytest.raises(ValueError, match="unknown method"):
        kernels.ks_pvalue(0.2, 300, 200, method="bogus")  # type: ignore[arg-type]


def test_zero_statistic_has_p_value_one_and_empty_side_nan() -> None:
    assert kernels.ks_pvalue(0.0, 50, 70)[0] == 1.0
    assert np.isnan(kernels.ks_pvalue(0.3, 0, 70)[0])


def _lattice_sf(m: int, n: int, numerator: int) -> float:
    """``P(D >= numerator / (m*n))`` by counting lattice paths with Python integers (exact)."""

    def inside(i: int, j: int) -> bool:
        return abs(i * n - j * m) < numerator

    row = [0] * (n + 1)
    for j in range(n + 1):
        row[j] = 1 if inside(0, j) and (j == 0 or row[j - 1]) else 0
    for i in range(1, m + 1):
        left = 0
        new = [0] * (n + 1)
        for j in range(n + 1):
            left = row[j] + left if inside(i, j) else 0
            new[j] = left
        row = new
    total = math.comb(m + n, m)
    return float(Fraction(total - row[n], total))


@pytest.mark.parametrize(
    ("m", "n", "d"),
    [
        (37, 91, 0.3),
        (91, 37, 0.3),
        (120, 5, 0.7),
        (200, 350, 0.2),
        (300, 301, 0.5),
        (700, 701, 0.9),  # p near 4e-301
        (1000, 1001, 0.7),  # p near 2e-235: the low edge of the band was lost (half the value)
        (1001, 1000, 0.7),
        (400, 400, 0.6),
        (250, 600, 0.05),
        (1, 9, 0.5),  # one value on a side: a band one row high
        (9, 1, 0.95),
        (1, 1000, 0.999),
        (3, 2000, 0.34),  # very unequal sizes: a band much wider than high
        (2000, 3, 0.67),
        (7, 11, 1.0),  # the largest statistic: only the two separated orders reach it
        (1200, 1201, 1 / (1200 * 1201)),  # the smallest positive statistic: p = 1
    ],
)
@pytest.mark.parametrize("implementation", ["compiled", "numpy"])
def test_exact_p_value_equals_an_integer_lattice_path_count(
    m: int, n: int, d: float, implementation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.drift import _binning

    if implementation == "compiled" and _binning.compiled() is None:
        pytest.skip("modelyard was built without its compiled kernels")
    if implementation == "numpy":
        monkeypatch.setattr(_binning, "_native", None)
    numerator = round(d * m * n)
    expected = _lattice_sf(m, n, numerator)
    got = kernels.ks_pvalue(numerator / (m * n), m, n, method="exact", numerator=numerator)
    assert got[0] == pytest.approx(expected, rel=1e-9, abs=0.0)


@pytest.mark.slow
def test_compiled_and_numpy_exact_p_values_agree_over_the_whole_range() -> None:
    from modelyard.drift import _binning

    if _binning.compiled() is None:
        pytest.skip("modelyard was built without its compiled kernels")
    for m, n in [(300, 301), (40, 1000), (999, 1000)]:
        numerator = np.unique(np.linspace(1, m * n, 400).astype(np.int64))
        got = kernels.ks_pvalue(numerator / (m * n), m, n, method="exact", numerator=numerator)
        saved, _binning._native = _binning._native, None
        try:
            want = kernels.ks_pvalue(numerator / (m * n), m, n, method="exact", numerator=numerator)
        finally:
            _binning._native = saved
        tiny = want < 1e-300  # where the NumPy path's own underflow begins
        np.testing.assert_allclose(got[~tiny], want[~tiny], rtol=1e-9, atol=0.0)
        assert (got[tiny] < 1e-290).all()


def test_far_tail_of_unequal_sizes_matches_scipy() -> None:
    # Two samples whose ECDFs differ by 0.3 at best: p is about 3.5e-80, where rows of raw
    # path counts scaled by their largest cell dropped the low edge of the band.
    x = np.linspace(0, 1, 2000)
    y = np.linspace(0, 1, 2001) + 0.3
    ref_sorted, n = kernels.sorted_columns(x[:, None])
    cur_sorted, m = kernels.sorted_columns(y[:, None])
    distances = kernels.ecdf_distances(ref_sorted, n, cur_sorted, m)
    ours = kernels.ks_pvalue(distances.ks, n, m, numerator=distances.ks_numerator)[0]
    expected = stats.ks_2samp(x, y).pvalue
    assert expected == pytest.approx(3.536e-80, rel=1e-3, abs=0.0)
    assert ours == pytest.approx(expected, rel=1e-9, abs=0.0)


@pytest.mark.slow
def test_far_tail_of_medium_unequal_sizes_matches_the_path_count() -> None:
    for m, n, d in [(2000, 2001, 0.3), (3000, 3001, 0.25)]:
        numerator = round(d * m * n)
        expected = _lattice_sf(m, n, numerator)
        got = kernels.ks_pvalue(d, m, n, method="exact", numerator=numerator)
        assert got[0] == pytest.approx(expected, rel=1e-9, abs=0.0), (m, n)


def test_exact_p_values_with_ties_match_scipy() -> None:
    # Counts with many ties: the statistic is the largest gap at the distinct values, and the
    # p-value is that of the continuous distribution at that statistic, as scipy computes it.
    rng = np.random.default_rng(7)
    ref = rng.poisson(3.0, size=(600, 6)).astype(np.float64)
    cur = rng.poisson(np.linspace(3.0, 4.5, 6), size=(450, 6)).astype(np.float64)
    ref_sorted, n = kernels.sorted_columns(ref)
    cur_sorted, m = kernels.sorted_columns(cur)
    distances = kernels.ecdf_distances(ref_sorted, n, cur_sorted, m)
    ours = kernels.ks_pvalue(distances.ks, n, m, numerator=distances.ks_numerator)
    theirs = np.array([stats.ks_2samp(ref[:, c], cur[:, c]).pvalue for c in range(6)])
    assert theirs.min() < 1e-20
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(("n1", "n2", "shift"), [(3000, 3001, 0.3), (10_000, 9999, 0.055)])
def test_far_tail_inside_the_default_exact_range_matches_scipy(
    n1: int, n2: int, shift: float
) -> None:
    # 10,000 vs 9,999 values were off by a factor of 2 from about p = 1e-12 down.
    x = np.linspace(0, 1, n1)
    y = np.linspace(0, 1, n2) + shift
    expected = stats.ks_2samp(x, y, method="exact")
    assert expected.pvalue < 1e-10
    ours = kernels.ks_pvalue(expected.statistic, n1, n2)[0]
    assert ours == pytest.approx(expected.pvalue, rel=1e-9, abs=0.0)
