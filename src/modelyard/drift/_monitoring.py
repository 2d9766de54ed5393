"""The result of monitoring: per window, per column and statistic, the value, p-value, verdict."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from modelyard.drift._config import DriftConfig
from modelyard.drift._quality_report import QualityReport
from modelyard.drift._report import ColumnVerdict, StatisticResult
from modelyard.drift._schema import refuse_unreadable
from modelyard.errors import NotFoundError

__all__ = ["Monitoring", "WindowColumn", "WindowDrift"]

SCHEMA_VERSION = 1

WindowVerdict = Literal["stable", "drift", "insufficient data", "undefined"]


class WindowColumn(BaseModel):
    """One column in one window: its verdict, why, and each statistic (as in a
    :class:`DriftReport`). ``current_count`` counts the window's finite, non-missing values."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    verdict: ColumnVerdict
    reason: str
    current_count: int
    current_missing: int
    statistics: tuple[StatisticResult, ...]
    #: The window's histogram against the reference's, as in :class:`ColumnDrift` (empty in
    #: results stored before they were kept).
    bin_labels: tuple[str, ...] = ()
    reference_shares: tuple[float, ...] = ()
    current_shares: tuple[float, ...] = ()

    @property
    def drifted(self) -> bool:
        """True when the verdict is ``"drift"``."""
        return self.verdict == "drift"

    def statistic(self, name: str) -> StatisticResult:
        """The result of one statistic."""
        for result in self.statistics:
            if result.statistic == name:
                return result
        raise NotFoundError(
            f"statistic {name!r} was not computed for column {self.name!r}",
            name=name,
            available=[r.statistic for r in self.statistics],
        )


