"""KS p-values against scipy: exact small-sample distribution and the asymptotic one."""

from __future__ import annotations

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
