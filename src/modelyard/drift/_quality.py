"""Data-quality findings of a batch against a reference profile.

The rule, per report (one batch, or one window of a stream):

* schema: a reference column absent from the batch is an error, a batch column absent from the
  reference a warning, a column that cannot be read as the reference's kind (text where numbers
  were, numbers where datetimes were) an error, and its values are not checked further;
* missing rate: a two-sided two-proportion test against the reference's rate (chi-square, or
  Fisher's exact test at small counts); an error when it is significant and the rate rose by at
  least ``tolerance``, a warning when it fell by as much;
* values out of range (numeric and datetime columns): an exact, distribution-free test of the
  counts below the reference minimum and above its maximum; an error when significant and at
  least ``tolerance`` of the batch's values are outside;
* unseen categories (categorical and boolean columns): an error when at least ``tolerance`` of
  the batch's values are categories the reference never had, a warning below that.

"Significant" is an adjusted p-value below ``alpha``, after Holm's correction over every test
of the report, so the chance of any false finding on a batch from the reference's distribution
is at most ``alpha`` however many columns are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from modelyard.drift._profile import DriftProfile
from modelyard.drift._quality_findings import (
    missing_finding,
    range_finding,
    schema_checks,
    unseen_finding,
)
from modelyard.drift._quality_read import BatchCounts, read_batch
from modelyard.drift._quality_report import QualityFinding, QualityReport
from modelyard.drift._quality_stats import holm, missing_rate_test, range_exceedance_pvalue
from modelyard.errors import ColumnMismatchError, DriftInputError

__all__ = ["quality"]


def quality(
    reference: DriftProfile,
    batch: object,
    *,
    alpha: float = 0.05,
    tolerance: float = 0.01,
    correction: Literal["holm", "none"] = "holm",
    columns: Sequence[str] | None = None,
) -> QualityReport:
    """Check a batch's data quality against a reference profile: schema, missing values, ranges,
    categories.

    Reads each column once, counting (nothing is sorted), so it costs a fraction of a
    :func:`compare` of the same batch. The checks and the rule that turns them into findings
    are described in ``docs/drift.md`` ("Data quality").

    Args:
        reference: the reference profile (from :func:`profile`); it holds the expected schema,
            missing counts, ranges and categories.
        batch: a pandas DataFrame, a pyarrow Table or RecordBatch, a 2-D NumPy array or a
            mapping of names to arrays, as for :func:`profile`.
        alpha: the family-wise significance level of the report's tests.
        tolerance: the smallest change worth an error: a rise of the missing rate, a share of
            values out of range or of unseen categories (0.01 is one percentage point).
        correction: ``"holm"`` (default) adjusts the p-values of all the report's tests with
            Holm's step-down method; ``"none"`` compares each raw p-value with ``alpha``.
        columns: check only these reference columns, and do not report the batch's other
            columns as added (e.g. to leave out a timestamp column). Default: all.

    Raises:
        DriftInputError: an unsupported input, repeated column names, or a bad parameter.
        ColumnMismatchError: ``columns`` names a column the reference does not have.

    Example:
        >>> import numpy as np
        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> def frame(n, missing_rate, shift=0.0):
        ...     income = rng.normal(50 + shift, 10, n)
        ...     income[rng.random(n) < missing_rate] = np.nan
        ...     return pd.DataFrame({"income": income, "plan": rng.choice(["a", "b"], n)})
        >>> reference = drift.profile(frame(2000, 0.095))
        >>> print(drift.quality(reference, frame(1000, 0.095)))
        Data quality: ok; 0 error(s), 0 warning(s) in 4 checks; batch 1000 rows, reference 2000 rows
        >>> late = frame(1000, 0.393, shift=30)
        >>> late.loc[:9, "plan"] = "c"
        >>> print(drift.quality(reference, late))  # doctest: +NORMALIZE_WHITESPACE
        Data quality: FAILED; 3 error(s), 0 warning(s) in 4 checks; batch 1000 rows, reference
        2000 rows
        error    income  missing_rate: rose from 9.7% to 36.9% (adjusted p=4.91e-72 < 0.05)
        error    income  out_of_range: 292 of 631 values (46.3%) outside the reference range
        [11.01, 80.66]: 0 below, 292 above (adjusted p=1.29e-198 < 0.05)
        error    plan  unseen_categories: 1 category never seen in the reference in 10 of 1000
        values (1.0%): ['c']
    """
    if not isinstance(reference, DriftProfile):
        raise DriftInputError(
            f"quality() needs a DriftProfile as the reference, got {type(reference).__name__}; "
            "build one with modelyard.drift.profile(reference_data)"
        )
    if not 0.0 < alpha < 1.0:
        raise DriftInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0.0 <= tolerance <= 1.0:
        raise DriftInputError(f"tolerance must be between 0 and 1, got {tolerance!r}")
    if correction not in ("holm", "none"):
        raise DriftInputError(f"correction must be 'holm' or 'none', got {correction!r}")
    if columns is not None:
        unknown = [c for c in columns if c not in reference.column_kinds]
        if unknown:
            raise ColumnMismatchError(
                f"columns {unknown} are not in the reference profile; it has "
                f"{list(reference.columns)}",
                missing=unknown,
                unexpected=[],
            )
    chosen = reference.columns if columns is None else tuple(dict.fromkeys(columns))
    counts = read_batch(reference, batch, chosen)
    return report_from_counts(
        reference,
        counts,
        chosen,
        all_columns=columns is None,
        alpha=alpha,
        tolerance=tolerance,
        correction=correction,
    )


def report_from_counts(
    reference: DriftProfile,
    counts: BatchCounts,
    chosen: tuple[str, ...],
    *,
    all_columns: bool,
    alpha: float = 0.05,
    tolerance: float = 0.01,
    correction: Literal["holm", "none"] = "holm",
) -> QualityReport:
    """The report of a batch from its counts: what :func:`quality` does once it has read the
    batch, and what a monitor does for each window's counts."""
    checks = schema_checks(reference, counts, chosen, all_columns=all_columns)
    value_checks = _value_checks(reference, counts, alpha, tolerance, correction)
    order = {name: i for i, name in enumerate(chosen)}
    checks.extend(sorted(value_checks, key=lambda c: order[c.column]))
    return QualityReport(
        rows=counts.rows,
        reference_rows=reference.rows,
        alpha=alpha,
        tolerance=tolerance,
        correction=correction,
        checks=tuple(checks),
    )


