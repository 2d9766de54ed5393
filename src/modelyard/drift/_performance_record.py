"""One window's realized performance inside a monitoring result, as a stored record."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from modelyard._internal.reprs import brief
from modelyard.drift._performance import PerformanceResult
from modelyard.errors import NotFoundError

__all__ = ["MetricResult", "WindowPerformance", "window_records"]

PerformanceVerdict = Literal[
    "stable", "degraded", "no labels", "undefined", "insufficient data", "no reference"
]


class MetricResult(BaseModel):
    """One metric in one window: its value and confidence interval, the reference period's
    value, the one-sided p-value of "worse than the reference", the verdict (see
    :func:`performance`) and why. ``None`` stands for a value that is not defined."""

    model_config = ConfigDict(frozen=True)

    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    reference: float | None
    p_value: float | None
    verdict: PerformanceVerdict
    reason: str
    #: Rows of the window with both a label and a prediction.
    labelled: int

    @property
    def degraded(self) -> bool:
        """True when the verdict is ``"degraded"``."""
        return self.verdict == "degraded"

    def __repr__(self) -> str:
        return brief(self, "metric", "value", "lower", "upper", "degraded")


class WindowPerformance(BaseModel):
    """A window's realized performance: one :class:`MetricResult` per metric, judged at the
    one-sided level ``alpha``, with intervals at ``confidence``."""

    model_config = ConfigDict(frozen=True)

    task: Literal["classification", "regression"]
    labelled: int
    confidence: float
    alpha: float
    metrics: tuple[MetricResult, ...]

    @property
    def degraded(self) -> list[str]:
        """Names of the metrics whose verdict is ``"degraded"``."""
        return [m.metric for m in self.metrics if m.degraded]

    def metric(self, name: str) -> MetricResult:
        """The result of one metric."""
        for result in self.metrics:
            if result.metric == name:
                return result
        raise NotFoundError(
            f"metric {name!r} was not computed",
            name=name,
            available=[m.metric for m in self.metrics],
        )

    def __repr__(self) -> str:
        values = {m.metric: round(m.value, 4) for m in self.metrics if m.value is not None}
        return brief(self, "task", "labelled", metrics=values)


def _number(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _reason(
    metric: str,
    verdict: str,
    value: float | None,
    reference: float | None,
    p: float | None,
    alpha: float,
) -> str:
    if verdict == "no labels":
        return "no row of the window has a label yet"
    if verdict == "no reference":
        return "no reference value to judge against"
    if verdict == "undefined":
        return f"{metric} is not defined on this window's labels"
    if verdict == "insufficient data":
        return "too few labelled rows to estimate the sampling noise"
    relation = "<" if verdict == "degraded" else ">="
    called = "worse than" if verdict == "degraded" else "within sampling noise of"
    return (
        f"{metric} {value:.4g} is {called} the reference's {reference:.4g} "
        f"(one-sided p = {p:.3g} {relation} alpha {alpha:g})"
    )


def window_records(result: PerformanceResult) -> list[WindowPerformance]:
    """The result of :func:`performance` as one record per window."""
    reference = result.reference
    records = []
    for w in range(len(result.windows)):
        labelled = int(result.labelled[w])
        metrics = []
        for j, name in enumerate(result.metrics):
            value = _number(result.value[w, j])
            ref = None if reference is None else _number(reference[name][0])
            p = _number(result.p_value[w, j])
            verdict = str(result.verdict[w, j])
            metrics.append(
                MetricResult(
                    metric=name,
                    value=value,
                    lower=_number(result.lower[w, j]),
                    upper=_number(result.upper[w, j]),
                    reference=ref,
                    p_value=p,
                    verdict=verdict,
                    reason=_reason(name, verdict, value, ref, p, result.alpha),
                    labelled=labelled,
                )
            )
        records.append(
            WindowPerformance(
                task=result.task,
                labelled=labelled,
                confidence=result.confidence,
                alpha=result.alpha,
                metrics=tuple(metrics),
            )
        )
    return records
