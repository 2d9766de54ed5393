"""compare() and the report: statistics, missing values, odd columns, errors, rendering."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import modelyard.drift as drift
from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError, EmptyDataError


@pytest.fixture
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(10)
    n = 3000
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.exponential(size=n),
            "city": rng.choice(["Oslo", "Lima", "Pune"], p=[0.5, 0.3, 0.2], size=n),
        }
    )


@pytest.fixture
def shifted() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 2000
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.exponential(size=n) + 0.5,
            "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], p=[0.2, 0.3, 0.2, 0.3], size=n),
        }
    )


def test_detects_the_shifted_columns(reference: pd.DataFrame, shifted: pd.DataFrame) -> None:
    report = drift.compare(drift.profile(reference), shifted)
    assert report.drifted == ["y", "city"]
    assert drift.compare(reference, shifted).to_dict() == report.to_dict()


def test_values_equal_independent_computations(
    reference: pd.DataFrame, shifted: pd.DataFrame
) -> None:
    report = drift.compare(reference, shifted)
    for name in ("x", "y"):
        ks = report.column(name).statistic("ks")
        expected = stats.ks_2samp(reference[name], shifted[name])
        assert ks.value == pytest.approx(expected.statistic, abs=1e-12)
        if expected.pvalue >= 1e-12:
            assert ks.p_value == pytest.approx(expected.pvalue, rel=1e-9)
        else:
            # Far in the tail scipy's exact recursion can overflow and fall back to the
            # asymptotic formula; modelyard's exact count does not, so only both-tiny is checked.
            assert ks.p_value < 1e-11
        w = report.column(name).statistic("wasserstein")
        assert w.value == pytest.approx(
            stats.wasserstein_distance(reference[name], shifted[name]), rel=1e-9
        )
        assert w.score == pytest.approx(w.value / reference[name].std(ddof=0), rel=1e-9)
        edges = np.quantile(reference[name], np.arange(1, 10) / 10)
        ref_counts = np.histogram(reference[name], np.r_[-np.inf, edges, np.inf])[0]
        cur_counts = np.histogram(shifted[name], np.r_[-np.inf, edges, np.inf])[0]
        psi = report.column(name).statistic("psi").value
        assert psi == pytest.approx(float(drift.kernels.psi([ref_counts], [cur_counts])[0]))
    city = report.column("city")
    labels = ["Lima", "Oslo", "Pune", "Kyiv"]
    ref_c = [int((reference["city"] == c).sum()) for c in labels]
    cur_c = [int((shifted["city"] == c).sum()) for c in labels]
    chi = stats.chi2_contingency([ref_c, cur_c], correction=False)
    assert city.statistic("chi2").value == pytest.approx(chi.statistic, rel=1e-12)
    assert city.statistic("chi2").p_value == pytest.approx(chi.pvalue, rel=1e-9, abs=1e-300)
    assert "Kyiv" in city.bin_labels  # unseen in the reference, counted


def test_identical_data_gives_zero(reference: pd.DataFrame) -> None:
    report = drift.compare(reference, reference)
    assert report.drifted == []
    for column in report.columns:
        for result in column.statistics:
            if result.statistic in ("ks", "chi2"):
                assert result.p_value == pytest.approx(1.0)
                assert result.value == pytest.approx(0.0, abs=1e-12)
            else:
                assert result.value == pytest.approx(0.0, abs=1e-12)


def test_missing_values_are_excluded_and_reported() -> None:
    ref = pd.DataFrame(
        {"x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0], "c": ["a", None, "b", "a", "b", "a"]}
    )
    cur = pd.DataFrame({"x": [np.nan, np.nan, 3.0, 4.0], "c": ["a", "b", None, None]})
    report = drift.compare(ref, cur, stats=["ks", "psi"])
    x = report.column("x")
    assert (x.reference_missing, x.current_missing) == (1, 2)
    assert x.reference_missing_rate == pytest.approx(1 / 6)
    assert x.current_missing_rate == pytest.approx(0.5)
    assert (x.reference_count, x.current_count) == (5, 2)
    expected = stats.ks_2samp([1.0, 2.0, 4.0, 5.0, 6.0], [3.0, 4.0])
    assert x.statistic("ks").value == pytest.approx(expected.statistic)
    assert x.statistic("ks").p_value == pytest.approx(expected.pvalue, rel=1e-9)
    c = report.column("c")
    assert (c.reference_missing, c.current_missing) == (1, 2)
    frame = report.to_pandas()
    assert set(frame.columns) >= {"column", "statistic", "value", "p_value", "threshold", "verdict"}
    assert len(frame) == 3  # ks does not apply to the categorical column


def test_infinities_are_counted_apart_and_left_out() -> None:
    ref = np.array([[1.0], [2.0], [np.inf], [3.0], [4.0]])
    cur = np.array([[-np.inf], [2.5], [3.5], [np.nan]])
    report = drift.compare(ref, cur, stats=["ks"])
    column = report.column("0")
    assert (column.reference_infinite, column.current_infinite) == (1, 1)
    assert (column.reference_missing, column.current_missing) == (0, 1)
    expected = stats.ks_2samp([1.0, 2.0, 3.0, 4.0], [2.5, 3.5]).statistic
    assert column.statistic("ks").value == pytest.approx(expected)


# The NumPy fallback takes seconds here; the quick run checks the compiled path.
@pytest.mark.parametrize("compiled", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_binned_statistics_alone_count_missing_and_infinite_values_the_same_way(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PSI, KL and JS alone take the single counting pass, which also counts NaN and infinities;
    # adding KS takes the sorted path. Both must report the same numbers.
    from modelyard.drift import _binning

    if not compiled:
        monkeypatch.setattr(_binning, "_native", None)
    elif _binning._native is None:
        pytest.skip("modelyard was built without its compiled counter")
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(4000, 12))
    cur = rng.normal(size=(3000, 12)) + 0.2
    for value, share in ((np.nan, 0.03), (np.inf, 0.01), (-np.inf, 0.01)):
        cur[rng.random(cur.shape) < share] = value
    cur[:, 5] = np.nan  # a column with no values
    profile = drift.profile(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", drift.DriftWarning)
        binned = drift.compare(profile, cur, stats=["psi", "kl", "js"])
        sorted_path = drift.compare(profile, cur, stats=["psi", "kl", "js", "ks"])
    for a, b in zip(binned.columns, sorted_path.columns, strict=True):
        assert (a.current_missing, a.current_infinite, a.current_count) == (
            b.current_missing,
            b.current_infinite,
            b.current_count,
        )
        assert a.current_shares == b.current_shares
        # The values are the same; the adjusted p-values are not, as KS adds tests to the family.
        family = {"adjusted_p_value", "reason"}
        for name in ("psi", "kl", "js"):
            assert a.statistic(name).model_dump(exclude=family) == b.statistic(name).model_dump(
                exclude=family
            )
    first = binned.column("0")
    finite = cur[:, 0][np.isfinite(cur[:, 0])]
    assert first.current_count == finite.size
    assert first.current_infinite == np.isinf(cur[:, 0]).sum()
    assert first.current_missing == np.isnan(cur[:, 0]).sum()
    assert binned.column("5").statistic("psi").value is None


def test_report_validates_as_its_models_declare(
    reference: pd.DataFrame, shifted: pd.DataFrame
) -> None:
    report = drift.compare(reference, shifted)
    assert drift.DriftReport.model_validate(report.model_dump()) == report
    assert drift.DriftReport.model_validate_json(report.model_dump_json()) == report


def test_constant_and_all_missing_columns_warn_and_stay_defined() -> None:
    ref = pd.DataFrame({"k": [2.0] * 50, "gone": [np.nan] * 50, "x": np.arange(50.0)})
    cur = pd.DataFrame({"k": [2.0] * 20, "gone": [1.0] * 20, "x": np.arange(20.0)})
    with pytest.warns(drift.DriftWarning):
        report = drift.compare(ref, cur)
    constant = report.column("k")
    assert constant.statistic("psi").value == pytest.approx(0.0)
    assert constant.statistic("ks").value == 0.0
    assert not constant.drifted
    gone = report.column("gone")
    assert all(r.value is None and r.verdict == "undefined" for r in gone.statistics)
    assert not gone.drifted
    assert gone.reference_missing_rate == 1.0
    assert any("no values in the reference" in w for w in gone.warnings)
    assert "warning:" in str(report)


def test_constant_current_against_varied_reference_drifts() -> None:
    rng = np.random.default_rng(0)
    report = drift.compare(rng.normal(size=(500, 1)), np.zeros((300, 1)))
    assert report.drifted == ["0"]


def test_booleans_datetimes_and_categoricals() -> None:
    rng = np.random.default_rng(2)
    n = 400
    ref = pd.DataFrame(
        {
            "flag": rng.random(n) < 0.2,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86400, n), "s"),
            "tier": pd.Categorical(rng.choice(["a", "b"], size=n)),
            "zip": rng.integers(1000, 1010, size=n),
        }
    )
    cur = ref.copy()
    cur["flag"] = rng.random(n) < 0.6
    cur["when"] = cur["when"] + pd.Timedelta(hours=12)
    report = drift.compare(ref, cur, categorical=["zip"])
    kinds = {c.name: c.kind for c in report.columns}
    assert kinds == {
        "flag": "boolean",
        "when": "datetime",
        "tier": "categorical",
        "zip": "categorical",
    }
    assert report.drifted == ["flag", "when"]
    ns = ref["when"].astype("int64")
    assert report.column("when").statistic("ks").value == pytest.approx(
        stats.ks_2samp(ns, cur["when"].astype("int64")).statistic
    )
    assert report.column("zip").bin_labels[0].isdigit()


def test_errors_from_the_modelyard_tree(reference: pd.DataFrame, shifted: pd.DataFrame) -> None:
    p = drift.profile(reference)
    with pytest.raises(ColumnMismatchError) as missing:
        drift.compare(p, shifted.drop(columns=["y"]))
    assert missing.value.missing == ["y"]
    with pytest.raises(ColumnMismatchError) as extra:
        drift.compare(p, shifted.assign(z=1.0))
    assert extra.value.unexpected == ["z"]
    assert isinstance(extra.value, ValueError)
    report = drift.compare(p, shifted.assign(z=1.0), columns=["x", "city"])
    assert [c.name for c in report.columns] == ["x", "city"]
    with pytest.raises(EmptyDataError):
        drift.compare(p, shifted.iloc[:0])
    with pytest.raises(ColumnTypeError) as wrong:
        drift.compare(p, shifted, stats={"city": ["ks"]})
    assert isinstance(wrong.value, TypeError)
    with pytest.raises(ColumnTypeError):
        drift.compare(p, shifted.assign(x=["a"] * len(shifted)))
    with pytest.raises(DriftInputError, match="unknown statistics"):
        drift.compare(p, shifted, stats=["nope"])
    with pytest.raises(DriftInputError, match="unknown drift preset"):
        drift.compare(p, shifted, config="nope")


def test_thresholds_and_stats_selection(reference: pd.DataFrame, shifted: pd.DataFrame) -> None:
    report = drift.compare(reference, shifted, stats=["psi"], thresholds={"psi": 10.0})
    assert report.drifted == []
    assert all(r.threshold == 10.0 for c in report.columns for r in c.statistics)
    only_ks = drift.compare(reference, shifted, stats={"x": ["ks"], "y": ["ks"]})
    assert [r.statistic for r in only_ks.column("x").statistics] == ["ks"]
    assert [r.statistic for r in only_ks.column("city").statistics] == ["psi", "chi2", "kl", "js"]


def test_ks_method_scipy_gives_scipy_p_values(
    reference: pd.DataFrame, shifted: pd.DataFrame
) -> None:
    config = drift.DriftConfig(ks_method="scipy")
    report = drift.compare(reference, shifted, config=config, stats=["ks"])
    expected = stats.ks_2samp(reference["x"], shifted["x"]).pvalue
    assert report.column("x").statistic("ks").p_value == expected


def test_report_renders(reference: pd.DataFrame, shifted: pd.DataFrame) -> None:
    report = drift.compare(reference, shifted)
    text = str(report)
    assert text.splitlines()[0].startswith("Drift report (modelyard): 2 of 3 columns drifted")
    assert "YES" in text
    assert report.summary() == text
    html = report._repr_html_()
    assert html.count("<svg") == 3
    assert "<table" in html
    json.dumps(report.to_dict())
    assert report.to_dict()["columns"][0]["name"] == "x"


def test_numpy_current_against_numpy_reference() -> None:
    rng = np.random.default_rng(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = drift.compare(
            rng.normal(size=(1000, 3)), rng.normal(size=(800, 3)) + np.array([0, 0, 1])
        )
    assert report.drifted == ["2"]
