"""multivariate(): a correlation flip the univariate monitor misses, values against scikit-learn
and naive loops, the false-alarm rate under no change, and the result's forms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

import modelyard.drift as drift
from modelyard.drift import DriftWarning
from modelyard.drift._multivariate_classifier import fold_tests, out_of_fold, separate
from modelyard.drift._multivariate_encode import fit_encoder
from modelyard.drift._multivariate_pca import band_false_alarm
from modelyard.errors import (
    ColumnMismatchError,
    ColumnTypeError,
    EmptyDataError,
    InputError,
    IntegrityError,
)

FAST = {"trees": 20, "max_rows": 600}


def pairs(rng: np.random.Generator, n: int, rho: float, extra: int = 2) -> pd.DataFrame:
    """Two standard normal columns with correlation ``rho``, and independent ones."""
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    frame = {"x": x, "y": y}
    for i in range(extra):
        frame[f"z{i}"] = rng.normal(size=n)
    return pd.DataFrame(frame)


def flipped(seed: int = 0, reference_rows: int = 5000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference with correlation +0.8, and six windows of 500 rows: three alike, then three
    with correlation -0.8. The marginals never change."""
    rng = np.random.default_rng(seed)
    reference = pairs(rng, reference_rows, 0.8)
    live = pd.concat(
        [pairs(rng, 500, 0.8) for _ in range(3)] + [pairs(rng, 500, -0.8) for _ in range(3)],
        ignore_index=True,
    )
    return reference, live


@pytest.mark.slow
def test_a_correlation_flip_is_missed_by_the_univariate_monitor_and_found_by_both_methods() -> None:
    reference, live = flipped()
    univariate = drift.monitor(reference, live, rows=500)
    assert [w.verdict for w in univariate.windows] == ["stable"] * 6
    result = drift.multivariate(reference, live, rows=500, **FAST)
    for name in ("classifier", "reconstruction"):
        verdicts = [w.verdict for w in result.method(name)]
        assert verdicts == ["stable"] * 3 + ["drift"] * 3, name
    for w in result.method("classifier")[3:]:
        assert w.value is not None and w.value > 0.75
        assert {name for name, _ in w.features[:2]} == {"x", "y"}
        assert "separated most by" in w.reason
    assert sorted({a[0] for a in result.alerts}) == [3, 4, 5]


def test_reconstruction_matches_scikit_learn_pca_and_a_loop_over_reference_windows() -> None:
    rng = np.random.default_rng(5)
    reference = pairs(rng, 3000, 0.6, extra=4)
    reference.loc[rng.choice(3000, 100, replace=False), "z1"] = np.nan
    live = pairs(rng, 1200, -0.3, extra=4)
    live.loc[rng.choice(1200, 50, replace=False), "x"] = np.nan
    with pytest.warns(DriftWarning, match="7 reference windows"):
        result = drift.multivariate(reference, live, rows=400, method="reconstruction")
    means = reference.mean()
    scaler = StandardScaler().fit(reference.fillna(means))
    pca = PCA(n_components=0.65).fit(scaler.transform(reference.fillna(means)))

    def errors(frame: pd.DataFrame) -> np.ndarray:
        scaled = scaler.transform(frame.fillna(means))
        return np.linalg.norm(scaled - pca.inverse_transform(pca.transform(scaled)), axis=1)

    reference_windows = [errors(reference.iloc[i : i + 400]).mean() for i in range(0, 2800, 400)]
    centre, spread = np.mean(reference_windows), np.std(reference_windows)
    live_errors = errors(live)
    assert result.components == pca.n_components_
    assert result.reference_window_rows == 400
    for w in result.windows:
        assert w.value == pytest.approx(live_errors[w.start : w.end].mean(), abs=1e-9)
        assert w.lower == pytest.approx(max(centre - 3 * spread, 0), abs=1e-9)
        assert w.upper == pytest.approx(centre + 3 * spread, abs=1e-9)
        assert w.p_value is None


def test_the_classifier_auc_and_p_values_match_roc_auc_score_and_scipy_on_the_same_folds() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=(300, 3))
    window = rng.normal([0.3, 0, 0], size=(300, 3))
    values = np.concatenate([reference, window])
    labels = np.repeat([0, 1], 300)
    scores, importances, fold = out_of_fold(values, labels, folds=5, trees=20, seed=4)
    # The same folds and forests, by hand.
    by_hand = np.empty(600)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=4)
    for k, (train, test) in enumerate(splitter.split(values, labels)):
        forest = RandomForestClassifier(
            n_estimators=20, min_samples_leaf=5, random_state=4 + k, n_jobs=1
        ).fit(values[train], labels[train])
        by_hand[test] = forest.predict_proba(values[test])[:, 1]
        assert np.all(fold[test] == k)
    np.testing.assert_array_equal(scores, by_hand)
    assert importances.sum() == pytest.approx(1.0) and int(np.argmax(importances)) == 0
    u, pairs_, p = fold_tests(labels, scores, fold)
    for k in range(5):
        inside = fold == k
        auc = roc_auc_score(labels[inside], scores[inside])
        assert u[k] / pairs_[k] == pytest.approx(auc, abs=1e-12)
        test = mannwhitneyu(
            scores[inside & (labels == 1)],
            scores[inside & (labels == 0)],
            alternative="greater",
            method="asymptotic",
        )
        assert p[k] == pytest.approx(test.pvalue, rel=1e-9, abs=1e-15)
    found = separate(reference, window, max_rows=300, trees=20, seed=4)
    aucs = [roc_auc_score(labels[fold == k], scores[fold == k]) for k in range(5)]
    assert found.auc == pytest.approx(np.mean(aucs), abs=1e-12)  # equal folds: the mean
    # The median of five p-values, scaled by 5/3.
    assert found.p_value == pytest.approx(min(1.0, np.median(p) * 5 / 3), rel=1e-12)
    assert found.rows == 300


