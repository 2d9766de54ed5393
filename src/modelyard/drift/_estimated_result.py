"""The result of estimating performance without labels: per window and metric, the estimate,
its band, the reference's realized value, the alert threshold and a verdict."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from modelyard.drift._schema import refuse_unreadable
from modelyard.errors import NotFoundError

__all__ = ["EstimatedMetric", "EstimatedPerformance", "EstimatedWindow"]

#: The format of a stored result (``to_bytes``); readers refuse a newer one.
SCHEMA_VERSION = 1

EstimateVerdict = Literal["stable", "degraded", "undefined", "insufficient data"]

_COLUMNS = [
    "window",
    "start",
    "end",
    "rows",
    "metric",
    "value",
    "se",
    "lower",
    "upper",
    "reference",
    "alert_threshold",
    "verdict",
]


class EstimatedMetric(BaseModel):
    """One metric in one window.

    ``value`` is the estimate and ``se`` the standard error of the realized metric around it at
    the window's size; ``lower`` and ``upper`` bound where the realized metric should fall.
    ``reference`` is the reference period's realized value, ``alert_threshold`` the value below
    which the estimate is called ``"degraded"``. NaN where there is no value.
    """

    model_config = ConfigDict(frozen=True)

    metric: str
    value: float
    se: float
    lower: float
    upper: float
    reference: float
    alert_threshold: float
    verdict: EstimateVerdict


class EstimatedWindow(BaseModel):
    """One window: where it starts and ends (UTC ISO text for time windows, row positions for
    count windows; ``end`` excluded), its rows with a prediction, and its metrics."""

    model_config = ConfigDict(frozen=True)

    window: int
    start: str | int
    end: str | int
    rows: int
    metrics: tuple[EstimatedMetric, ...]

    def metric(self, name: str) -> EstimatedMetric:
        """The entry of one metric."""
        for entry in self.metrics:
            if entry.metric == name:
                return entry
        raise NotFoundError(
            f"metric {name!r} was not estimated",
            name=name,
            available=[m.metric for m in self.metrics],
        )


class EstimatedPerformance(BaseModel):
    """Estimated performance of every window: see :func:`estimate_performance`.

    Immutable; ``to_bytes``/``from_bytes`` give a JSON artifact whose round trip is exact.
    ``kind``, ``every``, ``step`` and ``timezone`` describe the windows (as in :class:`Windows`);
    ``calibrated`` says whether the scores were recalibrated on the reference;
    ``reference_chunk_rows`` and ``reference_chunks`` describe the reference chunks the alert
    thresholds come from.
    """

    model_config = ConfigDict(frozen=True)

    media_type: ClassVar[str] = "application/vnd.modelyard.drift-estimated-performance+json"

    kind: Literal["time", "rows"]
    every: str
    step: str
    timezone: str | None
    metrics: tuple[str, ...]
    threshold: float
    confidence: float
    alert_sd: float
    calibrated: bool
    reference_rows: int
    reference_chunk_rows: int
    reference_chunks: int
    data_rows: int
    windows: tuple[EstimatedWindow, ...]
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        return refuse_unreadable(data, SCHEMA_VERSION, "estimated performance result")

    @property
    def degraded(self) -> list[tuple[int, str]]:
        """``(window, metric)`` pairs whose verdict is ``"degraded"``, in window order."""
        return [
            (w.window, m.metric) for w in self.windows for m in w.metrics if m.verdict == "degraded"
        ]

    def window(self, index: int) -> EstimatedWindow:
        """One window, by its number."""
        if not -len(self.windows) <= index < len(self.windows):
            raise NotFoundError(
                f"window {index} does not exist; there are {len(self.windows)} windows",
                name=str(index),
                available=list(range(len(self.windows))),
            )
        return self.windows[index]

    def to_pandas(self) -> Any:
        """One row per window and metric: ``window``, ``start``, ``end``, ``rows``, ``metric``,
        ``value``, ``se``, ``lower``, ``upper``, ``reference``, ``alert_threshold``,
        ``verdict``."""
        import pandas as pd

        table = pd.DataFrame.from_records(
            [
                {"window": w.window, "start": w.start, "end": w.end, "rows": w.rows}
                | {name: getattr(m, name) for name in _COLUMNS[4:]}
                for w in self.windows
                for m in w.metrics
            ],
            columns=_COLUMNS,
        )
        if self.kind == "time":
            for name in ("start", "end"):
                stamps = pd.DatetimeIndex(pd.to_datetime(table[name].astype(str)))
                if self.timezone:
                    stamps = stamps.tz_localize("UTC").tz_convert(self.timezone)
                table[name] = stamps
        for name in _COLUMNS[5:11]:
            table[name] = table[name].astype(float)
        return table

    def to_bytes(self) -> bytes:
        """The result as JSON (see :meth:`from_bytes`)."""
        return json.dumps(self.model_dump(mode="python"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> EstimatedPerformance:
        """Rebuild a result from :meth:`to_bytes` output; the round trip is exact."""
        return cls.model_validate(json.loads(data))

    def __repr__(self) -> str:
        return (
            f"EstimatedPerformance({len(self.windows)} windows, metrics={list(self.metrics)}, "
            f"{len(self.degraded)} degraded)"
        )
