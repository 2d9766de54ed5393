"""The verdict rule: significance after correction, effect size, too little data, reasons."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import modelyard.drift as drift
from modelyard.drift import _verdicts, kernels
from modelyard.drift._divergence import js_distance, kl_divergence, psi
from modelyard.errors import IntegrityError

from ._shapes import dataset

DATA = Path(__file__).parent / "data"


def _holm_loop(p: list[float]) -> list[float]:
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


def _bh_loop(p: list[float]) -> list[float]:
    size = len(p)
    return [
        min(
            1.0,
            min(
                size * p[j] / (sum(p[k] <= p[j] for k in range(size)))
                for j in range(size)
                if p[j] >= p[i]
            ),
        )
        for i in range(size)
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corrections_match_a_plain_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=15), rng.uniform(0, 1e-3, size=5)])
    np.testing.assert_allclose(_verdicts.adjust_p_values(p, "holm"), _holm_loop(p.tolist()))
    np.testing.assert_allclose(_verdicts.adjust_p_values(p, "bh"), _bh_loop(p.tolist()))
    np.testing.assert_array_equal(_verdicts.adjust_p_values(p, "none"), p)
    # A missing p-value is not a test: the family is the others.
    with_gap = np.append(p, np.nan)
    adjusted = _verdicts.adjust_p_values(with_gap, "holm")
    assert np.isnan(adjusted[-1])
    np.testing.assert_allclose(adjusted[:-1], _holm_loop(p.tolist()))
    with pytest.raises(ValueError, match="unknown correction"):
        _verdicts.adjust_p_values(p, "bonferroni")  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "m"), [(1000, 1000), (3000, 500)])
def test_binned_p_values_hold_their_level_under_the_null(n: int, m: int) -> None:
    # Seeded simulation of the null: the share of p-values below each level is that level.
    rng = np.random.default_rng(n + m)
    probabilities = np.array([0.05, 0.1, 0.15, 0.2, 0.2, 0.1, 0.1, 0.1])
    reps = 20_000
    ref = rng.multinomial(n, probabilities, size=reps)
    cur = rng.multinomial(m, probabilities, size=reps)
    bins = ((ref > 0) | (cur > 0)).sum(axis=1)
    for name, value in (
        ("psi", psi(ref, cur)),
        ("kl", kl_divergence(ref, cur)),
        ("js", js_distance(ref, cur, base=2.0)),
    ):
        base = 2.0 if name == "js" else np.e
        p = _verdicts.binned_p_value(name, value, n, m, bins, base=base)
        for level in (0.05, 0.01):
            share = float((p < level).mean())
            # Binomial standard error of the share is below 0.0016 at 0.05 with 20,000 draws.
            # KL's log-ratio has the heaviest tail of the three: its level holds less tightly.
            assert share == pytest.approx(level, rel=0.4 if name == "kl" else 0.2), (name, share)


def test_js_p_value_is_pearsons_test_of_the_same_bins_for_small_differences() -> None:
    # The expansion behind the null: 8 n m / (n + m) JS**2 is Pearson's chi-square statistic.
    ref = np.array([[200, 310, 290, 200]])
    cur = np.array([[190, 330, 270, 210]])
    ours = _verdicts.binned_p_value("js", js_distance(ref, cur), 1000, 1000, 4)[0]
    pearson = stats.chi2_contingency(np.vstack([ref, cur]), correction=False).pvalue
    assert ours == pytest.approx(pearson, rel=0.01)


def test_same_distribution_is_not_drift_at_small_samples() -> None:
    # Before: at 100 rows per side 92% of columns were called drifted, at 300 rows 45%.
    rng = np.random.default_rng(11)
    alarms = 0
    for rows in (100, 300):
        for _ in range(6):
            report = drift.compare(dataset(rng, rows), dataset(rng, rows))
            alarms += bool(report.drifted)
    assert alarms <= 1


def test_a_shift_of_a_third_of_a_standard_deviation_is_found_at_1000_rows() -> None:
    rng = np.random.default_rng(12)
    found = [
        len(drift.compare(dataset(rng, 1000), dataset(rng, 1000, 0.3)).drifted) for _ in range(3)
    ]
    assert sum(found) / (30 * 3) >= 0.8


@pytest.mark.slow
def test_a_negligible_shift_on_a_million_rows_is_significant_but_not_drift() -> None:
    # The benchmark runs the full 30 columns; three normal ones keep the test short.
    rng = np.random.default_rng(13)
    ref = rng.normal(size=(1_000_000, 3))
    report = drift.compare(ref, rng.normal(size=(1_000_000, 3)) + 0.01)
    assert report.drifted == []
    normal = report.column("0")
    assert normal.statistic("ks").verdict == "drift"  # significant, yet too small to matter
    assert "too small" in normal.statistic("wasserstein").reason


def test_too_little_data_is_insufficient_not_drift() -> None:
    rng = np.random.default_rng(3)
    ref = {"x": rng.normal(size=12), "c": rng.choice(["a", "b"], size=12)}
    cur = {"x": rng.normal(5.0, size=10), "c": np.array(["b"] * 10)}
    report = drift.compare(ref, cur)
    assert report.drifted == []
    for name in ("x", "c"):
        column = report.column(name)
        assert column.verdict == "insufficient data"
        assert "insufficient data" in column.reason
        assert all(r.verdict == "insufficient data" for r in column.statistics)
    assert "10 values on the smaller side, fewer than 20" in report.column("x").reason
    # The threshold-only rule, as before, calls both drifted.
    old = drift.compare(ref, cur, config=drift.DriftConfig(rule="threshold"))
    assert old.drifted == ["x", "c"]


def test_the_report_says_why_with_the_numbers() -> None:
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(20_000, 3))
    cur = rng.normal(size=(20_000, 3)) + np.array([0.0, 0.08, 1.0])
    report = drift.compare(ref, cur, stats=["psi", "ks", "wasserstein"])
    assert report.drifted == ["2"]
    small = report.column("1")
    assert small.verdict == "stable"
    ks = small.statistic("ks")
    assert ks.adjusted_p_value is not None and ks.adjusted_p_value < 0.05
    w = small.statistic("wasserstein")
    assert w.p_value == ks.p_value  # the Wasserstein distance is judged by the KS test
    assert w.reason.startswith("significant (adjusted p ") and w.reason.endswith("too small")
    big = report.column("2")
    assert "significant" in big.reason and ">= 0.1" in big.reason
    frame = report.to_pandas()
    assert {"adjusted_p_value", "reason"} <= set(frame.columns)


def test_the_family_is_every_p_value_of_the_report() -> None:
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(400, 8))
    cur = rng.normal(size=(400, 8)) + np.linspace(0, 0.4, 8)
    for correction in ("holm", "bh", "none"):
        config = drift.DriftConfig(correction=correction)
        report = drift.compare(ref, cur, config=config)
        results = [r for c in report.columns for r in c.statistics]
        raw = np.array([r.p_value for r in results], dtype=float)
        adjusted = np.array([r.adjusted_p_value for r in results], dtype=float)
        np.testing.assert_allclose(adjusted, _verdicts.adjust_p_values(raw, correction))
    holm = drift.compare(ref, cur).drifted
    none = drift.compare(ref, cur, config=drift.DriftConfig(correction="none")).drifted
    assert set(holm) <= set(none)


def test_config_rejects_a_bad_level() -> None:
    with pytest.raises(ValueError, match="alpha"):
        drift.DriftConfig(alpha=1.5)
    with pytest.raises(ValueError, match="correction"):
        drift.DriftConfig(correction="bonferroni")  # type: ignore[arg-type]


def test_presets_keep_their_tools_threshold_rule() -> None:
    assert drift.PRESETS["evidently"].rule == "threshold"
    assert drift.PRESETS["nannyml"].correction == "none"
    rng = np.random.default_rng(6)
    ref, cur = rng.normal(size=(100, 6)), rng.normal(size=(100, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = drift.compare(ref, cur, config="evidently")
    for column in report.columns:
        psi_result = column.statistic("psi")
        assert psi_result.drifted == (psi_result.score is not None and psi_result.score >= 0.1)


def test_reports_written_before_verdict_reasons_still_load() -> None:
    # Written by modelyard before the verdict rule: no schema version, no reasons.
    data = (DATA / "report_v1.json").read_bytes()
    report = drift.DriftReport.from_bytes(data)
    assert report.schema_version == 1
    assert report.config.rule == "threshold"
    assert report.drifted == ["x", "c"]
    assert all(c.verdict == "drift" for c in report.columns)
    assert report.column("x").statistic("psi").adjusted_p_value is None
    again = drift.DriftReport.from_bytes(report.to_bytes())
    assert again == report


def test_a_report_from_a_newer_modelyard_is_refused() -> None:
    rng = np.random.default_rng(0)
    report = drift.compare(rng.normal(size=(100, 1)), rng.normal(size=(100, 1)))
    assert report.schema_version == 2
    assert drift.DriftReport.from_bytes(report.to_bytes()) == report
    raw = json.loads(report.to_bytes())
    raw["schema_version"] = 3
    with pytest.raises(IntegrityError, match="schema version 3"):
        drift.DriftReport.from_bytes(json.dumps(raw).encode())


def test_the_html_view_shows_each_column_verdict_and_reason() -> None:
    rng = np.random.default_rng(8)
    ref = {"<b>x</b>": rng.normal(size=500), "few": np.r_[rng.normal(size=10), [np.nan] * 490]}
    cur = {"<b>x</b>": rng.normal(1.0, size=400), "few": np.r_[rng.normal(size=8), [np.nan] * 392]}
    report = drift.compare(ref, cur, stats=["psi", "ks", "wasserstein"])
    html = report._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert report.column("few").verdict == "insufficient data"
    assert "too little data" in html
    assert report.column("few").reason in html


def test_the_kernels_expose_the_p_values_and_corrections() -> None:
    assert kernels.binned_p_value is _verdicts.binned_p_value
    assert kernels.adjust_p_values is _verdicts.adjust_p_values