@pytest.mark.slow
@pytest.mark.parametrize("rows", [200])
def test_under_no_change_neither_method_raises_alarms_beyond_its_level(rows: int) -> None:
    rng = np.random.default_rng(11)
    reference = pairs(rng, 6000, 0.7)
    live = pairs(rng, 30 * rows, 0.7)
    result = drift.multivariate(reference, live, rows=rows, trees=10, max_rows=rows)
    classifier = result.method("classifier")
    p_values = np.array([w.p_value for w in classifier])
    # The combined p-value is conservative: below alpha = 0.05 in at most 2 of 30 windows
    # (binomial tail at 5%: P(X >= 3) = 0.19, so a valid test seldom exceeds this by chance).
    assert np.count_nonzero(p_values < 0.05) <= 2
    assert sum(w.drifted for w in classifier) <= 1
    assert sum(w.drifted for w in result.method("reconstruction")) <= 1


@pytest.mark.slow
def test_false_alarm_rate_by_seeded_simulation() -> None:
    """200 windows of 200 rows with no change, in 10 datasets: the classifier's p-value falls
    below 0.05 in at most 5% of windows, and the reconstruction's 3-sd band (from 30 reference
    windows) alarms in at most 2% of them."""
    below = alarms = total = 0
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        reference = pairs(rng, 6000, 0.7)
        live = pairs(rng, 20 * 200, 0.7)
        result = drift.multivariate(reference, live, rows=200, trees=10, seed=seed)
        below += sum(
            w.p_value is not None and w.p_value < 0.05 for w in result.method("classifier")
        )
        alarms += sum(w.drifted for w in result.method("reconstruction"))
        total += 20
    assert below / total <= 0.05
    assert alarms / total <= 0.02


def test_the_bands_false_alarm_rate_matches_a_simulation_and_a_short_reference_warns() -> None:
    rng = np.random.default_rng(9)
    for m in (6, 30):
        values = rng.normal(size=(200_000, m + 1))
        reference, new = values[:, :m], values[:, m]
        centre, spread = reference.mean(axis=1), reference.std(axis=1)
        rate = np.mean(np.abs(new - centre) > 3 * spread)
        assert rate == pytest.approx(band_false_alarm(m), abs=0.002)
    reference, live = flipped(7, reference_rows=3000)
    with pytest.warns(DriftWarning, match="6 reference windows of 500 rows.*5.2%"):
        drift.multivariate(reference, live, rows=500, method="reconstruction")


def test_categories_and_missing_values_are_encoded_with_the_references_rules() -> None:
    reference = pd.DataFrame(
        {"c": ["a", "a", "b", None, "a", "c"], "v": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0]}
    )
    encoder = fit_encoder(reference, None)
    batch = pd.DataFrame({"c": ["b", "z", None], "v": [np.nan, 2.0, np.inf]})
    # Frequencies after the missing value becomes the most frequent category: a 4/6, b 1/6.
    np.testing.assert_allclose(
        encoder.reconstruction(batch), [[1 / 6, 19 / 5], [0.0, 2.0], [4 / 6, 19 / 5]]
    )
    codes = encoder.classifier(batch)
    assert codes[0, 0] == 1 and codes[1, 0] == 3 and np.isnan(codes[2, 0])
    assert np.isnan(codes[0, 1]) and np.isnan(codes[2, 1])


def test_the_classifier_names_a_categorical_column_whose_mix_changes() -> None:
    rng = np.random.default_rng(8)
    reference = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "pro", "team"], 3000, p=[0.6, 0.3, 0.1]),
            "x": rng.normal(size=3000),
        }
    )
    reference.loc[::7, "x"] = np.nan
    live = pd.DataFrame(
        {"plan": rng.choice(["basic", "pro", "team", "new"], 600, p=[0.2, 0.3, 0.3, 0.2])}
    )
    live["x"] = rng.normal(size=600)
    live.loc[::7, "x"] = np.nan  # missing as often as in the reference: no difference
    result = drift.multivariate(reference, live, rows=600, method="classifier", **FAST)
    w = result.method("classifier")[0]
    assert w.drifted and w.features[0][0] == "plan"


