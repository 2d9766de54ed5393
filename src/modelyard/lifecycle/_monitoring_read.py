"""Reading monitoring results by their documented attributes, without importing the drift layer.

The lifecycle layer may not import :mod:`modelyard.drift` (it sits beside it, see the layering
test), so the monitoring guard reads a result by duck typing: a result of ``drift.monitor()`` has
``kind`` and ``windows``, each window ``window``, ``end``, ``verdict``, ``drifted`` (column
names), ``quality`` (``None`` or a report with ``errors``, each with ``column`` and ``reason``) and
``performance`` (``None`` or a record with ``metrics``, each with ``metric``, ``value``,
``lower``, ``upper`` and ``verdict``); results of later versions may also carry, per window,
``multivariate`` (records with ``method`` and ``verdict``: a ``"drift"`` counts as a drifted
input, named ``multivariate:<method>``) and ``estimated`` (``None`` or a record with
``metrics``, as below). A result of ``drift.estimate_performance()`` has ``kind`` and
``windows``, each window ``window``, ``end`` and ``metrics`` of the same shape. Anything else
raises :class:`NotAResult` with what is missing, which the guard turns into a refusal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "MetricFacts",
    "NotAResult",
    "ResultFacts",
    "WindowFacts",
    "parse_utc",
    "read_embedded_estimates",
    "read_estimated",
    "read_monitoring",
]

# Window bounds are stored with nanoseconds ("2026-06-05T00:00:00.000000000"), which
# datetime.fromisoformat reads only from Python 3.11 on; the fraction is cut to microseconds.
_STAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?\Z"
)

# Verdicts that judged a window; "insufficient data" and "undefined" did not.
_JUDGED = frozenset({"stable", "drift"})
_METRIC_JUDGED = frozenset({"stable", "degraded"})


class NotAResult(Exception):
    """The object lacks an attribute a monitoring result has; the message says which."""


@dataclass(frozen=True)
class MetricFacts:
    """One metric of one window: its value and band (``None`` where undefined)."""

    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    degraded: bool
    judged: bool


@dataclass(frozen=True)
class WindowFacts:
    """What the guard needs of one window."""

    window: int
    end: str | int
    judged: bool
    drifted: tuple[str, ...] = ()
    quality: tuple[tuple[str, str], ...] = ()
    metrics: tuple[MetricFacts, ...] = ()


@dataclass(frozen=True)
class ResultFacts:
    """What the guard needs of one result: the kind of its windows and the windows in order."""

    kind: str
    windows: tuple[WindowFacts, ...]

    def ended(self) -> datetime | None:
        """When the last window ends (UTC), or ``None`` for count windows or no windows."""
        if self.kind != "time" or not self.windows:
            return None
        end = self.windows[-1].end
        stamp = parse_utc(end)
        if stamp is None:
            raise NotAResult(f"the end of its last window, {end!r}, is not ISO time text")
        return stamp


def parse_utc(text: object) -> datetime | None:
    """An ISO time text as an aware datetime (UTC when it names no offset), else ``None``.

    >>> parse_utc("2026-06-05T00:00:00.000000000")
    datetime.datetime(2026, 6, 5, 0, 0, tzinfo=datetime.timezone.utc)
    """
    found = _STAMP.match(text) if isinstance(text, str) else None
    if found is None:
        return None
    day, clock, fraction, offset = found.groups()
    shown = f"{day}T{clock or '00:00'}" + (f".{fraction[:6].ljust(6, '0')}" if fraction else "")
    shown += "+00:00" if offset in (None, "Z") else offset
    try:
        return datetime.fromisoformat(shown)
    except ValueError:
        return None


def _get(obj: object, name: str, where: str) -> Any:
    try:
        return getattr(obj, name)
    except AttributeError:
        raise NotAResult(f"{where} has no {name!r}") from None


def _sequence(value: object, name: str, where: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise NotAResult(f"{where}'s {name!r} is not a sequence")
    return list(value)


def _number(value: object, name: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NotAResult(f"{where}'s {name!r} is not a number")
    return float(value) if math.isfinite(value) else None


def _metrics(items: Iterable[Any], where: str) -> tuple[MetricFacts, ...]:
    facts = []
    for item in items:
        verdict = _get(item, "verdict", f"a metric of {where}")
        facts.append(
            MetricFacts(
                metric=str(_get(item, "metric", f"a metric of {where}")),
                value=_number(_get(item, "value", f"a metric of {where}"), "value", where),
                lower=_number(_get(item, "lower", f"a metric of {where}"), "lower", where),
                upper=_number(_get(item, "upper", f"a metric of {where}"), "upper", where),
                degraded=verdict == "degraded",
                judged=verdict in _METRIC_JUDGED,
            )
        )
    return tuple(facts)


def _windows(result: object) -> tuple[str, list[Any]]:
    kind = _get(result, "kind", "the result")
    if kind not in ("time", "rows"):
        raise NotAResult(f"the result's 'kind' is {kind!r}, not 'time' or 'rows'")
    return str(kind), _sequence(_get(result, "windows", "the result"), "windows", "the result")


def _index(window: object) -> int:
    index = _get(window, "window", "a window")
    if isinstance(index, bool) or not isinstance(index, int):
        raise NotAResult("a window's 'window' is not a window number")
    return index


def read_monitoring(result: object) -> ResultFacts:
    """The facts of a ``drift.monitor()`` result; :class:`NotAResult` if it is not one."""
    kind, windows = _windows(result)
    facts = []
    for w in windows:
        index = _index(w)
        where = f"window {index}"
        drifted = _sequence(_get(w, "drifted", where), "drifted", where)
        quality = _get(w, "quality", where)
        errors = (
            [] if quality is None else _sequence(_get(quality, "errors", where), "errors", where)
        )
        performance = _get(w, "performance", where)
        metrics = (
            ()
            if performance is None
            else _metrics(_sequence(_get(performance, "metrics", where), "metrics", where), where)
        )
        together = _sequence(getattr(w, "multivariate", ()), "multivariate", where)
        drifted += [
            f"multivariate:{_get(m, 'method', where)}"
            for m in together
            if _get(m, "verdict", where) == "drift"
        ]
        facts.append(
            WindowFacts(
                window=index,
                end=_get(w, "end", where),
                judged=_get(w, "verdict", where) in _JUDGED,
                drifted=tuple(str(c) for c in drifted),
                quality=tuple(
                    (str(_get(e, "column", where)), str(_get(e, "reason", where))) for e in errors
                ),
                metrics=metrics,
            )
        )
    return ResultFacts(kind, tuple(facts))


def _estimate_window(window: object, holder: object) -> WindowFacts:
    """A window of estimates: its number and end from ``window``, its metrics from ``holder``
    (the window itself, or the record a monitoring window carries)."""
    index = _index(window)
    where = f"window {index}"
    metrics = _metrics(_sequence(_get(holder, "metrics", where), "metrics", where), where)
    return WindowFacts(
        window=index,
        end=_get(window, "end", where),
        judged=any(m.judged for m in metrics),
        metrics=metrics,
    )


def read_estimated(result: object) -> ResultFacts:
    """The facts of a ``drift.estimate_performance()`` result; :class:`NotAResult` if it is not
    one."""
    kind, windows = _windows(result)
    return ResultFacts(kind, tuple(_estimate_window(w, w) for w in windows))


def read_embedded_estimates(result: object) -> ResultFacts | None:
    """The estimated performance a ``drift.monitor(..., estimate=True)`` result carries in its
    windows, as :func:`read_estimated` reads a separate one; ``None`` when it carries none."""
    kind, windows = _windows(result)
    facts = tuple(
        _estimate_window(w, estimated)
        for w in windows
        if (estimated := getattr(w, "estimated", None)) is not None
    )
    return ResultFacts(kind, facts) if facts else None