class WindowDrift(BaseModel):
    """One window: where it starts and ends (UTC ISO text for time windows, row positions for
    count windows; ``end`` excluded), its rows, its verdict and its columns.

    The verdict is ``"drift"`` when a column drifted, ``"stable"`` when none did and at least one
    was judged, else ``"insufficient data"`` (too few rows, an empty window) or ``"undefined"``.
    """

    model_config = ConfigDict(frozen=True)

    window: int
    start: str | int
    end: str | int
    rows: int
    verdict: WindowVerdict
    columns: tuple[WindowColumn, ...]
    #: The window's data-quality report (:func:`quality` on its rows), when asked for.
    quality: QualityReport | None = None

    @property
    def drifted(self) -> list[str]:
        """Names of the columns whose verdict is ``"drift"``."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> WindowColumn:
        """The entry of one column."""
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFoundError(
            f"column {name!r} is not monitored",
            name=name,
            available=[c.name for c in self.columns],
        )


class Monitoring(BaseModel):
    """Drift of every window of the data against one reference: see :func:`monitor`.

    Each window is judged as :func:`compare` judges a batch (the multiple-testing correction
    runs over one window's statistics), so a window's verdicts are those of ``compare`` on its
    rows. Immutable; ``to_bytes``/``from_bytes`` give a JSON artifact.
    """

    model_config = ConfigDict(frozen=True)

    media_type: ClassVar[str] = "application/vnd.modelyard.drift-monitoring+json"

    kind: Literal["time", "rows"]
    every: str
    step: str
    timezone: str | None
    config: DriftConfig
    reference_rows: int
    data_rows: int
    #: Rows in no window (rows without a time).
    outside_rows: int
    windows: tuple[WindowDrift, ...]
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        return refuse_unreadable(data, SCHEMA_VERSION, "monitoring result")

    @property
    def alerts(self) -> list[tuple[int, str, str]]:
        """``(window, column, reason)`` for every column called drifted, in window order."""
        return [(w.window, c.name, c.reason) for w in self.windows for c in w.columns if c.drifted]

    def window(self, index: int) -> WindowDrift:
        """One window, by its number."""
        if not -len(self.windows) <= index < len(self.windows):
            raise NotFoundError(
                f"window {index} does not exist; there are {len(self.windows)} windows",
                name=str(index),
                available=list(range(len(self.windows))),
            )
        return self.windows[index]

    def _bounds(self, values: list[str | int]) -> Any:
        import pandas as pd

        if self.kind == "rows":
            return values
        stamps = pd.DatetimeIndex(pd.to_datetime([str(v) for v in values]))
        if self.timezone:
            return stamps.tz_localize("UTC").tz_convert(self.timezone)
        return stamps

    def to_pandas(self) -> Any:
        """One row per window, column and statistic (a tidy table)."""
        import pandas as pd

        records: list[dict[str, Any]] = [
            {
                "window": w.window,
                "start": w.start,
                "end": w.end,
                "rows": w.rows,
                "column": c.name,
                "statistic": s.statistic,
                "value": s.value,
                "p_value": s.p_value,
                "adjusted_p_value": s.adjusted_p_value,
                "threshold": s.threshold,
                "verdict": s.verdict,
                "reason": s.reason,
            }
            for w in self.windows
            for c in w.columns
            for s in c.statistics
        ]
        names = [
            "window",
            "start",
            "end",
            "rows",
            "column",
            "statistic",
            "value",
            "p_value",
            "adjusted_p_value",
            "threshold",
            "verdict",
            "reason",
        ]
        table = pd.DataFrame.from_records(records, columns=names)
        table["start"] = self._bounds(table["start"].tolist())
        table["end"] = self._bounds(table["end"].tolist())
        for name in ("value", "p_value", "adjusted_p_value"):
            table[name] = table[name].astype(float)
        return table

    def summary(self) -> Any:
        """One row per window: ``window``, ``start``, ``end``, ``rows``, ``drifted`` (how many
        columns), ``columns`` (their names) and ``verdict``; with quality reports, also
        ``quality_errors`` (how many checks are errors)."""
        import pandas as pd

        table = pd.DataFrame(
            {
                "window": [w.window for w in self.windows],
                "start": self._bounds([w.start for w in self.windows]),
                "end": self._bounds([w.end for w in self.windows]),
                "rows": [w.rows for w in self.windows],
                "drifted": [len(w.drifted) for w in self.windows],
                "columns": [", ".join(w.drifted) for w in self.windows],
                "verdict": [w.verdict for w in self.windows],
            }
        )
        if any(w.quality is not None for w in self.windows):
            table["quality_errors"] = [
                0 if w.quality is None else len(w.quality.errors) for w in self.windows
            ]
        return table

    def to_bytes(self) -> bytes:
        """The result as JSON (see :meth:`from_bytes`)."""
        return json.dumps(self.model_dump(mode="python"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Monitoring:
        """Rebuild a result from :meth:`to_bytes` output; the round trip is exact."""
        return cls.model_validate(json.loads(data))

    def to_html(self) -> str:
        """The result as one self-contained HTML page (inline CSS and SVG, no script): the
        verdict over time, a grid of verdicts per window and column, per column a timeline of
        its deciding statistic against the threshold and a histogram of the reference against
        its most drifted window, and the data-quality findings when checked.

        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> data = np.r_[rng.normal(size=(600, 1)), rng.normal(1.0, size=(200, 1))]
        >>> page = drift.monitor(rng.normal(size=(2000, 1)), data, rows=200).to_html()
        >>> "1 of 4 windows drifted" in page
        True
        """
        from modelyard.drift._html_monitoring import monitoring_page

        return monitoring_page(self)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to the local file ``path`` (whole, never half-written).

        Raises:
            InputError: ``path`` is a folder, or its folder does not exist.
        """
        from modelyard.drift._html import write_html

        return write_html(self.to_html(), path)

    def _repr_html_(self) -> str:
        from modelyard.drift._html_monitoring import monitoring_page

        return monitoring_page(self, full=False)

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        alerts = len(self.alerts)
        drifted = sum(w.verdict == "drift" for w in self.windows)
        return (
            f"Monitoring({len(self.windows)} {self.kind} windows of {self.every}, "
            f"{drifted} with drift, {alerts} alerts)"
        )
