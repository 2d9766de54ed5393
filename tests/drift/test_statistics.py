"""The table of statistics is the one definition everything else reads."""

from __future__ import annotations

import math
import typing

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial import distance

import modelyard.drift as drift
from modelyard.drift._comparison_bins import JointSturgesBins, ReferenceBins, comparison_bins
from modelyard.drift._config import (
    CATEGORICAL_STATISTICS,
    DEFAULT_THRESHOLDS,
    NUMERIC_STATISTICS,
    TESTS,
    DriftConfig,
)
from modelyard.drift._statistics import STATISTICS, SortedInputs, Statistic


def test_every_statistic_name_has_exactly_one_definition() -> None:
    assert tuple(STATISTICS) == typing.get_args(Statistic)
    for name, spec in STATISTICS.items():
        assert spec.name == name
        assert spec.title and spec.summary
        # Measured from exactly one source.
        assert (spec.from_bins is None) != (spec.from_sorted is None)
        assert (spec.source == "bins") == (spec.from_bins is not None)


def test_configuration_lists_are_read_from_the_table() -> None:
    assert NUMERIC_STATISTICS == ("psi", "kl", "js", "ks", "wasserstein")
    assert CATEGORICAL_STATISTICS == ("psi", "kl", "js", "chi2")
    assert frozenset({"ks", "chi2"}) == TESTS
    assert dict(DEFAULT_THRESHOLDS) == {n: s.threshold for n, s in STATISTICS.items()}
    assert dict(DriftConfig().thresholds) == dict(DEFAULT_THRESHOLDS)


def test_binned_statistics_match_independent_references() -> None:
    rng = np.random.default_rng(11)
    ref = rng.integers(50, 500, size=(4, 6))
    cur = rng.integers(50, 500, size=(4, 6))
    cfg = DriftConfig()
    p, q = ref / ref.sum(axis=1, keepdims=True), cur / cur.sum(axis=1, keepdims=True)
    psi = STATISTICS["psi"].measure_bins(ref, cur, cfg)
    np.testing.assert_allclose(psi.value, ((q - p) * np.log(q / p)).sum(axis=1), rtol=1e-12)
    assert np.array_equal(psi.score, psi.value)
    kl = STATISTICS["kl"].measure_bins(ref, cur, cfg)
    np.testing.assert_allclose(
        kl.value, [sps.entropy(a, b) for a, b in zip(p, q, strict=True)], rtol=1e-12
    )
    js = STATISTICS["js"].measure_bins(ref, cur, cfg)
    np.testing.assert_allclose(
        js.value, [distance.jensenshannon(a, b) for a, b in zip(p, q, strict=True)], rtol=1e-12
    )
    chi2 = STATISTICS["chi2"].measure_bins(ref, cur, cfg)
    expected = [
        sps.chi2_contingency(np.stack([a, b]), correction=False)
        for a, b in zip(ref, cur, strict=True)
    ]
    np.testing.assert_allclose(chi2.value, [e.statistic for e in expected], rtol=1e-12)
    np.testing.assert_allclose(chi2.p_value, [e.pvalue for e in expected], rtol=1e-9)
    # A test's score is its p-value.
    assert np.array_equal(chi2.score, chi2.p_value)
    # PSI's p-value: Pearson's chi-square of the same bins after the second-order expansion.
    n, m = ref.sum(axis=1), cur.sum(axis=1)
    pearson = psi.value / (1 / n + 1 / m)
    np.testing.assert_allclose(psi.p_value, sps.chi2.sf(pearson, 5), rtol=1e-12)


def test_sorted_statistics_scale_wasserstein_by_the_reference_spread() -> None:
    inputs = SortedInputs(
        ks=np.array([0.2, 0.3]),
        wasserstein=np.array([0.5, 0.5]),
        ks_p_value=np.array([0.01, 0.5]),
        reference_std=np.array([2.0, math.nan]),
    )
    w = STATISTICS["wasserstein"].measure_sorted(inputs, DriftConfig())
    assert w.score.tolist() == [0.25, 0.5]  # unknown spread: unscaled
    assert w.p_value.tolist() == [0.01, 0.5]  # borrowed from KS
    raw = STATISTICS["wasserstein"].measure_sorted(inputs, DriftConfig(wasserstein_scale="none"))
    assert raw.score.tolist() == [0.5, 0.5]
    ks = STATISTICS["ks"].measure_sorted(inputs, DriftConfig())
    assert ks.score.tolist() == [0.01, 0.5]
    with pytest.raises(ValueError, match="not measured from bin counts"):
        STATISTICS["ks"].measure_bins(
            np.ones((1, 2), np.int64), np.ones((1, 2), np.int64), DriftConfig()
        )


def test_binning_strategy_follows_the_configuration() -> None:
    assert isinstance(comparison_bins(DriftConfig()), ReferenceBins)
    assert isinstance(comparison_bins(drift.PRESETS["nannyml"]), ReferenceBins)
    evidently = comparison_bins(drift.PRESETS["evidently"])
    assert isinstance(evidently, JointSturgesBins)
    assert not evidently.shared
    assert evidently.profile_binning(drift.PRESETS["evidently"]) == "quantile"


def test_joint_bins_are_numpys_sturges_over_both_samples() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=700), rng.normal(0.4, size=300)
    report = drift.compare({"x": ref}, {"x": cur}, config="evidently", stats=["psi"])
    edges = np.histogram_bin_edges(np.r_[ref, cur], bins="sturges")
    a, b = np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]
    column = report.column("x")
    np.testing.assert_allclose(column.reference_shares, a / a.sum(), rtol=1e-12)
    np.testing.assert_allclose(column.current_shares, b / b.sum(), rtol=1e-12)


def test_the_guide_has_a_verdict_row_for_every_statistic() -> None:
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "drift.md").read_text()
    for name in STATISTICS:
        assert f"\n| `{name}` |" in guide, f"docs/drift.md has no verdict row for {name}"


def test_bounded_statistics_state_their_largest_value() -> None:
    from scipy.spatial import distance as d

    disjoint = STATISTICS["js"].measure_bins(
        np.array([[10, 0]]), np.array([[0, 10]]), DriftConfig(js_base=2.0)
    )
    assert disjoint.value[0] == pytest.approx(
        STATISTICS["js"].upper_limit(DriftConfig(js_base=2.0))
    )
    assert STATISTICS["js"].upper_limit(DriftConfig()) == pytest.approx(
        d.jensenshannon([1, 0], [0, 1])
    )
    assert STATISTICS["ks"].upper_limit(DriftConfig()) == 1.0
    assert STATISTICS["psi"].upper_limit(DriftConfig()) == math.inf
