"""The result of monitoring: per window, per column and statistic, the value, p-value, verdict."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from modelyard._internal.reprs import brief
from modelyard.drift._config import DriftConfig
from modelyard.drift._estimated_result import EstimatedMetric, EstimatedWindow
from modelyard.drift._fitted import FittedThresholds
from modelyard.drift._multivariate_result import COLUMNS as MULTIVARIATE_COLUMNS
from modelyard.drift._multivariate_result import MultivariateWindow
from modelyard.drift._performance_record import WindowPerformance
from modelyard.drift._quality_report import QualityReport
from modelyard.drift._report import ColumnVerdict, StatisticResult, marked
from modelyard.drift._schema import refuse_unreadable
from modelyard.errors import InputError, NotFoundError

__all__ = ["Monitoring", "WindowColumn", "WindowDrift"]

#: 2: windows may carry realized performance, and alerts name quality errors and performance
#: drops beside drifted columns. 3: windows may carry multivariate drift and estimated
#: performance, and alerts name them. Results of versions 1 and 2 still load.
SCHEMA_VERSION = 3

_DRIFT_COLUMNS = [
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
_QUALITY_COLUMNS = [
    "window",
    "start",
    "end",
    "rows",
    "column",
    "check",
    "severity",
    "reason",
    "count",
    "share",
    "reference_share",
    "p_value",
    "adjusted_p_value",
]
_PERFORMANCE_COLUMNS = [
    "window",
    "start",
    "end",
    "rows",
    "labelled",
    "metric",
    "value",
    "lower",
    "upper",
    "reference",
    "p_value",
    "verdict",
    "reason",
]

_ESTIMATED_COLUMNS = [
    "window",
    "start",
    "end",
    "rows",
    "predicted",
    "metric",
    "value",
    "se",
    "lower",
    "upper",
    "reference",
    "alert_threshold",
    "verdict",
]

Table = Literal["drift", "quality", "performance", "multivariate", "estimated"]

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

    def __repr__(self) -> str:
        return brief(self, "name", "kind", "verdict", statistics=marked(self.statistics))


class WindowDrift(BaseModel):
    """One window: where it starts and ends (UTC ISO text for time windows, row positions for
    count windows; ``end`` excluded), its rows, its verdict and its columns.

    The verdict is ``"drift"`` when a column drifted, ``"stable"`` when none did and at least one
    was judged, else ``"insufficient data"`` (too few rows, an empty window) or ``"undefined"``.
    It speaks of the columns one by one; multivariate drift and estimated performance have
    verdicts of their own, and all of them raise :attr:`Monitoring.alerts`.
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
    #: The window's realized performance (:func:`performance` over the same windows), when
    #: :func:`monitor` was given predictions and labels.
    performance: WindowPerformance | None = None
    #: The window judged as a whole, one record per method (:func:`multivariate` on the same
    #: windows), when :func:`monitor` was asked ``multivariate=``.
    multivariate: tuple[MultivariateWindow, ...] = ()
    #: The window's performance estimated from the scores alone (:func:`estimate_performance`
    #: on the same windows), when :func:`monitor` was asked ``estimate=True``.
    estimated: EstimatedWindow | None = None

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

    def __repr__(self) -> str:
        return brief(self, "window", "start", "end", "rows", "verdict", "drifted")


