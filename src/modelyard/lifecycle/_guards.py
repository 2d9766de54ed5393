"""Built-in guards: metric thresholds, required tags and a clean drift report."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from modelyard.errors import InputError
from modelyard.lifecycle._guard import Guard, GuardContext, GuardResult
from modelyard.lifecycle._spec import GuardSpec
from modelyard.lifecycle._values import FrozenMap, require_label, require_text

__all__ = [
    "DriftGuard",
    "MetricGuard",
    "TagGuard",
    "drift_clean",
    "metric_at_least",
    "metric_at_most",
    "require_tags",
]


@dataclass(frozen=True)
class MetricGuard:
    """See :func:`metric_at_least` and :func:`metric_at_most`."""

    metric: str
    threshold: float
    direction: Literal["at_least", "at_most"]

    @property
    def name(self) -> str:
        op = ">=" if self.direction == "at_least" else "<="
        return f"{self.metric} {op} {self.threshold:g}"

    @property
    def spec(self) -> GuardSpec:
        """The stored form: ``metric_at_least`` or ``metric_at_most`` with metric and threshold."""
        return GuardSpec(
            f"metric_{self.direction}", {"metric": self.metric, "threshold": self.threshold}
        )

    def __call__(self, ctx: GuardContext) -> GuardResult:
        details: dict[str, object] = {
            "metric": self.metric,
            "threshold": self.threshold,
            "direction": self.direction,
        }
        value = ctx.version.metrics.get(self.metric)
        if value is None:
            recorded = ", ".join(sorted(ctx.version.metrics)) or "none"
            return GuardResult(
                False,
                f"metric {self.metric!r} is not recorded for version {ctx.version.version} "
                f"(recorded: {recorded}); log it before this transition",
                {**details, "value": None},
                guard=self.name,
            )
        if math.isnan(value):
            return GuardResult(
                False,
                f"metric {self.metric!r} of version {ctx.version.version} is NaN",
                {**details, "value": "nan"},
                guard=self.name,
            )
        ok = value >= self.threshold if self.direction == "at_least" else value <= self.threshold
        if ok:
            op = ">=" if self.direction == "at_least" else "<="
        else:
            op = "<" if self.direction == "at_least" else ">"
        shown = value if math.isfinite(value) else str(value)
        return GuardResult(
            ok,
            f"{self.metric} = {value:g} {op} {self.threshold:g}",
            {**details, "value": shown},
            guard=self.name,
        )


def _metric_guard(
    metric: str, threshold: float, direction: Literal["at_least", "at_most"]
) -> Guard:
    require_label(metric, what="metric name")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise InputError(f"threshold must be a number, got {threshold!r}")
    if not math.isfinite(threshold):
        raise InputError(f"threshold must be finite, got {threshold!r}")
    return MetricGuard(metric, float(threshold), direction)


def metric_at_least(metric: str, threshold: float) -> Guard:
    """A guard that needs the version's ``metric`` to be recorded and ``>= threshold``.

    A missing or NaN metric fails the guard.

    >>> from modelyard.lifecycle import GuardContext
    >>> metric_at_least("auc", 0.8)(GuardContext.for_test(metrics={"auc": 0.75}))
    GuardResult(ok=False, reason='auc = 0.75 < 0.8', ...)
    """
    return _metric_guard(metric, threshold, "at_least")


def metric_at_most(metric: str, threshold: float) -> Guard:
    """A guard that needs the version's ``metric`` to be recorded and ``<= threshold``.

    >>> from modelyard.lifecycle import GuardContext
    >>> metric_at_most("latency_ms", 50)(GuardContext.for_test(metrics={"latency_ms": 42.0})).reason
    'latency_ms = 42 <= 50'
    """
    return _metric_guard(metric, threshold, "at_most")


@dataclass(frozen=True)
class TagGuard:
    """See :func:`require_tags`."""

    keys: tuple[str, ...] = ()
    values: Mapping[str, str] = field(default_factory=FrozenMap)

    @property
    def name(self) -> str:
        parts = [*self.keys, *(f"{k}={v}" for k, v in self.values.items())]
        return f"tags {', '.join(parts)}"

    @property
    def spec(self) -> GuardSpec:
        """The stored form: ``require_tags`` with the required ``keys`` and ``values``."""
        return GuardSpec("require_tags", {"keys": list(self.keys), "values": dict(self.values)})

    def __call__(self, ctx: GuardContext) -> GuardResult:
        tags = ctx.version.tags
        missing = [k for k in (*self.keys, *self.values) if k not in tags]
        wrong = {
            k: {"expected": v, "actual": tags[k]}
            for k, v in self.values.items()
            if k in tags and tags[k] != v
        }
        details = {"missing": missing, "mismatched": wrong}
        if not missing and not wrong:
            return GuardResult(
                True,
                f"version {ctx.version.version} has the required tags",
                details,
                guard=self.name,
            )
        problems = []
        if missing:
            problems.append(f"missing tags {', '.join(repr(k) for k in missing)}")
        problems.extend(
            f"tag {k!r} is {w['actual']!r}, expected {w['expected']!r}" for k, w in wrong.items()
        )
        return GuardResult(
            False,
            f"version {ctx.version.version}: {'; '.join(problems)}",
            details,
            guard=self.name,
        )


def require_tags(*keys: str, **values: str) -> Guard:
    """A guard that needs the version to have tags ``keys`` and tags equal to ``values``.

    >>> from modelyard.lifecycle import GuardContext
    >>> guard = require_tags("owner", validated="yes")
    >>> guard(GuardContext.for_test(tags={"validated": "no"})).reason
    "version 1: missing tags 'owner'; tag 'validated' is 'no', expected 'yes'"
    """
    if not keys and not values:
        raise InputError("require_tags needs at least one tag key or key=value")
    for key in (*keys, *values):
        require_label(key, what="tag key")
    for key, value in values.items():
        if not isinstance(value, str):
            raise InputError(f"tag value for {key!r} must be a string, got {value!r}")
        if value:
            require_label(value, what=f"tag value for {key!r}")
    return TagGuard(tuple(dict.fromkeys(keys)), FrozenMap(values))


@dataclass(frozen=True)
class DriftGuard:
    """See :func:`drift_clean`."""

    key: str = "drift_report"
    evidence: str | None = "drift-report"

    @property
    def name(self) -> str:
        return "drift clean" if self.key == "drift_report" else f"drift clean ({self.key})"

    @property
    def spec(self) -> GuardSpec:
        """The stored form: ``drift_clean`` with the context ``key`` and the ``evidence`` kind."""
        return GuardSpec("drift_clean", {"key": self.key, "evidence": self.evidence})

    @property
    def context_evidence(self) -> Mapping[str, str]:
        """The attached evidence this guard reads: context key -> evidence kind (see
        :class:`~modelyard.lifecycle.Guard`)."""
        return FrozenMap({self.key: self.evidence} if self.evidence is not None else {})

    def __call__(self, ctx: GuardContext) -> GuardResult:
        report = ctx.request.context.get(self.key)
        if report is None:
            return GuardResult(
                False,
                f"no drift report in the request context under {self.key!r}; pass "
                f"context={{{self.key!r}: report}} with the transition"
                + (
                    f", or attach one to the version as evidence of kind {self.evidence!r}"
                    if self.evidence is not None
                    else ""
                ),
                {"key": self.key, "drifted": None},
                guard=self.name,
            )
        drifted = getattr(report, "drifted", None)
        if drifted is None or isinstance(drifted, (str, bytes)):
            return GuardResult(
                False,
                f"the object under {self.key!r} ({type(report).__name__}) has no 'drifted' "
                "sequence of column names; pass a drift report",
                {"key": self.key, "drifted": None},
                guard=self.name,
            )
        columns = [str(column) for column in drifted]
        if columns:
            return GuardResult(
                False,
                f"drift detected in {len(columns)} column{'s' if len(columns) != 1 else ''}: "
                f"{', '.join(columns)}",
                {"key": self.key, "drifted": columns},
                guard=self.name,
            )
        return GuardResult(
            True, "the drift report is clean", {"key": self.key, "drifted": []}, guard=self.name
        )


def drift_clean(key: str = "drift_report", *, evidence: str | None = "drift-report") -> Guard:
    """A guard that needs a drift report with no drifted columns in ``request.context[key]``.

    Any object with a ``drifted`` attribute (a sequence of column names) is accepted, so the
    lifecycle never imports :mod:`modelyard.drift`. A missing report fails the guard. When the
    transition passes no report, the registry supplies the latest one attached to the version as
    evidence of kind ``evidence`` (``registry.attach(ref, report, kind="drift-report")``);
    ``evidence=None`` accepts only a report passed with the transition.

    >>> from types import SimpleNamespace
    >>> from modelyard.lifecycle import GuardContext
    >>> report = SimpleNamespace(drifted=["age"])
    >>> drift_clean()(GuardContext.for_test(request_context={"drift_report": report}))
    GuardResult(ok=False, reason='drift detected in 1 column: age', ...)
    """
    require_text(key, what="context key")
    if evidence is not None:
        require_label(evidence, what="evidence kind")
    return DriftGuard(key, evidence)
