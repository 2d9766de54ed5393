"""multivariate(): drift in how columns move together, per window, by two methods."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from modelyard.drift._multivariate_classifier import separate
from modelyard.drift._multivariate_encode import Encoder, fit_encoder, read_table
from modelyard.drift._multivariate_pca import (
    band_false_alarm,
    fit_reconstruction,
    reference_thresholds,
)
from modelyard.drift._multivariate_result import Method, MultivariateDrift, MultivariateWindow
from modelyard.drift._warnings import DriftWarning
from modelyard.drift._window_args import build_windows, window_bounds
from modelyard.drift._windows import Windows
from modelyard.errors import EmptyDataError, InputError

__all__ = ["multivariate"]

_METHODS: dict[str, tuple[Method, ...]] = {
    "classifier": ("classifier",),
    "reconstruction": ("reconstruction",),
    "both": ("classifier", "reconstruction"),
}


def _check(
    alpha: float,
    auc_threshold: float,
    variance: float,
    sigmas: float,
    folds: int,
    min_rows: int,
    max_rows: int,
) -> None:
    if not 0 < alpha < 1:
        raise InputError(f"alpha={alpha!r} must lie strictly between 0 and 1")
    if not 0.5 <= auc_threshold < 1:
        raise InputError(
            f"auc_threshold={auc_threshold!r} must be at least 0.5 (no separation) and below 1"
        )
    if not 0 < variance < 1:
        raise InputError(
            f"variance={variance!r} is the share of variance the components keep; it must lie "
            "strictly between 0 and 1"
        )
    if not sigmas > 0:
        raise InputError(f"sigmas={sigmas!r} must be positive")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InputError(f"folds={folds!r} must be a whole number, at least 2")
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < folds:
        raise InputError(
            f"min_rows={min_rows!r} must be a whole number, at least folds={folds} (every fold "
            "needs a row of each side)"
        )
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < min_rows:
        raise InputError(f"max_rows={max_rows!r} must be a whole number, at least min_rows")


def _classifier_window(
    base: dict[str, Any],
    reference: np.ndarray[Any, Any],
    window: np.ndarray[Any, Any],
    names: tuple[str, ...],
    *,
    alpha: float,
    auc_threshold: float,
    max_rows: int,
    folds: int,
    trees: int,
    seed: int,
    top: int,
) -> MultivariateWindow:
    found = separate(reference, window, max_rows=max_rows, folds=folds, trees=trees, seed=seed)
    order = np.argsort(-found.importances, kind="stable")[:top]
    features = tuple((names[i], float(found.importances[i])) for i in order)
    significant = found.p_value < alpha
    large = found.auc >= auc_threshold
    summary = f"AUC {found.auc:.3f} on {found.rows} rows a side, p = {found.p_value:.3g}"
    if significant and large:
        verdict: Literal["drift", "stable"] = "drift"
        reason = (
            f"{summary}: a classifier tells the window from the reference (AUC at least "
            f"{auc_threshold}, p below {alpha}); separated most by "
            + ", ".join(name for name, _ in features)
        )
    else:
        verdict = "stable"
        why = (
            f"not significant at {alpha}"
            if not significant
            else f"significant, but below the AUC of {auc_threshold} that matters"
        )
        reason = f"{summary}: {why}"
    return MultivariateWindow(
        **base,
        method="classifier",
        value=found.auc,
        p_value=found.p_value,
        upper=auc_threshold,
        verdict=verdict,
        reason=reason,
        features=features,
    )


def multivariate(
    reference: Any,
    data: Any,
    *,
    time: object = None,
    every: object = None,
    step: object = None,
    rows: int | None = None,
    windows: Windows | None = None,
    anchor: Literal["calendar", "first"] = "calendar",
    method: Literal["classifier", "reconstruction", "both"] = "both",
    columns: Sequence[str] | None = None,
    alpha: float = 0.05,
    auc_threshold: float = 0.55,
    variance: float = 0.65,
    sigmas: float = 3.0,
    reference_rows: int | None = None,
    min_rows: int = 50,
    max_rows: int = 2000,
    folds: int = 5,
    trees: int = 50,
    seed: int = 0,
    top: int = 3,
) -> MultivariateDrift:
    """Drift in how the columns move together, per window: a change univariate statistics miss.

    Two methods judge each window against the reference:

    - ``"classifier"``: a random forest tries to tell the window's rows from the reference's;
      the cross-validated (stratified ``folds``-fold) ROC AUC of its out-of-fold scores, a
      one-sided Mann-Whitney p-value, and the columns that separate the two most. The window
      drifts when the p-value is below ``alpha`` *and* the AUC reaches ``auc_threshold``. Each
      side is subsampled (seeded) to the same number of rows, at most ``max_rows``.
    - ``"reconstruction"``: PCA fitted on the standardised reference keeps the components
      explaining ``variance`` of it; a window's value is its rows' mean reconstruction error,
      and it drifts outside ``mean +/- sigmas * sd`` of the errors of the reference cut into
      windows of ``reference_rows`` (default: the median row count of the data's non-empty
      windows), as NannyML's data reconstruction drift.

    Args:
        reference: the reference data: a DataFrame, pyarrow Table, mapping or 2-D array.
        data: the data to judge, with the reference's columns (and the time column).
        time: the name of the time column of ``data``, or the times themselves (one per row),
            for time windows, as :func:`monitor` takes them.
        every: the windows' length, as in :func:`windows`.
        step: how far apart windows start (rolling windows when shorter than ``every``).
        rows: count windows of this many rows, in data order.
        windows: windows built already over ``data`` by :func:`windows`, instead of the above.
        anchor: the windows' alignment, as in :func:`windows`.
        method: ``"classifier"``, ``"reconstruction"`` or ``"both"``.
        columns: the columns to use (default: the reference's, less the time column).
        alpha: the classifier's significance level.
        auc_threshold: the AUC the classifier must reach to call drift.
        variance: the share of the reference's variance the components keep.
        sigmas: the width of the reconstruction band, in standard deviations.
        reference_rows: the size of the reference windows the reconstruction band comes from.
        min_rows: a window with fewer rows gets ``"insufficient data"``.
        max_rows: the most rows of each side the classifier trains on.
        folds: the number of cross-validation folds.
        trees: the number of trees per forest.
        seed: the seed of the subsampling, the folds and the forests.
        top: how many separating columns to name.

    Missing values: the reconstruction imputes the reference's mean (numbers) or most frequent
    category; the classifier's trees route them. Categories are encoded with the reference's.

    Raises:
        InputError: bad window arguments, or an option out of range.
        ColumnMismatchError: a column is missing from the reference or the data.
        EmptyDataError: no rows or no columns; a reference too short for two reference windows.

    Example:
        >>> import numpy as np, pandas as pd
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> def pairs(n, rho):
        ...     x = rng.normal(size=n)
        ...     y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
        ...     return pd.DataFrame({"x": x, "y": y, "z": rng.normal(size=n)})
        >>> reference = pairs(5000, 0.8)
        >>> live = pd.concat([pairs(500, 0.8), pairs(500, -0.8)], ignore_index=True)
        >>> result = drift.multivariate(reference, live, rows=500, trees=50)
        >>> result.to_pandas()[["window", "method", "value", "verdict", "features"]].round(3)
           window          method  value verdict features
        0       0      classifier  0.492  stable  z, x, y
        1       0  reconstruction  0.341  stable
        2       1      classifier  0.862   drift  x, y, z
        3       1  reconstruction  1.051   drift
    """
    _check(alpha, auc_threshold, variance, sigmas, folds, min_rows, max_rows)
    if method not in _METHODS:
        raise InputError(f"method={method!r} must be 'classifier', 'reconstruction' or 'both'")
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise InputError(f"top={top!r} must be a whole number, at least 0")
    ref_table = read_table(reference, "the reference")
    table = read_table(data, "the data")
    if len(table) == 0:
        raise EmptyDataError("the data has no rows; there is nothing to judge")
    built = build_windows(table, len(table), time, every, step, rows, windows, anchor)
    if columns is None:
        columns = [str(c) for c in ref_table.columns if not (isinstance(time, str) and c == time)]
    encoder = fit_encoder(ref_table, columns)
    chosen = _METHODS[method]
    sizes = built.rows[built.rows > 0]
    size = (
        reference_rows if reference_rows is not None else int(np.median(sizes)) if len(sizes) else 1
    )
    if "reconstruction" in chosen and len(ref_table) < 2 * size:
        raise EmptyDataError(
            f"the reference has {len(ref_table)} rows, fewer than two reference windows of {size} "
            "rows, which the reconstruction's thresholds need; pass a longer reference or a "
            "smaller reference_rows="
        )
    starts, ends = window_bounds(built)
    per_window: list[list[MultivariateWindow]] = [[] for _ in range(len(built))]
    components = band = None
    if "classifier" in chosen:
        _classify(
            per_window, built, starts, ends, encoder, ref_table, table,
            alpha=alpha, auc_threshold=auc_threshold, max_rows=max_rows, folds=folds,
            trees=trees, seed=seed, top=top, min_rows=min_rows,
        )  # fmt: skip
    if "reconstruction" in chosen:
        components, band = _reconstruct(
            per_window, built, starts, ends, encoder, ref_table, table,
            variance=variance, sigmas=sigmas, size=size, min_rows=min_rows,
        )  # fmt: skip
    return MultivariateDrift(
        kind=built.kind,
        every=built.every,
        step=built.step,
        timezone=built.timezone,
        columns=encoder.names,
        methods=chosen,
        reference_rows=len(ref_table),
        data_rows=len(table),
        alpha=alpha,
        auc_threshold=auc_threshold,
        components=components,
        reference_window_rows=band,
        windows=tuple(w for entries in per_window for w in entries),
    )


def _short(base: dict[str, Any], method: Method, min_rows: int) -> MultivariateWindow:
    rows = base["rows"]
    why = "the window has no rows" if rows == 0 else f"{rows} rows, fewer than min_rows={min_rows}"
    return MultivariateWindow(
        **base, method=method, value=None, verdict="insufficient data", reason=why
    )


def _classify(
    out: list[list[MultivariateWindow]],
    built: Windows,
    starts: list[str | int],
    ends: list[str | int],
    encoder: Encoder,
    ref_table: Any,
    table: Any,
    *,
    min_rows: int,
    **options: Any,
) -> None:
    reference = encoder.classifier(ref_table, "the reference")
    values = encoder.classifier(table)
    for w in range(len(built)):
        base: dict[str, Any] = {
            "window": w,
            "start": starts[w],
            "end": ends[w],
            "rows": int(built.rows[w]),
        }
        if base["rows"] < min_rows or len(reference) < min_rows:
            out[w].append(_short(base, "classifier", min_rows))
            continue
        window = values[built.indices(w)]
        out[w].append(_classifier_window(base, reference, window, encoder.names, **options))


def _reconstruct(
    out: list[list[MultivariateWindow]],
    built: Windows,
    starts: list[str | int],
    ends: list[str | int],
    encoder: Encoder,
    ref_table: Any,
    table: Any,
    *,
    variance: float,
    sigmas: float,
    size: int,
    min_rows: int,
) -> tuple[int, int]:
    reference = encoder.reconstruction(ref_table, "the reference")
    fit = fit_reconstruction(reference, variance)
    lower, upper, values = reference_thresholds(fit.errors(reference), size, sigmas)
    if len(values) < 10:
        warnings.warn(
            f"the reconstruction's band comes from {len(values)} reference windows of {size} "
            f"rows; with so few, a window with no change falls outside it about "
            f"{band_false_alarm(len(values), sigmas):.1%} of the time; pass a longer reference "
            "for a tighter band",
            DriftWarning,
            stacklevel=3,
        )
    errors = fit.errors(encoder.reconstruction(table))
    for w in range(len(built)):
        base: dict[str, Any] = {
            "window": w,
            "start": starts[w],
            "end": ends[w],
            "rows": int(built.rows[w]),
        }
        if base["rows"] < min_rows:
            out[w].append(_short(base, "reconstruction", min_rows))
            continue
        value = float(errors[built.indices(w)].mean())
        outside = not lower < value < upper  # NannyML's rule: a value on the bound alerts
        reason = (
            f"mean reconstruction error {value:.4g} "
            + ("outside" if outside else "within")
            + f" the reference's band [{lower:.4g}, {upper:.4g}] (mean +/- {sigmas:g} sd of "
            f"its windows of {size} rows)"
        )
        out[w].append(
            MultivariateWindow(
                **base,
                method="reconstruction",
                value=value,
                lower=lower,
                upper=upper,
                verdict="drift" if outside else "stable",
                reason=reason,
            )
        )
    return fit.components, size