def _estimate_reason(m: EstimatedMetric) -> str:
    return (
        f"estimated {m.metric} {m.value:.4g} (band {m.lower:.4g} to {m.upper:.4g}) is below the "
        f"alert threshold {m.alert_threshold:.4g} from the reference period's {m.reference:.4g}"
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
    #: Bands fitted from windows of the reference data (``monitor(..., fitted=True)``).
    fitted: FittedThresholds | None = None
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        return refuse_unreadable(data, SCHEMA_VERSION, "monitoring result")

    @property
    def alerts(self) -> list[tuple[int, str, str]]:
        """``(window, subject, reason)`` for everything that calls for action, in window order;
        within a window: each drifted column (``subject`` is the column's name), each quality
        error (``"quality:<column>"``), each degraded metric (``"performance:<metric>"``), each
        method of multivariate drift that fired (``"multivariate:<method>"``) and each
        estimated metric below its alert threshold (``"estimated:<metric>"``)."""
        found: list[tuple[int, str, str]] = []
        for w in self.windows:
            found += [(w.window, c.name, c.reason) for c in w.columns if c.drifted]
            if w.quality is not None:
                found += [(w.window, f"quality:{f.column}", f.reason) for f in w.quality.errors]
            if w.performance is not None:
                found += [
                    (w.window, f"performance:{m.metric}", m.reason)
                    for m in w.performance.metrics
                    if m.degraded
                ]
            found += [
                (w.window, f"multivariate:{m.method}", m.reason)
                for m in w.multivariate
                if m.drifted
            ]
            if w.estimated is not None:
                found += [
                    (w.window, f"estimated:{m.metric}", _estimate_reason(m))
                    for m in w.estimated.metrics
                    if m.verdict == "degraded"
                ]
        return found

    @property
    def outside_fitted(self) -> list[tuple[int, str, str, float]]:
        """``(window, column, statistic, value)`` for every value outside its fitted band, in
        window order (empty without fitted thresholds). Reported beside the verdicts: being
        outside the band does not make a column drifted."""
        if self.fitted is None:
            return []
        bands = {(b.column, b.statistic): b for b in self.fitted.bands}
        return [
            (w.window, c.name, s.statistic, s.value)
            for w in self.windows
            for c in w.columns
            for s in c.statistics
            if s.value is not None
            and (c.name, s.statistic) in bands
            and bands[(c.name, s.statistic)].outside(s.value)
        ]

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

    def to_pandas(self, table: Table = "drift") -> Any:
        """A tidy table: ``"drift"``, one row per window, column and statistic (with fitted
        thresholds, also ``fitted_lower``, ``fitted_upper`` and ``outside_fitted``);
        ``"quality"``, one row per window, column and data-quality check (every check, ``ok``
        ones too, so that a rate can be followed over time); ``"performance"``, one row per
        window and metric; ``"multivariate"``, one row per window and method (``features``:
        the separating columns, comma-separated); ``"estimated"``, one row per window and
        estimated metric (``predicted``: the window's rows with a score).

        Raises:
            InputError: an unknown table, or one this result has no data for (quality needs
                ``monitor(..., quality=True)``, performance ``prediction=`` and ``label=``,
                multivariate ``multivariate=``, estimated ``estimate=True``).
        """
        import pandas as pd

        if table == "drift":
            records: list[dict[str, Any]] = [
                {
                    **self._where(w),
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
            names = _DRIFT_COLUMNS
            floats: tuple[str, ...] = ("value", "p_value", "adjusted_p_value")
            if self.fitted is not None:
                bands = {(b.column, b.statistic): b for b in self.fitted.bands}
                for record in records:
                    band = bands.get((record["column"], record["statistic"]))
                    record["fitted_lower"] = None if band is None else band.lower
                    record["fitted_upper"] = None if band is None else band.upper
                    record["outside_fitted"] = band is not None and band.outside(record["value"])
                names = [*names, "fitted_lower", "fitted_upper", "outside_fitted"]
                floats = (*floats, "fitted_lower", "fitted_upper")
        elif table == "quality":
            if all(w.quality is None for w in self.windows):
                raise InputError(
                    "this result has no data-quality reports; monitor with quality=True"
                )
            records = [
                {**self._where(w), **{n: getattr(f, n) for n in _QUALITY_COLUMNS[4:]}}
                for w in self.windows
                if w.quality is not None
                for f in w.quality.checks
            ]
            names = _QUALITY_COLUMNS
            floats = ("share", "reference_share", "p_value", "adjusted_p_value")
        elif table == "performance":
            if all(w.performance is None for w in self.windows):
                raise InputError(
                    "this result has no performance; monitor with prediction= and label="
                )
            records = [
                {**self._where(w), **{n: getattr(m, n) for n in _PERFORMANCE_COLUMNS[4:]}}
                for w in self.windows
                if w.performance is not None
                for m in w.performance.metrics
            ]
            names = _PERFORMANCE_COLUMNS
            floats = ("value", "lower", "upper", "reference", "p_value")
        elif table == "multivariate":
            if all(not w.multivariate for w in self.windows):
                raise InputError(
                    "this result has no multivariate drift; monitor with multivariate=True"
                )
            records = [
                {
                    **self._where(w),
                    **m.model_dump(include=set(MULTIVARIATE_COLUMNS[4:11])),
                    "features": ", ".join(name for name, _ in m.features),
                }
                for w in self.windows
                for m in w.multivariate
            ]
            names = MULTIVARIATE_COLUMNS
            floats = ("value", "p_value", "lower", "upper")
        elif table == "estimated":
            if all(w.estimated is None for w in self.windows):
                raise InputError(
                    "this result has no estimated performance; monitor with estimate=True"
                )
            records = [
                {
                    **self._where(w),
                    "predicted": w.estimated.rows,
                    **{n: getattr(m, n) for n in _ESTIMATED_COLUMNS[5:]},
                }
                for w in self.windows
                if w.estimated is not None
                for m in w.estimated.metrics
            ]
            names = _ESTIMATED_COLUMNS
            floats = ("value", "se", "lower", "upper", "reference", "alert_threshold")
        else:
            raise InputError(
                f"table={table!r} is not one of 'drift', 'quality', 'performance', "
                "'multivariate' and 'estimated'"
            )
        frame = pd.DataFrame.from_records(records, columns=names)
        frame["start"] = self._bounds(frame["start"].tolist())
        frame["end"] = self._bounds(frame["end"].tolist())
        for name in floats:
            frame[name] = frame[name].astype(float)
        return frame

    @staticmethod
    def _where(w: WindowDrift) -> dict[str, Any]:
        return {"window": w.window, "start": w.start, "end": w.end, "rows": w.rows}

    def summary(self) -> Any:
        """One row per window: ``window``, ``start``, ``end``, ``rows``, ``drifted`` (how many
        columns), ``columns`` (their names) and ``verdict``; with quality reports, also
        ``quality_errors`` (how many checks are errors) and ``quality_columns`` (the columns
        with an error); with performance, also ``labelled`` (rows with a label), ``degraded``
        (how many metrics) and ``metrics`` (their names); with multivariate drift, also
        ``multivariate`` (the methods that fired); with estimated performance, also
        ``estimated_degraded`` (how many estimated metrics fall below their alert threshold)
        and ``estimated_metrics`` (their names); with fitted thresholds, also
        ``outside_fitted`` (how many statistics lie outside their band)."""
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
        if self.fitted is not None:
            outside = [w for w, _, _, _ in self.outside_fitted]
            table["outside_fitted"] = [outside.count(w.window) for w in self.windows]
        if any(w.quality is not None for w in self.windows):
            table["quality_errors"] = [
                0 if w.quality is None else len(w.quality.errors) for w in self.windows
            ]
            table["quality_columns"] = [
                ""
                if w.quality is None
                else ", ".join(dict.fromkeys(f.column for f in w.quality.errors))
                for w in self.windows
            ]
        if any(w.performance is not None for w in self.windows):
            table["labelled"] = [
                0 if w.performance is None else w.performance.labelled for w in self.windows
            ]
            table["degraded"] = [
                0 if w.performance is None else len(w.performance.degraded) for w in self.windows
            ]
            table["metrics"] = [
                "" if w.performance is None else ", ".join(w.performance.degraded)
                for w in self.windows
            ]
        if any(w.multivariate for w in self.windows):
            table["multivariate"] = [
                ", ".join(m.method for m in w.multivariate if m.drifted) for w in self.windows
            ]
        if any(w.estimated is not None for w in self.windows):
            low = [
                []
                if w.estimated is None
                else [m.metric for m in w.estimated.metrics if m.verdict == "degraded"]
                for w in self.windows
            ]
            table["estimated_degraded"] = [len(found) for found in low]
            table["estimated_metrics"] = [", ".join(found) for found in low]
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
