"""Category labels depend on the values, never on the order of the rows."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import modelyard.drift as drift

# Values that Python considers equal (with equal hashes) but that print differently.
MIXED = [True, 1, 1.0, Decimal("1.00"), np.float32(1.0), False, 0, 0.0, -0.0, "x", None]


def _column(values: list[object], order: np.ndarray | list[int]) -> pd.DataFrame:
    return pd.DataFrame({"c": pd.Series([values[i] for i in order], dtype=object)})


def _counts(profile: drift.DriftProfile) -> dict[str, int]:
    labels, counts = profile.categories[0], profile.category_counts[0]
    return dict(zip(labels, counts.tolist(), strict=True))


def test_true_one_and_one_point_zero_are_three_categories_in_any_order() -> None:
    values = [True, 1, 1.0] * 10
    forward = drift.profile(_column(values, range(30)))
    backward = drift.profile(_column(values, range(29, -1, -1)))
    assert forward == backward
    assert _counts(forward) == {"True": 10, "1": 10, "1.0": 10}


@pytest.mark.parametrize("seed", range(5))
def test_the_same_values_in_another_order_give_the_same_profile(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = [MIXED[i] for i in rng.integers(0, len(MIXED), 500)]
    first = drift.profile(_column(values, range(500)))
    shuffled = drift.profile(_column(values, rng.permutation(500)))
    assert first == shuffled
    expected = Counter(str(v) for v in values if v is not None)
    assert _counts(first) == dict(expected)
    assert first.missing_count("c") == values.count(None)


def test_a_shuffled_current_batch_shows_no_drift_and_equal_comparisons() -> None:
    rng = np.random.default_rng(7)
    values = [MIXED[i] for i in rng.integers(0, len(MIXED), 2_000)]
    in_order = _column(values, range(2_000))
    shuffled = _column(values, rng.permutation(2_000))
    reference = drift.profile(in_order)
    report = drift.compare(reference, shuffled)
    assert report.drifted == []
    table = report.to_pandas()
    assert np.allclose(table["value"], 0.0)
    # Comparing against either order of the reference gives the same report.
    other = drift.compare(drift.profile(shuffled), in_order).to_pandas()
    pd.testing.assert_frame_equal(table, other)


def test_a_category_is_the_text_of_its_value() -> None:
    # One rule whatever the column holds: 1 and "1" print alike and are one category, while
    # True, 1 and 1.0 print differently and stay apart.
    p = drift.profile(_column([1, "1", True, "True", 1.0], range(5)))
    assert _counts(p) == {"1": 2, "True": 2, "1.0": 1}


def test_boolean_columns_with_missing_values_keep_their_labels() -> None:
    # A boolean column with a gap is an object column; its labels match a clean boolean column.
    with_gap = pd.DataFrame({"c": pd.Series([True, False, None, True], dtype=object)})
    clean = pd.DataFrame({"c": [True, False, True, True]})
    assert drift.profile(with_gap).categories == drift.profile(clean).categories
    assert drift.compare(drift.profile(clean), with_gap).drifted == []
