"""Data-quality findings of a batch against a reference profile (drift.quality, profile.check)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

import modelyard.drift as drift
from modelyard.drift import QualityReport
from modelyard.errors import (
    ColumnMismatchError,
    ColumnTypeError,
    DriftInputError,
    IntegrityError,
)

DATA = Path(__file__).with_name("data")


def _frame(
    rng: np.random.Generator, n: int, missing: float = 0.0, shift: float = 0.0
) -> pd.DataFrame:
    income = rng.normal(50 + shift, 10, n)
    income[rng.random(n) < missing] = np.nan
    return pd.DataFrame(
        {
            "income": income,
            "visits": rng.poisson(3, n),
            "plan": pd.Series(rng.choice(["basic", "plus", "pro"], n), dtype=object),
            "active": rng.random(n) < 0.7,
        }
    )


def _only(report: QualityReport, column: str, check: str) -> drift.QualityFinding:
    found = [c for c in report.checks if c.column == column and c.check == check]
    assert len(found) == 1, report.checks
    return found[0]


@pytest.mark.filterwarnings("ignore:column .* is constant in the reference")
def test_the_issues_missing_rate_jump_from_9_5_to_39_3_percent_is_flagged() -> None:
    # Exactly 9.5 % missing in 2,000 reference rows, 39.3 % in 1,000 current rows.
    reference = pd.DataFrame({"x": np.where(np.arange(2000) < 190, np.nan, 1.0)})
    current = pd.DataFrame({"x": np.where(np.arange(1000) < 393, np.nan, 1.0)})
    report = drift.quality(drift.profile(reference), current)
    finding = _only(report, "x", "missing_rate")
    assert finding.severity == "error"
    assert (finding.reference_share, finding.share, finding.count) == (0.095, 0.393, 393)
    expected = stats.chi2_contingency([[190, 1810], [393, 607]], correction=False)[1]
    assert finding.p_value == pytest.approx(expected, rel=1e-9)
    assert finding.details["test"] == "chi2"
    assert "rose from 9.5% to 39.3%" in finding.reason
    assert not report.ok
    with pytest.raises(DriftInputError, match=re.escape("rose from 9.5% to 39.3%")):
        report.raise_for_problems()


def test_a_batch_from_the_reference_distribution_has_no_findings() -> None:
    rng = np.random.default_rng(10)
    reference = drift.profile(_frame(rng, 3000, missing=0.095))
    report = drift.quality(reference, _frame(rng, 1000, missing=0.095))
    assert report.ok and report.findings == []
    assert [(c.column, c.check) for c in report.checks] == [
        ("income", "missing_rate"),
        ("income", "out_of_range"),
        ("visits", "missing_rate"),
        ("visits", "out_of_range"),
        ("plan", "missing_rate"),
        ("plan", "unseen_categories"),
        ("active", "missing_rate"),
        ("active", "unseen_categories"),
    ]


def _null_dataset(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """The issue's data shape: 30 columns of normal, lognormal, Poisson and 4-level categories,
    each with missing values at 9.5 %."""
    columns: dict[str, object] = {}
    for j in range(30):
        kind = j % 4
        if kind == 0:
            values = rng.normal(size=n)
        elif kind == 1:
            values = rng.lognormal(size=n)
        elif kind == 2:
            values = rng.poisson(4, n).astype(float)
        else:
            values = rng.choice(
                np.array(["a", "b", "c", "d"], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1]
            )
        values[rng.random(n) < 0.095] = None if kind == 3 else np.nan
        columns[f"c{j}"] = values
    return pd.DataFrame(columns)


def _false_alarm_rate(seed: int, sizes: tuple[int, int], datasets: int) -> float:
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(datasets):
        reference = drift.profile(_null_dataset(rng, sizes[0]))
        report = drift.quality(reference, _null_dataset(rng, sizes[1]))
        alarms += bool(report.findings)
    return alarms / datasets


@pytest.mark.slow
@pytest.mark.parametrize("sizes", [(100, 100), (2000, 200)])
def test_false_alarms_under_the_null_are_rare(sizes: tuple[int, int]) -> None:
    # Holm keeps the chance of any finding on a dataset at most alpha = 5 %; 120 datasets of 30
    # columns: more than 14 alarms would reject "at most 5 %" at the 1 % level (binomial).
    assert _false_alarm_rate(20, sizes, 120) <= 14 / 120


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sizes", "datasets", "most"),
    # "most": more alarms than this would reject "at most 5 %" at the 1 % level (binomial).
    [((300, 300), 200, 18), ((1000, 1000), 200, 18), ((10_000, 10_000), 60, 8)],
)
def test_false_alarms_under_the_null_stay_within_five_percent(
    sizes: tuple[int, int], datasets: int, most: int
) -> None:
    assert _false_alarm_rate(21, sizes, datasets) <= most / datasets


def test_a_missing_rate_jump_is_found_at_small_samples() -> None:
    # Power: 9.5 % -> 39.3 % is found in every one of 50 batches of 100 rows.
    rng = np.random.default_rng(11)
    reference = drift.profile(_frame(rng, 1000, missing=0.095))
    found = sum(not drift.quality(reference, _frame(rng, 100, missing=0.393)).ok for _ in range(50))
    assert found == 50


def test_a_missing_rate_that_falls_is_a_warning() -> None:
    rng = np.random.default_rng(12)
    reference = drift.profile(_frame(rng, 2000, missing=0.3))
    report = drift.quality(reference, _frame(rng, 2000, missing=0.0))
    finding = _only(report, "income", "missing_rate")
    assert finding.severity == "warning" and "fell from" in finding.reason
    assert report.ok


@pytest.mark.filterwarnings("ignore:column .* is constant in the reference")
def test_a_significant_change_below_the_tolerance_is_not_a_finding() -> None:
    reference = pd.DataFrame({"x": np.where(np.arange(1_000_000) < 95_000, np.nan, 1.0)})
    current = pd.DataFrame({"x": np.where(np.arange(1_000_000) < 97_000, np.nan, 1.0)})
    profile = drift.profile(reference)
    finding = _only(drift.quality(profile, current), "x", "missing_rate")
    assert finding.adjusted_p_value is not None and finding.adjusted_p_value < 1e-4
    assert finding.severity == "ok" and "smaller than the tolerance" in finding.reason
    strict = _only(drift.quality(profile, current, tolerance=0.001), "x", "missing_rate")
    assert strict.severity == "error"


def test_values_out_of_range_are_counted_below_and_above() -> None:
    reference = drift.profile(pd.DataFrame({"x": np.linspace(0.0, 10.0, 1001)}))
    values = np.concatenate([np.full(30, -1.0), np.full(50, 11.0), np.linspace(0, 10, 920)])
    values[-5:] = [np.nan, np.inf, -np.inf, 10.0, 0.0]
    report = drift.quality(reference, pd.DataFrame({"x": values}))
    finding = _only(report, "x", "out_of_range")
    assert finding.severity == "error"
    # Infinities are outside any finite range; NaN is missing, not out of range; the bounds
    # themselves are inside.
    assert finding.details["below"] == 31 and finding.details["above"] == 51
    assert finding.count == 82 and finding.share == pytest.approx(82 / 999)
    assert (finding.details["minimum"], finding.details["maximum"]) == (0.0, 10.0)
    # Each tail's exact p-value, the smaller one doubled (Bonferroni over the two tails).
    p_below = stats.hypergeom(1001 + 999, 999, 31).pmf(31)
    p_above = stats.hypergeom(1001 + 999, 999, 51).pmf(51)
    assert finding.p_value == pytest.approx(2 * min(p_below, p_above), rel=1e-9)


def test_a_shifted_column_is_out_of_range_and_a_few_strays_are_not() -> None:
    rng = np.random.default_rng(13)
    reference = drift.profile(_frame(rng, 5000))
    shifted = drift.quality(reference, _frame(rng, 1000, shift=30))
    assert _only(shifted, "income", "out_of_range").severity == "error"
    # One value beyond the maximum in a batch of 1,000 is what chance gives: no finding.
    batch = _frame(rng, 1000)
    batch.loc[0, "income"] = 1e6
    finding = _only(drift.quality(reference, batch), "income", "out_of_range")
    assert finding.count is not None and finding.count >= 1 and finding.severity == "ok"


def test_datetime_columns_have_a_range_too() -> None:
    days = pd.date_range("2024-01-01", periods=365, freq="D")
    reference = drift.profile(pd.DataFrame({"t": days}))
    later = pd.DataFrame({"t": pd.date_range("2025-06-01", periods=100, freq="D")})
    finding = _only(drift.quality(reference, later), "t", "out_of_range")
    assert finding.severity == "error" and finding.details["above"] == 100
    assert "[" not in finding.reason  # nanoseconds since the epoch would mean nothing to a reader


def test_unseen_categories_are_named_and_counted() -> None:
    rng = np.random.default_rng(14)
    reference = drift.profile(_frame(rng, 1000))
    batch = _frame(rng, 1000)
    batch.loc[:49, "plan"] = "enterprise"
    batch.loc[50:54, "plan"] = "trial"
    finding = _only(drift.quality(reference, batch), "plan", "unseen_categories")
    assert finding.severity == "error"
    assert finding.details == {"categories": ["enterprise", "trial"], "distinct": 2}
    assert (finding.count, finding.share) == (55, 0.055)
    # Below the tolerance it is still reported, as a warning.
    batch.loc[:54, "plan"] = "basic"
    batch.loc[0, "plan"] = "trial"
    small = _only(drift.quality(reference, batch), "plan", "unseen_categories")
    assert small.severity == "warning" and small.count == 1


def test_many_unseen_labels_are_listed_up_to_twenty() -> None:
    reference = drift.profile(pd.DataFrame({"id": ["a", "b"] * 50}))
    batch = pd.DataFrame({"id": [f"new{i:02d}" for i in range(30)]})
    finding = _only(drift.quality(reference, batch), "id", "unseen_categories")
    assert finding.details["distinct"] == 30
    categories = finding.details["categories"]
    assert isinstance(categories, list) and len(categories) == 20
    assert finding.reason.endswith("and 10 more")


def test_a_boolean_column_read_from_numbers_shows_unseen_categories() -> None:
    reference = drift.profile(pd.DataFrame({"flag": [True, False] * 100}))
    as_text = drift.quality(reference, pd.DataFrame({"flag": ["True", "False"] * 10}))
    assert as_text.findings == []
    as_numbers = drift.quality(reference, pd.DataFrame({"flag": [1, 0] * 10}))
    finding = _only(as_numbers, "flag", "unseen_categories")
    assert finding.severity == "error" and finding.details["categories"] == ["0", "1"]


def test_schema_changes_are_findings_not_crashes() -> None:
    rng = np.random.default_rng(15)
    reference = drift.profile(_frame(rng, 500))
    batch = _frame(rng, 200).drop(columns=["visits"])
    batch["income"] = batch["income"].astype(str)
    batch["region"] = "north"
    report = drift.quality(reference, batch)
    schema = [(f.column, f.check, f.severity) for f in report.findings]
    assert schema == [
        ("visits", "column_missing", "error"),
        ("region", "column_added", "warning"),
        ("income", "kind_changed", "error"),
    ]
    kind = _only(report, "income", "kind_changed")
    assert kind.details["reference_kind"] == "numeric"
    # The columns that still match are checked as usual.
    assert {c.column for c in report.checks if c.check == "missing_rate"} == {"plan", "active"}
    # compare() on the same batch refuses it; quality() reports it.
    with pytest.raises((ColumnMismatchError, ColumnTypeError)):
        drift.compare(reference, batch)


@pytest.mark.parametrize(
    ("reference", "batch"),
    [
        (pd.Series(pd.date_range("2024-01-01", periods=10)), pd.Series(np.arange(10.0))),
        (pd.Series(np.arange(10.0)), pd.Series(pd.date_range("2024-01-01", periods=10))),
        (pd.Series(np.arange(10.0)), pd.Series([True, False] * 5)),
    ],
)
def test_a_column_of_another_kind_is_an_error(reference: pd.Series, batch: pd.Series) -> None:
    report = drift.quality(
        drift.profile(pd.DataFrame({"x": reference})), pd.DataFrame({"x": batch})
    )
    assert [(f.check, f.severity) for f in report.findings] == [("kind_changed", "error")]


def _typed_reference_and_batch() -> tuple[drift.DriftProfile, pd.DataFrame]:
    rng = np.random.default_rng(16)
    reference = drift.profile(_frame(rng, 2000, missing=0.1))
    batch = _frame(rng, 500, missing=0.4, shift=25)
    batch.loc[:20, "plan"] = "new"
    batch.loc[:5, "plan"] = None
    return reference, batch


@pytest.mark.parametrize("convert", ["table", "record_batch", "chunked", "mapping"])
def test_arrow_and_mapping_inputs_give_the_same_checks_as_pandas(convert: str) -> None:
    reference, batch = _typed_reference_and_batch()
    table = pa.Table.from_pandas(batch, preserve_index=False)
    inputs = {
        "table": table,
        "record_batch": table.to_batches()[0],
        "chunked": pa.concat_tables([table.slice(0, 100), table.slice(100)]),
        "mapping": {name: batch[name].to_numpy() for name in batch.columns},
    }
    assert drift.quality(reference, inputs[convert]) == drift.quality(reference, batch)


def test_numpy_inputs_give_the_same_checks_as_pandas() -> None:
    rng = np.random.default_rng(17)
    data = rng.normal(size=(1000, 3))
    reference = drift.profile(data)
    batch = rng.normal([0, 0, 5], size=(400, 3))
    batch[:100, 0] = np.nan
    from_numpy = drift.quality(reference, batch)
    from_pandas = drift.quality(reference, pd.DataFrame(batch, columns=["0", "1", "2"]))
    assert from_numpy == from_pandas
    assert [(f.column, f.check) for f in from_numpy.findings] == [
        ("0", "missing_rate"),
        ("2", "out_of_range"),
    ]
    # A 1-D array is one column, and integers are read as numbers.
    one = drift.quality(drift.profile(data[:, :1]), np.arange(3))
    assert one.findings == [] and one.rows == 3


def test_numpy_input_with_a_categorical_reference_column() -> None:
    codes = np.tile(np.arange(4), 100)[:, None].astype(float)
    reference = drift.profile(codes, categorical=["0"])
    report = drift.quality(reference, np.array([[0.0], [1.0], [7.0]]))
    assert _only(report, "0", "unseen_categories").details["categories"] == ["7.0"]


def test_a_numpy_batch_with_more_or_fewer_columns() -> None:
    reference = drift.profile(np.zeros((10, 2)) + np.arange(10)[:, None])
    wider = drift.quality(reference, np.ones((5, 3)))
    assert [(f.column, f.check) for f in wider.findings] == [("2", "column_added")]
    narrower = drift.quality(reference, np.ones((5, 1)))
    assert [(f.column, f.check) for f in narrower.findings] == [("1", "column_missing")]


def test_a_sketch_profile_checks_ranges_and_missing_values_as_an_exact_one() -> None:
    rng = np.random.default_rng(18)
    data = _frame(rng, 20_000, missing=0.1)
    exact, sketch = drift.profile(data), drift.profile(data, sample_size=200)
    # The sketch keeps 200 points, but the minimum and maximum are of every value.
    index = exact._numeric_index["income"]
    assert sketch.minimum[index] == np.nanmin(data["income"])
    assert sketch.maximum[index] == np.nanmax(data["income"])
    batch = _frame(rng, 1000, missing=0.3, shift=20)
    assert drift.quality(sketch, batch) == drift.quality(exact, batch)


@pytest.mark.parametrize("name", ["profile_v1.arrow", "profile_v1_sketch.arrow"])
def test_profiles_stored_by_an_earlier_version_check_batches(name: str) -> None:
    # Written by modelyard before quality checks existed (format version 1), from 400 rows: age
    # (10 % missing), visits (Poisson), plan (3 categories, 12 missing), active, signup dates.
    reference = drift.DriftProfile.from_bytes((DATA / name).read_bytes())
    rng = np.random.default_rng(19)
    n = 300
    batch = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "visits": rng.poisson(3, n),
            "plan": pd.Series(rng.choice(["basic", "plus", "pro"], n), dtype=object),
            "active": rng.random(n) < 0.7,
            "signup": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
        }
    )
    assert reference.check(batch).findings == [
        f for f in reference.check(batch).checks if f.check == "missing_rate" and f.severity != "ok"
    ]
    broken = batch.assign(age=np.nan, plan="gold").drop(columns=["signup"])
    report = reference.check(broken)
    assert [(f.column, f.check) for f in report.errors] == [
        ("signup", "column_missing"),
        ("age", "missing_rate"),
        ("plan", "unseen_categories"),
    ]
    assert _only(report, "age", "missing_rate").reference_share == pytest.approx(31 / 400)


def test_check_raises_for_pipelines() -> None:
    reference = drift.profile(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}))
    with pytest.raises(ColumnMismatchError) as missing:
        reference.check(pd.DataFrame({"a": [1.0], "c": [0]}), raise_on_error=True)
    assert missing.value.missing == ["b"] and missing.value.unexpected == ["c"]
    assert "column 'b': in the reference (categorical) but not in the batch" in str(missing.value)
    assert "profile a new reference if the change is intended" in str(missing.value)
    with pytest.raises(DriftInputError) as kind:
        reference.check(pd.DataFrame({"a": ["one"], "b": ["x"]}), raise_on_error=True)
    assert not isinstance(kind.value, ColumnMismatchError)
    assert kind.value.problems == [
        "column 'a': numeric in the reference, but the batch has categorical "
        f"(dtype {pd.Series(['one']).dtype}), which cannot be read as numeric"
    ]
    # Warnings alone do not raise.
    report = reference.check(
        pd.DataFrame({"a": [2.0], "b": ["y"], "extra": [1]}), raise_on_error=True
    )
    assert report.ok and len(report.findings) == 1


def test_columns_limits_the_checks_and_ignores_other_columns() -> None:
    reference = drift.profile(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
    batch = pd.DataFrame({"a": [1.5], "ts": [pd.Timestamp("2024-01-01")]})
    report = drift.quality(reference, batch, columns=["a"])
    assert report.findings == [] and {c.column for c in report.checks} == {"a"}
    with pytest.raises(ColumnMismatchError, match=r"\['zz'\] are not in the reference"):
        drift.quality(reference, batch, columns=["zz"])


@pytest.mark.filterwarnings("ignore:column .* is constant in the reference")
def test_holm_or_raw_p_values() -> None:
    # Twenty columns, each with a p-value near 0.01: significant raw, not after Holm.
    n = 2000
    reference = pd.DataFrame(
        {f"c{j}": np.where(np.arange(n) < 200, np.nan, 1.0) for j in range(20)}
    )
    current = pd.DataFrame({f"c{j}": np.where(np.arange(n) < 250, np.nan, 1.0) for j in range(20)})
    profile = drift.profile(reference)
    raw = drift.quality(profile, current, correction="none")
    held = drift.quality(profile, current)
    finding = _only(raw, "c0", "missing_rate")
    assert finding.p_value is not None and 0.001 < finding.p_value < 0.05
    assert finding.adjusted_p_value == finding.p_value and finding.severity == "error"
    corrected = _only(held, "c0", "missing_rate")
    assert corrected.p_value == finding.p_value
    assert corrected.adjusted_p_value is not None and corrected.adjusted_p_value >= 0.05
    assert held.ok and not raw.ok


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"correction": "bonferroni"}, "correction"),
    ],
)
def test_bad_parameters_are_refused(options: dict[str, object], match: str) -> None:
    reference = drift.profile(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(DriftInputError, match=match):
        drift.quality(reference, pd.DataFrame({"a": [1.0]}), **options)  # type: ignore[arg-type]


def test_the_reference_must_be_a_profile_and_the_batch_a_table() -> None:
    with pytest.raises(DriftInputError, match=r"drift.profile\(reference_data\)"):
        drift.quality(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [1.0]}))  # type: ignore[arg-type]
    reference = drift.profile(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(DriftInputError, match="cannot compute drift on a str"):
        drift.quality(reference, "a.csv")
    with pytest.raises(DriftInputError, match="quality checks one batch, got a list"):
        drift.quality(reference, [pd.DataFrame({"a": [1.0]})])
    with pytest.raises(DriftInputError, match="unique"):
        drift.quality(reference, pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]))


@pytest.mark.filterwarnings("ignore:column .* is constant in the reference")
def test_an_empty_batch_is_checked_without_error() -> None:
    reference = drift.profile(pd.DataFrame({"a": [1.0, np.nan], "b": ["x", None]}))
    report = drift.quality(reference, pd.DataFrame({"a": pd.Series([], dtype=float), "b": []}))
    assert report.rows == 0 and report.ok
    assert _only(report, "a", "missing_rate").reason == "the batch has no rows"


def test_a_reference_column_without_values_has_no_range_check() -> None:
    with pytest.warns(drift.DriftWarning):
        reference = drift.profile(pd.DataFrame({"a": [np.nan, np.nan], "b": [1.0, 2.0]}))
    report = drift.quality(reference, pd.DataFrame({"a": [5.0], "b": [1.5]}))
    assert {(c.column, c.check) for c in report.checks} == {
        ("a", "missing_rate"),
        ("b", "missing_rate"),
        ("b", "out_of_range"),
    }


def test_the_report_round_trips_and_tabulates() -> None:
    reference, batch = _typed_reference_and_batch()
    report = drift.quality(reference, batch)
    assert QualityReport.from_bytes(report.to_bytes()) == report
    stored = json.loads(report.to_bytes())
    assert stored["schema_version"] == 1
    for unreadable in (2, "1", None):
        with pytest.raises(IntegrityError, match="upgrade modelyard"):
            QualityReport.from_bytes(json.dumps({**stored, "schema_version": unreadable}).encode())
    json.dumps(report.to_dict())  # JSON-able as it is
    table = report.to_pandas()
    assert list(table.columns) == [
        "column",
        "check",
        "severity",
        "reason",
        "count",
        "share",
        "reference_share",
        "p_value",
        "adjusted_p_value",
    ]
    assert len(table) == len(report.findings) and len(report.to_pandas(include_ok=True)) == len(
        report.checks
    )
    text = report.summary()
    assert text.splitlines()[0].startswith("Data quality: FAILED; 4 error(s), 0 warning(s)")
    assert str(report) == text
    assert report.problems[0].startswith("error: column 'income': rose from")


def test_checks_follow_the_reference_column_order_whatever_the_batch_order() -> None:
    rng = np.random.default_rng(20)
    reference = drift.profile(_frame(rng, 500))
    batch = _frame(rng, 200)
    forward = drift.quality(reference, batch)
    backward = drift.quality(reference, batch[batch.columns[::-1]])
    assert backward == forward
    assert [c.column for c in forward.checks][::2] == list(reference.columns)
