"""Realized performance per window, once labels arrive, judged against the reference period.

The verdict rule: a window's metric is ``"degraded"`` when it is worse than the reference's by
more than sampling noise, in a one-sided z-test of the difference at level ``alpha`` (default
0.001, about 3.1 standard errors: the three-sigma rule of control charts, so that a month of
daily windows and ten metrics raises a false alarm about once a year). The standard error of the
difference is ``sqrt(se_window² + se_reference²)``; for accuracy, precision and recall it is the
two-proportion test's, from the pooled proportion, and F1 and ROC AUC are compared on the logit
scale, where their sampling distribution is closer to normal near 1. Other verdicts:
``"stable"``, ``"no labels"`` (no labelled row in the window yet), ``"undefined"`` (the metric
has no value, e.g. recall without positives), ``"insufficient data"`` (too few rows to
estimate its noise) and ``"no reference"`` (no reference was given).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._labels import join_labels, prepare, read_columns
from modelyard.drift._metrics import METRICS, Estimate, Labelled, Task
from modelyard.drift._windows import Windows
from modelyard.drift._windows import windows as make_windows
from modelyard.errors import EmptyDataError, InputError

__all__ = ["PerformanceResult", "performance"]


@dataclass(frozen=True)
class PerformanceResult:
    """Metrics per window with confidence intervals, the reference's, and a verdict for each.

    Arrays are ``(windows, metrics)``, in the order of :attr:`metrics`. ``labelled`` counts the
    rows of each window with both a label and a prediction. ``reference`` holds, per metric, the
    reference period's value, lower and upper bound (None without a reference).
    """

    windows: Windows
    task: Task
    metrics: tuple[str, ...]
    labelled: NDArray[np.int64]
    value: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    p_value: NDArray[np.float64]
    verdict: NDArray[np.str_]
    reference: Mapping[str, tuple[float, float, float]] | None
    confidence: float
    alpha: float
    #: Each metric's estimates (standard errors and counts too), so that a one-window result
    #: can stand as the reference of another call.
    estimates: Mapping[str, Estimate] = field(default_factory=dict, repr=False, compare=False)

    @property
    def degraded(self) -> list[tuple[int, str]]:
        """``(window, metric)`` pairs whose verdict is ``"degraded"``."""
        rows, columns = np.nonzero(self.verdict == "degraded")
        return [(int(r), self.metrics[c]) for r, c in zip(rows, columns, strict=True)]

    def to_pandas(self) -> Any:
        """One row per window and metric: ``window``, ``start``, ``end``, ``rows``,
        ``labelled``, ``metric``, ``value``, ``lower``, ``upper``, ``reference``, ``p_value``,
        ``verdict``."""
        import pandas as pd

        frame = self.windows.to_pandas()
        k, m = self.value.shape
        reference = [
            np.nan if self.reference is None else self.reference[x][0] for x in self.metrics
        ]
        return pd.DataFrame(
            {
                "window": np.repeat(frame["window"].to_numpy(), m),
                "start": frame["start"].repeat(m).reset_index(drop=True),
                "end": frame["end"].repeat(m).reset_index(drop=True),
                "rows": np.repeat(self.windows.rows, m),
                "labelled": np.repeat(self.labelled, m),
                "metric": np.tile(np.array(self.metrics, dtype=object), k),
                "value": self.value.ravel(),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
                "reference": np.tile(np.array(reference, dtype=np.float64), k),
                "p_value": self.p_value.ravel(),
                "verdict": self.verdict.ravel().astype(object),
            }
        )

    def __repr__(self) -> str:
        return (
            f"PerformanceResult({self.task}, {len(self.windows)} windows, "
            f"metrics={list(self.metrics)}, {len(self.degraded)} degraded)"
        )


def _estimates(metrics: Sequence[str], labelled: Labelled, z: float) -> dict[str, Estimate]:
    return {name: METRICS[name].compute(labelled, z) for name in metrics}


def _choose_metrics(metrics: Sequence[str] | None, task: Task, scores: bool) -> tuple[str, ...]:
    available = [
        m.name for m in METRICS.values() if m.task == task and (scores or not m.needs_scores)
    ]
    if metrics is None:
        return tuple(available)
    chosen = tuple(metrics)
    for name in chosen:
        if name not in available:
            why = (
                "it needs predicted probabilities, and the predictions are labels"
                if name in METRICS and METRICS[name].task == task
                else f"it is not a {task} metric"
            )
            raise InputError(
                f"metric {name!r} cannot be computed here: {why}; available: {available}",
                metric=name,
                available=available,
            )
    return chosen


def _logit(
    value: NDArray[np.float64], se: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A value in (0, 1) and its standard error on the logit scale (by the delta method); values
    of exactly 0 or 1 stay where they are, on the probability scale."""
    inside = (value > 0) & (value < 1)
    v = np.where(inside, value, 0.5)
    return (
        np.where(inside, np.log(v / (1 - v)), value),
        np.where(inside, se / (v * (1 - v)), se),
    )