def _value_checks(
    reference: DriftProfile,
    counts: BatchCounts,
    alpha: float,
    tolerance: float,
    correction: Literal["holm", "none"],
) -> list[QualityFinding]:
    rows = counts.rows
    categorical = list(counts.categorical)
    numeric_index = [reference._numeric_index[c] for c in counts.numeric]
    categorical_index = [reference._categorical_index[c] for c in categorical]
    # Missing rates: numeric columns first, then categorical, as one vector.
    names = [*counts.numeric, *categorical]
    reference_missing = np.concatenate(
        [
            reference.missing[numeric_index],
            reference.categorical_missing[categorical_index],
        ]
    ).astype(np.int64)
    batch_missing = np.array(
        [*counts.missing, *(counts.categorical[c][1] for c in categorical)], dtype=np.int64
    )
    missing_p, tests = missing_rate_test(
        reference_missing,
        np.full(len(names), reference.rows),
        batch_missing,
        np.full(len(names), rows),
    )
    # Values out of range: numeric columns whose reference has values at all.
    reference_counts = reference.counts[numeric_index].astype(np.int64)
    ranged = np.flatnonzero(reference_counts > 0)
    below = np.array(counts.below, dtype=np.int64)[ranged]
    above = np.array(counts.above, dtype=np.int64)[ranged]
    present = np.array(counts.present, dtype=np.int64)[ranged]
    n = reference_counts[ranged]
    range_p = np.minimum(
        1.0,
        2.0
        * np.minimum(
            range_exceedance_pvalue(n, present, below), range_exceedance_pvalue(n, present, above)
        ),
    )
    raw = np.concatenate([missing_p, range_p])
    adjusted = holm(raw) if correction == "holm" else raw
    checks = [
        missing_finding(
            names[i],
            int(reference_missing[i]),
            reference.rows,
            int(batch_missing[i]),
            rows,
            float(raw[i]),
            float(adjusted[i]),
            str(tests[i]),
            alpha,
            tolerance,
        )
        for i in range(len(names))
    ]
    offset = len(names)
    for j, position in enumerate(ranged):
        index = numeric_index[position]
        checks.append(
            range_finding(
                counts.numeric[position],
                reference.column_kinds[counts.numeric[position]],
                float(reference.minimum[index]),
                float(reference.maximum[index]),
                int(below[j]),
                int(above[j]),
                int(present[j]),
                float(raw[offset + j]),
                float(adjusted[offset + j]),
                alpha,
                tolerance,
            )
        )
    checks.extend(
        unseen_finding(name, reference, counts.categorical[name], tolerance) for name in categorical
    )
    return checks
