"""Multivariate drift and performance estimated without labels, per window inside
:func:`monitor`: the arguments checked up front, then the standalone functions run on the
monitor's own windows and their results split into one record per window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from modelyard.drift._estimated import estimate_performance
from modelyard.drift._estimated_result import EstimatedWindow
from modelyard.drift._multivariate import multivariate as judge_multivariate
from modelyard.drift._multivariate_result import MultivariateWindow
from modelyard.drift._profile import DriftProfile
from modelyard.drift._windows import Windows
from modelyard.errors import InputError

__all__ = [
    "MultivariateMethod",
    "check_estimate",
    "check_multivariate",
    "estimated_records",
    "multivariate_records",
]

MultivariateMethod = Literal["classifier", "reconstruction", "both"]

#: The options of :func:`multivariate` that ``multivariate_options=`` may set (the windows and
#: columns are the monitor's own).
MULTIVARIATE_OPTIONS = (
    "alpha",
    "auc_threshold",
    "variance",
    "sigmas",
    "reference_rows",
    "min_rows",
    "max_rows",
    "folds",
    "trees",
    "seed",
    "top",
)
#: The options of :func:`estimate_performance` that ``estimate_options=`` may set.
ESTIMATE_OPTIONS = (
    "metrics",
    "threshold",
    "confidence",
    "calibrate",
    "reference_chunk_rows",
    "alert_sd",
)


def _options(
    options: Mapping[str, Any] | None, known: tuple[str, ...], what: str
) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InputError(
            f"{what}= must be a mapping of option to value, not a {type(options).__name__}"
        )
    unknown = [str(k) for k in options if k not in known]
    if unknown:
        raise InputError(
            f"{what}= has unknown option(s) {unknown}; it takes {list(known)} (the windows and "
            "columns are the monitor's own)",
            available=list(known),
        )
    return dict(options)


def check_multivariate(
    method: bool | str, options: Mapping[str, Any] | None, reference: object
) -> tuple[MultivariateMethod | None, dict[str, Any]]:
    """The method(s) ``multivariate=`` asks for (None: none) and their options."""
    if method is False or method is None:
        if options is not None:
            raise InputError(
                "multivariate_options= serves multivariate drift; pass multivariate=True too"
            )
        return None, {}
    chosen: MultivariateMethod
    if method is True:
        chosen = "both"
    elif method in ("classifier", "reconstruction", "both"):
        chosen = method  # type: ignore[assignment]
    else:
        raise InputError(
            f"multivariate={method!r} must be True, False, 'classifier', 'reconstruction' or 'both'"
        )
    if isinstance(reference, DriftProfile):
        raise InputError(
            "multivariate drift learns from the reference's rows, and a profile holds none; "
            "pass the reference data itself instead of its profile"
        )
    return chosen, _options(options, MULTIVARIATE_OPTIONS, "multivariate_options")


def check_estimate(
    estimate: bool,
    options: Mapping[str, Any] | None,
    reference: object,
    wants_performance: bool,
    task: str,
) -> dict[str, Any] | None:
    """The options of the estimate ``estimate=`` asks for (None: no estimate)."""
    if not isinstance(estimate, bool):
        raise InputError(f"estimate={estimate!r} must be True or False")
    if not estimate:
        if options is not None:
            raise InputError(
                "estimate_options= serves estimated performance; pass estimate=True too"
            )
        return None
    if not wants_performance:
        raise InputError(
            "estimated performance needs prediction= (the column of predicted probabilities) "
            "and label= (the reference's column of true labels)"
        )
    if task != "classification":
        raise InputError(
            "performance is estimated without labels for binary classifiers only; pass "
            "task='classification', or leave estimate= out"
        )
    if isinstance(reference, DriftProfile):
        raise InputError(
            "estimating performance calibrates the scores on the reference's labelled rows, and "
            "a profile holds none; pass the reference data itself instead of its profile"
        )
    return _options(options, ESTIMATE_OPTIONS, "estimate_options")


def multivariate_records(
    reference: Any,
    data: Any,
    windows: Windows,
    method: MultivariateMethod,
    columns: Sequence[str],
    options: Mapping[str, Any],
) -> list[tuple[MultivariateWindow, ...]]:
    """Per window, its record for each method: :func:`multivariate` on the same windows."""
    found = judge_multivariate(
        reference, data, windows=windows, method=method, columns=list(columns), **options
    )
    per_window: list[list[MultivariateWindow]] = [[] for _ in range(len(windows))]
    for entry in found.windows:
        per_window[entry.window].append(entry)
    return [tuple(entries) for entries in per_window]


def estimated_records(
    reference: Any,
    data: Any,
    windows: Windows,
    prediction: str,
    label: str,
    positive: object,
    options: Mapping[str, Any],
) -> list[EstimatedWindow]:
    """Per window, its estimated performance: :func:`estimate_performance` on the same
    windows."""
    found = estimate_performance(
        reference,
        data,
        prediction=prediction,
        label=label,
        windows=windows,
        positive=positive,
        **options,
    )
    return list(found.windows)