def _verdicts(
    chosen: Sequence[str],
    window: dict[str, Estimate],
    reference: dict[str, Estimate] | None,
    labelled: NDArray[np.int64],
    alpha: float,
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    from scipy.special import ndtr

    k = len(labelled)
    p_values = np.full((k, len(chosen)), np.nan)
    verdict = np.full((k, len(chosen)), "stable", dtype=object)
    for j, name in enumerate(chosen):
        own = window[name]
        if reference is None:
            verdict[:, j] = "no reference"
        else:
            ref = reference[name]
            difference = own.value - ref.value[0]
            if own.trials is not None and ref.trials is not None and ref.successes is not None:
                assert own.successes is not None
                # Two-proportion z-test with the pooled proportion.
                pooled = (own.successes + ref.successes[0]) / (own.trials + ref.trials[0])
                with np.errstate(divide="ignore", invalid="ignore"):
                    se = np.sqrt(pooled * (1 - pooled) * (1 / own.trials + 1 / ref.trials[0]))
            elif METRICS[name].logit:
                own_value, own_se = _logit(own.value, own.se)
                ref_value, ref_se = _logit(ref.value, ref.se)
                difference = own_value - ref_value[0]
                se = np.sqrt(own_se**2 + ref_se[0] ** 2)
            else:
                se = np.sqrt(own.se**2 + ref.se[0] ** 2)
            worse = difference if not METRICS[name].higher_is_better else -difference
            with np.errstate(divide="ignore", invalid="ignore"):
                statistic = np.where(se > 0, worse / se, np.where(worse > 0, np.inf, 0.0))
            p = ndtr(-statistic)
            p[np.isnan(se) | np.isnan(difference)] = np.nan
            p_values[:, j] = p
            verdict[:, j] = np.where(p < alpha, "degraded", "stable")
            verdict[np.isnan(p), j] = "insufficient data"
            if np.isnan(ref.value[0]):  # e.g. ROC AUC of a reference with one class only
                verdict[:, j] = "no reference"
        verdict[np.isnan(own.value), j] = "undefined"
        verdict[labelled == 0, j] = "no labels"
    return p_values, verdict.astype(np.str_)


def performance(
    data: Any,
    *,
    prediction: str,
    label: str,
    time: str | None = None,
    every: object = None,
    step: object = None,
    rows: int | None = None,
    windows: Windows | None = None,
    reference: Any = None,
    task: Literal["classification", "regression"] = "classification",
    id: str | None = None,
    labels: Any = None,
    positive: object = None,
    threshold: float = 0.5,
    metrics: Sequence[str] | None = None,
    confidence: float = 0.95,
    alpha: float = 0.001,
) -> PerformanceResult:
    """Realized performance of a model per window, with confidence intervals and verdicts.

    Args:
        data: the predictions (a pandas DataFrame, pyarrow Table or mapping of columns).
        prediction: the column of predictions: for classification, the probability of the
            positive class (float) or the predicted label; for regression, the value.
        label: the column of true labels, in ``data`` or, with ``labels=``, in ``labels``. A
            missing label means the row is not labelled yet.
        time: the time column of ``data``, for time windows (see :func:`windows`).
        every: the length of a time window (see :func:`windows`).
        step: how far apart windows start (see :func:`windows`).
        rows: the length of a count window, in rows (see :func:`windows`).
        windows: windows built already over ``data``, instead of ``time``, ``every``, ``step``
            and ``rows``. With none of these, all rows form one window.
        reference: data of the reference period with ``prediction`` and ``label`` columns, or
            the :class:`PerformanceResult` of :func:`performance` on such data with no windows
            (one window); each window is judged against its performance.
        task: ``"classification"`` (binary) or ``"regression"``.
        id: the column that joins ``labels`` to ``data``.
        labels: labels that arrive later: a table with the columns ``id`` and ``label``.
        positive: the positive class (default 1 for 0/1 or boolean labels).
        threshold: probabilities at or above it predict the positive class.
        metrics: which metrics (default: all that the predictions allow): ``accuracy``,
            ``precision``, ``recall``, ``f1``, ``roc_auc``, ``log_loss``; ``mae``, ``rmse``,
            ``mape`` (a fraction), ``r2``.
        confidence: of the intervals.
        alpha: the one-sided level at which a worse metric is called ``"degraded"``.

    Example:
        >>> import numpy as np, pandas as pd
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> def scored(n, noise):
        ...     y = rng.integers(0, 2, n)
        ...     p = np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, noise, n), 0, 1)
        ...     return y, p
        >>> y, p = scored(4000, 0.3)
        >>> reference = pd.DataFrame({"y": y, "p": p})
        >>> y, p = scored(3000, 0.3)
        >>> p[2000:] = rng.random(1000)  # the model breaks on the third day
        >>> live = pd.DataFrame({"y": y, "p": p, "ts": pd.date_range(
        ...     "2026-05-01", periods=3000, freq="86.4s")})
        >>> result = drift.performance(live, prediction="p", label="y", time="ts",
        ...                            every="1D", reference=reference)
        >>> result.degraded[:3]
        [(2, 'accuracy'), (2, 'precision'), (2, 'recall')]
        >>> table = result.to_pandas()
        >>> auc = table[table.metric == "roc_auc"]
        >>> auc[["window", "value", "lower", "upper", "reference", "verdict"]].round(3)
            window  value  lower  upper  reference   verdict
        4        0  0.915  0.896  0.930      0.926    stable
        10       1  0.920  0.901  0.935      0.926    stable
        16       2  0.491  0.455  0.527      0.926  degraded
    """
    if task not in ("classification", "regression"):
        raise InputError(f"task={task!r} must be 'classification' or 'regression'")
    if not 0 < confidence < 1 or not 0 < alpha < 1:
        raise InputError("confidence and alpha must lie strictly between 0 and 1")
    label_from_data = labels is None
    wanted = [prediction] + ([label] if label_from_data else []) + ([id] if id else [])
    frame = read_columns(data, list(dict.fromkeys(wanted)), "data")
    truth = frame[label] if label_from_data else join_labels(frame, labels, id, label)
    length = len(frame[prediction])
    if windows is None:
        if every is None and rows is None:
            windows = make_windows(np.zeros(length), rows=max(length, 1))
        else:
            windows = make_windows(data, time=time, every=every, step=step, rows=rows)
    elif windows.data_rows != length:
        raise InputError(
            f"windows= was built over {windows.data_rows} rows, but data has {length}; build the "
            "windows from this data"
        )
    usable, t, p, score, positive = prepare(
        frame, truth, prediction, label, task, positive, threshold
    )
    chosen = _choose_metrics(metrics, task, score is not None)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    window_of, row = windows.memberships()
    keep = usable[row]
    window_of, row = window_of[keep], row[keep]
    own = Labelled(window_of, len(windows), t[row], p[row], None if score is None else score[row])
    estimates = _estimates(chosen, own, z)
    ref_estimates = None
    if isinstance(reference, PerformanceResult):
        ref_estimates = _reference_estimates(reference, chosen, task)
    elif reference is not None:
        ref_frame = read_columns(reference, [prediction, label], "reference")
        r_usable, r_t, r_p, r_score, _ = prepare(
            ref_frame, ref_frame[label], prediction, label, task, positive, threshold
        )
        if not r_usable.any():
            raise EmptyDataError("the reference has no row with both a label and a prediction")
        if score is not None and r_score is None:
            raise InputError(
                "the predictions are probabilities but the reference's are labels; give both "
                "the same kind"
            )
        index = np.flatnonzero(r_usable)
        ref_labelled = Labelled(
            np.zeros(len(index), dtype=np.int64),
            1,
            r_t[index],
            r_p[index],
            None if r_score is None else r_score[index],
        )
        ref_estimates = _estimates(chosen, ref_labelled, z)
    labelled_rows = own.count().astype(np.int64)
    p_values, verdict = _verdicts(chosen, estimates, ref_estimates, labelled_rows, alpha)

    def stack(field: str) -> NDArray[np.float64]:
        return np.column_stack([getattr(estimates[m], field) for m in chosen]).astype(np.float64)

    return PerformanceResult(
        windows=windows,
        task=task,
        metrics=chosen,
        labelled=labelled_rows,
        value=stack("value"),
        lower=stack("lower"),
        upper=stack("upper"),
        p_value=p_values,
        verdict=verdict,
        reference=None
        if ref_estimates is None
        else {
            m: (float(e.value[0]), float(e.lower[0]), float(e.upper[0]))
            for m, e in ref_estimates.items()
        },
        confidence=confidence,
        alpha=alpha,
        estimates=estimates,
    )


def _reference_estimates(
    result: PerformanceResult, chosen: Sequence[str], task: Task
) -> dict[str, Estimate]:
    """The reference period's estimates from an earlier one-window :func:`performance`."""
    if len(result.windows) != 1 or not result.estimates:
        raise InputError(
            f"reference= as a PerformanceResult must cover the reference period as one window, "
            f"but it has {len(result.windows)}; compute it with performance(reference_data, "
            "prediction=..., label=...) and no windows"
        )
    if result.task != task:
        raise InputError(
            f"reference= is a {result.task} result, but task={task!r}; compute both for one task"
        )
    absent = [m for m in chosen if m not in result.estimates]
    if absent:
        raise InputError(
            f"reference= has no {absent} (it holds {list(result.metrics)}); compute it with the "
            "same metrics and the same kind of predictions (probabilities or labels)",
            missing=absent,
        )
    if int(result.labelled[0]) == 0:
        raise EmptyDataError("the reference has no row with both a label and a prediction")
    return {m: result.estimates[m] for m in chosen}
