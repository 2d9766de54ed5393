"""The monitoring guard: no promotion while a version's latest monitoring says its inputs drift,
its data breaks, or its performance (realized or estimated) is below a floor.

It judges the result of ``drift.monitor()`` under one context key and, when there is one, the
result of ``drift.estimate_performance()`` under another; the registry fills either key from the
latest evidence of its kind attached to the version. It fails closed: no monitoring result, an
object that is not one, a result older than ``max_age``, judged windows without a verdict, or a
floor on a metric that no judged window has a value for, all refuse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from modelyard.errors import InputError
from modelyard.lifecycle._guard import Guard, GuardContext, GuardResult
from modelyard.lifecycle._monitoring_read import (
    NotAResult,
    ResultFacts,
    WindowFacts,
    read_embedded_estimates,
    read_estimated,
    read_monitoring,
)
from modelyard.lifecycle._spec import GuardSpec
from modelyard.lifecycle._values import FrozenMap, require_label, require_text

__all__ = ["MonitoringGuard", "monitoring_clean"]

WindowChoice = Literal["last", "all"] | int


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _span(windows: tuple[WindowFacts, ...]) -> str:
    numbers = [w.window for w in windows]
    if len(numbers) == 1:
        return f"window {numbers[0]}"
    return f"windows {numbers[0]}-{numbers[-1]}"


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class _Judged:
    """Problems found so far (reason parts) and the facts behind them (details)."""

    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitoringGuard:
    """See :func:`monitoring_clean`."""

    windows: WindowChoice = "last"
    max_drifted_windows: int = 0
    floors: Mapping[str, float] = field(default_factory=FrozenMap)
    quality: bool = True
    degraded: bool = True
    max_age: timedelta | None = None
    key: str = "monitoring"
    evidence: str | None = "monitoring"
    estimated_key: str | None = "estimated_performance"
    estimated_evidence: str | None = "estimated-performance"

    @property
    def name(self) -> str:
        parts = [f"{m} >= {f:g}" for m, f in self.floors.items()]
        return "monitoring clean" + (f" ({', '.join(parts)})" if parts else "")

    @property
    def spec(self) -> GuardSpec:
        """The stored form: ``monitoring_clean`` with every parameter (``max_age`` in seconds)."""
        return GuardSpec(
            "monitoring_clean",
            {
                "windows": self.windows,
                "max_drifted_windows": self.max_drifted_windows,
                "floors": dict(self.floors),
                "quality": self.quality,
                "degraded": self.degraded,
                "max_age_seconds": None if self.max_age is None else self.max_age.total_seconds(),
                "key": self.key,
                "evidence": self.evidence,
                "estimated_key": self.estimated_key,
                "estimated_evidence": self.estimated_evidence,
            },
        )

    @property
    def context_evidence(self) -> Mapping[str, str]:
        """The attached evidence this guard reads: context key -> evidence kind (see
        :class:`~modelyard.lifecycle.Guard`)."""
        reads: dict[str, str] = {}
        if self.evidence is not None:
            reads[self.key] = self.evidence
        if self.estimated_key is not None and self.estimated_evidence is not None:
            reads[self.estimated_key] = self.estimated_evidence
        return FrozenMap(reads)

    def _chosen(self, windows: tuple[WindowFacts, ...]) -> tuple[WindowFacts, ...]:
        if self.windows == "all":
            return windows
        count = 1 if self.windows == "last" else int(self.windows)
        return windows[-count:]

    def _refuse(self, reason: str, **details: Any) -> GuardResult:
        return GuardResult(False, reason, {"key": self.key, **details}, guard=self.name)

    def _read(self, ctx: GuardContext) -> tuple[ResultFacts, ResultFacts | None] | GuardResult:
        """The results to judge, or the refusal that none (or a wrong object) was given."""
        found = ctx.request.context.get(self.key)
        if found is None:
            attach = (
                f", or attach one to the version as evidence of kind {self.evidence!r}"
                if self.evidence is not None
                else ""
            )
            return self._refuse(
                f"no monitoring result in the request context under {self.key!r}; pass "
                f"context={{{self.key!r}: drift.monitor(...)}} with the transition{attach}",
                monitoring=None,
            )
        try:
            monitoring = read_monitoring(found)
        except NotAResult as exc:
            return self._refuse(
                f"the object under {self.key!r} ({type(found).__name__}) is not a monitoring "
                f"result ({exc}); pass the result of drift.monitor()",
                monitoring=None,
            )
        # A monitoring result that carries its own estimates stands in for a separate one.
        try:
            embedded = read_embedded_estimates(found)
        except NotAResult as exc:
            return self._refuse(
                f"the estimates inside the object under {self.key!r} are not readable ({exc})",
                monitoring=None,
            )
        if self.estimated_key is None:
            return monitoring, embedded
        other = ctx.request.context.get(self.estimated_key)
        if other is None:
            return monitoring, embedded
        try:
            return monitoring, read_estimated(other)
        except NotAResult as exc:
            return self._refuse(
                f"the object under {self.estimated_key!r} ({type(other).__name__}) is not an "
                f"estimated performance ({exc}); pass the result of drift.estimate_performance()",
                monitoring=None,
            )

    def _age(self, ctx: GuardContext, label: str, result: ResultFacts, judged: _Judged) -> None:
        if self.max_age is None:
            return
        try:
            ended = result.ended()
        except NotAResult as exc:
            judged.problems.append(f"the age of the {label} is unknown: {exc}")
            return
        if ended is None:
            judged.problems.append(
                f"the {label} has no time windows, so its age is unknown; monitor with time= "
                "and every=, or drop max_age"
            )
            return
        age = max(ctx.at - ended, timedelta(0))
        judged.details.setdefault("age_seconds", {})[label] = age.total_seconds()
        if age > self.max_age:
            judged.problems.append(
                f"the {label} is too old: its last window ended {ended.isoformat()}, "
                f"{age} before this request (at most {self.max_age} allowed); monitor again"
            )

    def _drift(self, chosen: tuple[WindowFacts, ...], judged: _Judged) -> None:
        if not any(w.judged for w in chosen):
            judged.problems.append(
                f"no verdict in {_span(chosen)} (too few rows or nothing to judge); "
                "monitor over windows with enough data"
            )
        drifted = [w for w in chosen if w.drifted]
        judged.details["drifted"] = [
            {"window": w.window, "columns": list(w.drifted)} for w in drifted
        ]
        if len(drifted) > self.max_drifted_windows:
            listed = ", ".join(f"window {w.window} ({', '.join(w.drifted)})" for w in drifted)
            judged.problems.append(
                f"inputs drift in {_plural(len(drifted), 'window')} of {len(chosen)} judged "
                f"(at most {self.max_drifted_windows} allowed): {listed}"
            )
        found = [(w.window, c, r) for w in chosen for c, r in w.quality] if self.quality else []
        judged.details["quality"] = [{"window": w, "column": c, "reason": r} for w, c, r in found]
        if found:
            listed = ", ".join(f"{c} in window {w}" for w, c, _ in found)
            judged.problems.append(f"data-quality errors: {listed}")

    def _performance(
        self, sources: list[tuple[str, tuple[WindowFacts, ...]]], judged: _Judged
    ) -> None:
        entries = [(source, w.window, m) for source, ws in sources for w in ws for m in w.metrics]
        degraded = [(s, w, m) for s, w, m in entries if m.degraded] if self.degraded else []
        judged.details["degraded"] = [
            {"source": s, "window": w, "metric": m.metric} for s, w, m in degraded
        ]
        if degraded:
            listed = ", ".join(f"{s} {m.metric} in window {w}" for s, w, m in degraded)
            judged.problems.append(f"performance degraded against the reference: {listed}")
        below: list[dict[str, Any]] = []
        missing: list[str] = []
        for metric, floor in self.floors.items():
            values = [e for e in entries if e[2].metric == metric and e[2].value is not None]
            if not values:
                missing.append(metric)
                continue
            low = [(s, w, m) for s, w, m in values if m.value is not None and m.value < floor]
            below += [
                {"metric": metric, "floor": floor, "source": s, "window": w}
                | {"value": m.value, "lower": m.lower, "upper": m.upper}
                for s, w, m in low
            ]
            if low:
                listed = ", ".join(
                    f"{s} {_shown(m.value)} in window {w}"
                    + (f" [{_shown(m.lower)}, {_shown(m.upper)}]" if m.lower is not None else "")
                    for s, w, m in low
                )
                judged.problems.append(f"{metric} below its floor {floor:g}: {listed}")
        judged.details["below_floor"] = below
        judged.details["missing_metrics"] = missing
        if missing:
            judged.problems.append(
                f"no realized or estimated value of {', '.join(missing)} in the judged windows; "
                "monitor with prediction= and label=, or attach drift.estimate_performance()"
                + (
                    f" as evidence of kind {self.estimated_evidence!r}"
                    if self.estimated_key is not None and self.estimated_evidence is not None
                    else ""
                )
            )

    def __call__(self, ctx: GuardContext) -> GuardResult:
        read = self._read(ctx)
        if isinstance(read, GuardResult):
            return read
        monitoring, estimated = read
        chosen = self._chosen(monitoring.windows)
        if not chosen:
            return self._refuse(
                f"the monitoring result under {self.key!r} has no windows; monitor some data",
                monitoring=None,
            )
        judged = _Judged(details={"windows": [w.window for w in chosen]})
        self._age(ctx, "monitoring result", monitoring, judged)
        sources = [("realized", chosen)]
        if estimated is not None:
            picked = self._chosen(estimated.windows)
            judged.details["estimated_windows"] = [w.window for w in picked]
            self._age(ctx, "estimated performance", estimated, judged)
            sources.append(("estimated", picked))
        self._drift(chosen, judged)
        self._performance(sources, judged)
        details = {"key": self.key, **judged.details}
        if judged.problems:
            return GuardResult(False, "; ".join(judged.problems), details, guard=self.name)
        floors = ", ".join(f"{m} >= {f:g}" for m, f in self.floors.items())
        drifted = len(details["drifted"])
        return GuardResult(
            True,
            f"monitoring of {_span(chosen)} is clean"
            + (f" ({_plural(drifted, 'drifted window')} allowed)" if drifted else "")
            + (f"; {floors}" if floors else ""),
            details,
            guard=self.name,
        )


def _check_floors(floors: object) -> FrozenMap[str, float]:
    if floors is None:
        return FrozenMap()
    if not isinstance(floors, Mapping):
        raise InputError(
            f"floors must map metric names to numbers, such as {{'roc_auc': 0.75}}; got {floors!r}",
            what="floors",
        )
    checked: dict[str, float] = {}
    for metric, floor in floors.items():
        require_label(metric, what="metric name")
        number = isinstance(floor, (int, float)) and not isinstance(floor, bool)
        if not number or not math.isfinite(floor):
            raise InputError(
                f"the floor of {metric!r} must be a finite number, got {floor!r}", what="floors"
            )
        checked[metric] = float(floor)
    return FrozenMap(dict(sorted(checked.items())))


def monitoring_clean(
    *,
    windows: WindowChoice = "last",
    max_drifted_windows: int = 0,
    floors: Mapping[str, float] | None = None,
    quality: bool = True,
    degraded: bool = True,
    max_age: timedelta | None = None,
    key: str = "monitoring",
    evidence: str | None = "monitoring",
    estimated_key: str | None = "estimated_performance",
    estimated_evidence: str | None = "estimated-performance",
) -> Guard:
    """A guard that refuses while the version's latest monitoring calls for action.

    It judges the result of ``drift.monitor()`` in ``request.context[key]`` and, if there is one,
    the result of ``drift.estimate_performance()`` in ``request.context[estimated_key]``. When the
    transition passes none, the registry supplies the latest result attached to the version as
    evidence of kind ``evidence`` (``registry.attach(ref, result, kind="monitoring")``), and of
    kind ``estimated_evidence`` for the estimate; ``None`` reads only what the transition passes.
    Results are read by their documented attributes, so the lifecycle never imports
    :mod:`modelyard.drift`.

    Of each result it judges the ``windows`` last windows (``"last"``, ``"all"`` or a count). It
    refuses when:

    * more than ``max_drifted_windows`` of them have drifted columns, or none of them had enough
      data for a verdict;
    * with ``quality``, a window has data-quality errors;
    * with ``degraded``, a realized or estimated metric is judged degraded against the reference;
    * a metric in ``floors`` (``{"roc_auc": 0.75}``: lowest acceptable values, for metrics where
      higher is better) has a realized or estimated value below its floor, or no value at all;
    * with ``max_age``, a result's last window ended longer than ``max_age`` before the request
      (a result of count windows has no time and refuses);
    * there is no monitoring result, or the object is not one.

    The reason names the windows, columns and metrics; ``details`` carries them as data.

    >>> from types import SimpleNamespace as NS
    >>> from modelyard.lifecycle import GuardContext
    >>> window = NS(window=3, end=300, verdict="drift", drifted=["age"], quality=None,
    ...             performance=None)
    >>> result = NS(kind="rows", windows=[window])
    >>> ctx = GuardContext.for_test(request_context={"monitoring": result})
    >>> monitoring_clean()(ctx).reason
    'inputs drift in 1 window of 1 judged (at most 0 allowed): window 3 (age)'
    """
    if windows not in ("last", "all") and (
        isinstance(windows, bool) or not isinstance(windows, int) or windows < 1
    ):
        raise InputError(
            f"windows must be 'last', 'all' or a number of windows >= 1, got {windows!r}",
            what="windows",
        )
    if (
        isinstance(max_drifted_windows, bool)
        or not isinstance(max_drifted_windows, int)
        or max_drifted_windows < 0
    ):
        raise InputError(
            f"max_drifted_windows must be an integer >= 0, got {max_drifted_windows!r}",
            what="max_drifted_windows",
        )
    for flag, value in (("quality", quality), ("degraded", degraded)):
        if not isinstance(value, bool):
            raise InputError(f"{flag} must be a bool, got {value!r}", what=flag)
    if max_age is not None and (not isinstance(max_age, timedelta) or max_age <= timedelta(0)):
        raise InputError(
            f"max_age must be a positive timedelta or None, got {max_age!r}", what="max_age"
        )
    require_text(key, what="context key")
    if evidence is not None:
        require_label(evidence, what="evidence kind")
    if estimated_key is not None:
        require_text(estimated_key, what="context key")
        if estimated_key == key:
            raise InputError(
                f"key and estimated_key are both {key!r}; the two results need their own keys",
                what="estimated_key",
            )
    if estimated_evidence is not None:
        require_label(estimated_evidence, what="evidence kind")
        if estimated_evidence == evidence:
            raise InputError(
                f"evidence and estimated_evidence are both {evidence!r}; attach the monitoring "
                "result and the estimated performance as evidence of different kinds",
                what="estimated_evidence",
            )
    return MonitoringGuard(
        windows=windows,
        max_drifted_windows=max_drifted_windows,
        floors=_check_floors(floors),
        quality=quality,
        degraded=degraded,
        max_age=max_age,
        key=key,
        evidence=evidence,
        estimated_key=estimated_key,
        estimated_evidence=estimated_evidence,
    )