@pytest.mark.slow
def test_time_windows_leave_the_time_column_out_and_short_windows_say_so() -> None:
    reference, live = flipped(3, reference_rows=20_000)
    live["ts"] = pd.date_range("2026-05-01", periods=len(live), freq="1min", tz="UTC")
    live = live[live.index < 2000]  # the flip comes at row 1500, in the third window
    result = drift.multivariate(
        reference, live, time="ts", every="12h", min_rows=500, method="reconstruction"
    )
    assert result.columns == ("x", "y", "z0", "z1")
    rows = [w.rows for w in result.windows]
    assert rows == [720, 720, 560]
    assert [w.verdict for w in result.windows] == ["stable", "stable", "drift"]
    table = result.to_pandas()
    assert str(table["start"].dt.tz) == "UTC"
    assert table["start"].iloc[0] == pd.Timestamp("2026-05-01", tz="UTC")
    gap = live.drop(index=range(800, 1600))
    short = drift.multivariate(
        reference,
        gap,
        time="ts",
        every="6h",
        method="classifier",
        min_rows=100,
        **FAST,
    )
    assert [w.rows for w in short.windows] == [360, 360, 80, 0, 200, 200]
    verdicts = [w.verdict for w in short.windows]
    assert verdicts[2:4] == ["insufficient data"] * 2 and "insufficient data" not in verdicts[4:]
    assert "80 rows, fewer than min_rows=100" in short.windows[2].reason
    assert "no rows" in short.windows[3].reason and short.windows[3].value is None


def test_the_result_round_trips_is_checked_on_read_and_stores_as_an_artifact() -> None:
    import modelyard as my

    reference, live = flipped(4, reference_rows=12_000)
    result = drift.multivariate(reference, live, rows=1000, **FAST)
    assert drift.MultivariateDrift.from_bytes(result.to_bytes()) == result
    newer = json.loads(result.to_bytes())
    newer["schema_version"] = 2
    with pytest.raises(IntegrityError, match="schema version 2"):
        drift.MultivariateDrift.from_bytes(json.dumps(newer).encode())
    older = json.loads(result.to_bytes())
    del older["schema_version"]
    assert drift.MultivariateDrift.from_bytes(json.dumps(older).encode()) == result
    yard = my.open_yard("memory://")
    ref = yard.artifacts.put(result, name="multivariate")
    assert yard.artifacts.get(ref) == result
    table = result.to_pandas()
    assert list(table.columns[:6]) == ["window", "start", "end", "rows", "method", "value"]
    assert len(table) == 2 * 3 and table["features"].iloc[0].count(",") == 2
    assert "MultivariateDrift(3 rows windows of 1000" in repr(result)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"method": "umap"}, InputError, "method="),
        ({"alpha": 1.5}, InputError, "alpha="),
        ({"auc_threshold": 0.4}, InputError, "auc_threshold="),
        ({"variance": 1.0}, InputError, "variance="),
        ({"folds": 1}, InputError, "folds="),
        ({"min_rows": 3}, InputError, "min_rows="),
        ({"columns": ["x", "w"]}, ColumnMismatchError, "not in the reference"),
        ({"reference_rows": 4000}, EmptyDataError, "two reference windows"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    options: dict[str, object], error: type[Exception], match: str
) -> None:
    reference, live = flipped(5)
    with pytest.raises(error, match=match):
        drift.multivariate(reference, live, rows=500, **options)  # type: ignore[arg-type]


def test_window_arguments_are_checked_and_data_needs_the_references_columns() -> None:
    reference, live = flipped(6)
    with pytest.raises(InputError, match="say how to cut"):
        drift.multivariate(reference, live)
    other = drift.windows(np.zeros(10), rows=5)
    with pytest.raises(InputError, match="built over 10 rows"):
        drift.multivariate(reference, live, windows=other)
    with pytest.raises(ColumnMismatchError, match="'y' of the reference is missing"):
        drift.multivariate(reference, live.drop(columns=["y"]), rows=500, **FAST)
    with pytest.raises(EmptyDataError, match="no rows"):
        drift.multivariate(reference, live.iloc[:0], rows=500)
    with pytest.raises(ColumnTypeError, match="'x' is numeric in the reference"):
        drift.multivariate(reference, live.astype({"x": str}), rows=500, **FAST)


def test_arrays_and_mappings_are_read_and_columns_choose_a_subset() -> None:
    reference, live = flipped(10)
    from_frames = drift.multivariate(reference, live, rows=500, method="reconstruction")
    from_arrays = drift.multivariate(
        reference.to_numpy(), live.to_numpy(), rows=500, method="reconstruction"
    )
    assert from_arrays.columns == ("0", "1", "2", "3")
    assert [w.value for w in from_arrays.windows] == [w.value for w in from_frames.windows]
    subset = drift.multivariate(
        reference,
        {k: live[k].to_numpy() for k in live},
        rows=500,
        columns=["x", "z0"],
        method="classifier",
        **FAST,
    )
    assert subset.columns == ("x", "z0")
    # Without y, the flip cannot be seen.
    assert not subset.alerts
