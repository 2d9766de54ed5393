"""The tests behind quality findings, against scipy, exact counts and naive loops."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from modelyard.drift._quality_stats import holm, missing_rate_test, range_exceedance_pvalue


def _tables(seed: int, count: int, small: bool) -> list[tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    tables = []
    while len(tables) < count:
        r1 = int(rng.integers(5, 60 if small else 100_000))
        r2 = int(rng.integers(5, 60 if small else 50_000))
        rate = rng.uniform(0.0, 0.2 if small else 0.6)
        a = int(rng.binomial(r1, rate))
        c = int(rng.binomial(r2, min(1.0, rate * rng.uniform(0.5, 2.0))))
        if 0 < a + c < r1 + r2:
            tables.append((a, r1, c, r2))
    return tables


def test_large_counts_give_the_chi_square_test_without_correction() -> None:
    tables = _tables(1, 200, small=False)
    a, r1, c, r2 = (np.array(x) for x in zip(*tables, strict=True))
    p, tests = missing_rate_test(a, r1, c, r2)
    chi2 = tests == "chi2"
    assert chi2.sum() >= 150
    for index in np.flatnonzero(chi2):
        table = [[a[index], r1[index] - a[index]], [c[index], r2[index] - c[index]]]
        expected = stats.chi2_contingency(table, correction=False)[1]
        assert p[index] == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_small_counts_give_fishers_exact_test() -> None:
    tables = _tables(2, 300, small=True)
    a, r1, c, r2 = (np.array(x) for x in zip(*tables, strict=True))
    p, tests = missing_rate_test(a, r1, c, r2)
    fisher = tests == "fisher"
    assert fisher.sum() >= 100
    for index in np.flatnonzero(fisher):
        table = [[a[index], r1[index] - a[index]], [c[index], r2[index] - c[index]]]
        expected = stats.fisher_exact(table)[1]
        assert p[index] == pytest.approx(expected, rel=1e-9)
        # Cochran's rule: the exact test is used exactly when an expected cell is below 5.
        assert stats.contingency.expected_freq(table).min() < 5


def test_the_exact_test_is_used_for_a_huge_reference_against_a_small_batch() -> None:
    p, tests = missing_rate_test([3], [5_000_000], [2], [300])
    expected = stats.fisher_exact([[3, 5_000_000 - 3], [2, 298]])[1]
    assert tests.tolist() == ["fisher"]
    assert p[0] == pytest.approx(expected, rel=1e-9)


def test_no_missing_or_all_missing_on_both_sides_is_no_evidence() -> None:
    p, _ = missing_rate_test([0, 100, 0], [100, 100, 0], [0, 50, 7], [50, 50, 10])
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_range_exceedance_is_the_hypergeometric_probability() -> None:
    for n, m, k in [(10, 5, 1), (10, 5, 5), (1000, 2000, 3), (50, 50, 20), (7, 3, 0), (5, 3, 4)]:
        p = range_exceedance_pvalue([n], [m], [k])[0]
        if k == 0:
            assert p == 1.0
        elif k > m:
            assert p == 0.0
        else:
            exact = math.comb(m, k) / math.comb(n + m, k)
            assert p == pytest.approx(exact, rel=1e-10)
            assert p == pytest.approx(stats.hypergeom(n + m, m, k).pmf(k), rel=1e-9)


def test_range_exceedance_matches_a_permutation_simulation() -> None:
    # Exchangeable values: the batch's count above the reference maximum, by simulation.
    rng = np.random.default_rng(3)
    n, m, trials = 20, 15, 40_000
    values = rng.random((trials, n + m))
    above = (values[:, n:] > values[:, :n].max(axis=1, keepdims=True)).sum(axis=1)
    for k in range(1, 5):
        simulated = float(np.mean(above >= k))
        assert range_exceedance_pvalue([n], [m], [k])[0] == pytest.approx(simulated, abs=0.006)


def _naive_holm_rejections(p: list[float], alpha: float) -> set[int]:
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected: set[int] = set()
    for step, index in enumerate(order):
        if p[index] > alpha / (len(p) - step):
            break
        rejected.add(index)
    return rejected


def test_holm_rejects_what_the_step_down_procedure_rejects() -> None:
    rng = np.random.default_rng(4)
    for _ in range(500):
        size = int(rng.integers(1, 12))
        p = (rng.random(size) ** rng.uniform(1, 6)).tolist()
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        adjusted = holm(p)
        assert {i for i in range(size) if adjusted[i] <= alpha} == _naive_holm_rejections(p, alpha)
        assert np.all(adjusted >= np.array(p)) and np.all(adjusted <= 1.0)


def test_holm_of_nothing_is_nothing() -> None:
    assert holm([]).size == 0


@pytest.mark.parametrize(("k", "m"), list(itertools.product([1, 3], [2, 40])))
def test_exceedance_never_exceeds_one(k: int, m: int) -> None:
    assert 0.0 <= range_exceedance_pvalue([3], [m], [k])[0] <= 1.0
