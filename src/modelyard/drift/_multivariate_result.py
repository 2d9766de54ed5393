"""The result of multivariate drift: per window and method, the value, thresholds and verdict."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from modelyard._internal.reprs import brief
from modelyard.drift._schema import refuse_unreadable
from modelyard.errors import NotFoundError

__all__ = ["MultivariateDrift", "MultivariateWindow"]

SCHEMA_VERSION = 1

#: The columns of the tidy table, one row per window and method.
COLUMNS = [
    "window",
    "start",
    "end",
    "rows",
    "method",
    "value",
    "p_value",
    "lower",
    "upper",
    "verdict",
    "reason",
    "features",
]

Method = Literal["classifier", "reconstruction"]
MultivariateVerdict = Literal["drift", "stable", "insufficient data"]


class MultivariateWindow(BaseModel):
    """One window judged by one method.

    For ``"classifier"``: ``value`` is the cross-validated ROC AUC, ``p_value`` its one-sided
    p-value, ``upper`` the AUC the effect must reach, and ``features`` the columns with their
    share of the forests' importance, most separating first. For ``"reconstruction"``: ``value``
    is the mean reconstruction error, ``lower`` and ``upper`` the band from the reference's
    windows, and there is no p-value. ``start`` and ``end`` are UTC ISO text for time windows,
    row positions for count windows (``end`` excluded).
    """

    model_config = ConfigDict(frozen=True)

    window: int
    start: str | int
    end: str | int
    rows: int
    method: Method
    value: float | None
    p_value: float | None = None
    lower: float | None = None
    upper: float | None = None
    verdict: MultivariateVerdict
    reason: str
    features: tuple[tuple[str, float], ...] = ()

    @property
    def drifted(self) -> bool:
        """True when the verdict is ``"drift"``."""
        return self.verdict == "drift"

    def __repr__(self) -> str:
        return brief(self, "window", "start", "rows", "method", "value", "p_value", "verdict")


class MultivariateDrift(BaseModel):
    """Multivariate drift of every window against one reference: see :func:`multivariate`.

    Immutable; ``to_bytes``/``from_bytes`` give a JSON artifact.
    """

    model_config = ConfigDict(frozen=True)

    media_type: ClassVar[str] = "application/vnd.modelyard.drift-multivariate+json"

    kind: Literal["time", "rows"]
    every: str
    step: str
    timezone: str | None
    columns: tuple[str, ...]
    methods: tuple[Method, ...]
    reference_rows: int
    data_rows: int
    #: The significance level and the AUC the classifier's verdict asks for.
    alpha: float
    auc_threshold: float
    #: Principal components kept by the reconstruction, and the rows of its reference windows.
    components: int | None = None
    reference_window_rows: int | None = None
    windows: tuple[MultivariateWindow, ...]
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        return refuse_unreadable(data, SCHEMA_VERSION, "multivariate drift result")

    @property
    def alerts(self) -> list[tuple[int, str, str]]:
        """``(window, method, reason)`` for every window a method calls drifted."""
        return [(w.window, w.method, w.reason) for w in self.windows if w.drifted]

    def method(self, name: str) -> tuple[MultivariateWindow, ...]:
        """The windows as one method judged them, in window order."""
        if name not in self.methods:
            raise NotFoundError(
                f"method {name!r} was not run", name=name, available=list(self.methods)
            )
        return tuple(w for w in self.windows if w.method == name)

    def to_pandas(self) -> Any:
        """One row per window and method: ``window``, ``start``, ``end``, ``rows``, ``method``,
        ``value``, ``p_value``, ``lower``, ``upper``, ``verdict``, ``reason``, ``features``
        (the separating columns, comma-separated)."""
        import pandas as pd

        records = [
            {
                **w.model_dump(exclude={"features"}),
                "features": ", ".join(name for name, _ in w.features),
            }
            for w in self.windows
        ]
        table = pd.DataFrame.from_records(records, columns=COLUMNS)
        if self.kind == "time":
            for side in ("start", "end"):
                stamps = pd.DatetimeIndex(pd.to_datetime(table[side].astype(str).tolist()))
                if self.timezone:
                    stamps = stamps.tz_localize("UTC").tz_convert(self.timezone)
                table[side] = stamps
        for name in ("value", "p_value", "lower", "upper"):
            table[name] = table[name].astype(float)
        return table

    def to_bytes(self) -> bytes:
        """The result as JSON (see :meth:`from_bytes`)."""
        return json.dumps(self.model_dump(mode="python"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> MultivariateDrift:
        """Rebuild a result from :meth:`to_bytes` output; the round trip is exact."""
        return cls.model_validate(json.loads(data))

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        drifted = len({w.window for w in self.windows if w.drifted})
        count = len({w.window for w in self.windows})
        return (
            f"MultivariateDrift({count} {self.kind} windows of {self.every}, "
            f"methods={list(self.methods)}, {drifted} with drift)"
        )
