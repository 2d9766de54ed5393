"""The result of a comparison: per column and statistic, the value, p-value, threshold, verdict."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from modelyard._internal.reprs import brief
from modelyard.drift._config import DriftConfig, Statistic
from modelyard.drift._statistics import STATISTICS
from modelyard.errors import IntegrityError, NotFoundError

__all__ = ["ColumnDrift", "DriftReport", "StatisticResult"]

Verdict = Literal["stable", "warning", "drift", "insufficient data", "undefined"]
ColumnVerdict = Literal["stable", "drift", "insufficient data", "undefined"]

#: Version 2 added p-values for every statistic, adjusted p-values, verdict reasons and the
#: column verdict; version 1 reports (threshold-only verdicts) still load.
SCHEMA_VERSION = 2


class StatisticResult(BaseModel):
    """One statistic on one column.

    ``score`` is what the threshold is compared with: the p-value for tests (``ks``, ``chi2``;
    drift when ``score < threshold``), the value for distances (drift when
    ``score >= threshold``), and the value divided by the reference standard deviation for
    ``wasserstein`` (when the configuration normalises it). ``value`` is ``None`` when the
    statistic is undefined (no values on one side).

    ``p_value`` is the statistic's own p-value under "no change" (for ``wasserstein``, the KS
    test's on the same column), ``adjusted_p_value`` the same after the report's multiple-testing
    correction, and ``reason`` says in words why the verdict is what it is.
    """

    model_config = ConfigDict(frozen=True)

    statistic: Statistic
    value: float | None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    score: float | None
    threshold: float
    verdict: Verdict
    reason: str = ""

    @property
    def drifted(self) -> bool:
        """True when the verdict is ``"drift"``."""
        return self.verdict == "drift"

    def __repr__(self) -> str:
        return brief(self, "statistic", "value", "score", "threshold", "verdict")


class ColumnDrift(BaseModel):
    """Everything the report says about one column.

    ``verdict`` is ``"drift"`` when a deciding statistic says drift, ``"insufficient data"`` when
    none of them had enough values to judge, ``"undefined"`` when the column has no values on one
    side, else ``"stable"``; ``reason`` says why.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    drifted: bool
    verdict: ColumnVerdict = "stable"
    reason: str = ""
    statistics: tuple[StatisticResult, ...]
    reference_count: int
    current_count: int
    reference_missing: int
    current_missing: int
    reference_missing_rate: float
    current_missing_rate: float
    reference_infinite: int = 0
    current_infinite: int = 0
    rank_error: float = 0.0
    warnings: tuple[str, ...] = ()
    bin_labels: tuple[str, ...] = ()
    reference_shares: tuple[float, ...] = ()
    current_shares: tuple[float, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _version_one(cls, data: Any) -> Any:
        # Reports before version 2 have no column verdict: it is what ``drifted`` said.
        if isinstance(data, dict) and "verdict" not in data and "drifted" in data:
            data = {**data, "verdict": "drift" if data["drifted"] else "stable"}
        return data

    def statistic(self, name: str) -> StatisticResult:
        """The result of one statistic (``"psi"``, ``"ks"``, ...) on this column."""
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


_VERDICT_TEXT = {"drift": "YES", "stable": "no", "insufficient data": "?", "undefined": "-"}
_MARK = {"drift": "*", "warning": "~", "insufficient data": "?"}
_TESTS = frozenset(name for name, spec in STATISTICS.items() if spec.test)


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4f}"


class DriftReport(BaseModel):
    """A drift comparison, column by column. Immutable; print it for a terminal summary.

    ``drifted`` lists the columns whose verdict is ``"drift"`` (see :class:`ColumnDrift`).

    Example:
        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> report = drift.compare(rng.normal(size=(2000, 2)),
        ...                        rng.normal([0.0, 1.0], size=(2000, 2)), stats=["psi", "ks"])
        >>> report.drifted
        ['1']
        >>> report.column("1").reason
        'psi: significant (adjusted p 3.02e-201) and 0.965 >= 0.25'
        >>> report.column("0").verdict, report.column("0").reason
        ('stable', 'psi: not significant: adjusted p 0.087 >= 0.05')
        >>> print(report.summary().splitlines()[0])
        Drift report (modelyard): 1 of 2 columns drifted; reference 2000 rows, current 2000 rows
    """

    model_config = ConfigDict(frozen=True)

    #: A report is a self-describing artifact: ``yard.artifacts.put(report)`` stores it as JSON,
    #: and ``registry.attach(ref, report, kind="drift-report")`` makes it evidence for guards.
    media_type: ClassVar[str] = "application/vnd.modelyard.drift-report+json"

    columns: tuple[ColumnDrift, ...]
    config: DriftConfig
    reference_rows: int
    current_rows: int
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        version = data.get("schema_version", 1)
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise IntegrityError(
                f"this drift report has schema version {version}, newer than this modelyard "
                f"reads ({SCHEMA_VERSION}); upgrade modelyard to read it"
            )
        if version == 1 and isinstance(data.get("config"), dict):
            # Version 1 judged every statistic by its threshold alone, without correction.
            config = {"rule": "threshold", "correction": "none", **data["config"]}
            data = {**data, "config": config, "schema_version": 1}
        return data

    @property
    def drifted(self) -> list[str]:
        """Names of the columns whose verdict is ``"drift"``."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        """The entry of one column."""
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFoundError(
            f"column {name!r} is not in the report",
            name=name,
            available=[c.name for c in self.columns],
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN and infinities become ``None``)."""
        return self.model_dump(mode="json")

    def to_bytes(self) -> bytes:
        """The report as JSON (see :meth:`from_bytes`); infinities are kept, not nulled."""
        return json.dumps(self.model_dump(mode="python"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> DriftReport:
        """Rebuild a report from :meth:`to_bytes` output; the round trip is exact.

        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> report = drift.compare(rng.normal(size=(500, 1)), rng.normal(size=(500, 1)) + 1)
        >>> drift.DriftReport.from_bytes(report.to_bytes()) == report
        True
        """
        return cls.model_validate(json.loads(data))

    def to_pandas(self) -> Any:
        """One row per column and statistic, as a pandas DataFrame."""
        import pandas as pd

        records = [
            {
                "column": column.name,
                "kind": column.kind,
                "statistic": result.statistic,
                "value": result.value,
                "p_value": result.p_value,
                "adjusted_p_value": result.adjusted_p_value,
                "score": result.score,
                "threshold": result.threshold,
                "verdict": result.verdict,
                "reason": result.reason,
                "drifted": result.drifted,
                "reference_missing": column.reference_missing,
                "current_missing": column.current_missing,
                "reference_missing_rate": column.reference_missing_rate,
                "current_missing_rate": column.current_missing_rate,
            }
            for column in self.columns
            for result in column.statistics
        ]
        return pd.DataFrame.from_records(
            records,
            columns=[
                "column",
                "kind",
                "statistic",
                "value",
                "p_value",
                "adjusted_p_value",
                "score",
                "threshold",
                "verdict",
                "reason",
                "drifted",
                "reference_missing",
                "current_missing",
                "reference_missing_rate",
                "current_missing_rate",
            ],
        )

    def summary(self) -> str:
        """A plain-text table for terminals and logs: each statistic's value, marked ``*`` when
        it says drift, ``~`` for a PSI warning and ``?`` when it had too little data; p-values
        are in :meth:`to_pandas` and the reasons.

        A distance judged on a scaled score (``wasserstein``: the value divided by the
        reference standard deviation) shows that score, under ``<name> score``, so the printed
        number is the one compared with the threshold; the legend says so."""
        names: list[str] = []
        for column in self.columns:
            for stat in column.statistics:
                if stat.statistic not in names:
                    names.append(stat.statistic)
        scored = _scored(self.columns)
        titles = [f"{name} score" if name in scored else name for name in names]
        header = ["column", "kind", "drift", *titles, "missing ref/cur", "why"]
        lines = [header]
        for column in self.columns:
            cells = [column.name, column.kind, _VERDICT_TEXT[column.verdict]]
            by_name: dict[str, StatisticResult] = {r.statistic: r for r in column.statistics}
            for name in names:
                result = by_name.get(name)
                shown = None if result is None else _judged(result, name in scored)
                cells.append("" if result is None else _fmt(shown) + _MARK.get(result.verdict, ""))
            cells.append(f"{column.reference_missing_rate:.1%}/{column.current_missing_rate:.1%}")
            cells.append(column.reason)
            lines.append(cells)
        widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
        body = "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in lines
        )
        title = (
            f"Drift report ({self.config.name}): {len(self.drifted)} of "
            f"{len(self.columns)} columns drifted; reference {self.reference_rows} rows, "
            f"current {self.current_rows} rows"
        )
        legend = "* drift  ~ warning  ? too little data"
        if scored:
            legend += (
                f"; {', '.join(sorted(scored))} score: the value divided by the reference "
                "standard deviation, which the threshold is compared with"
            )
        notes = [f"warning: {w}" for c in self.columns for w in c.warnings]
        return "\n".join([title, body, legend, *notes])

    def __str__(self) -> str:
        return self.summary()

    def to_html(self) -> str:
        """The report as one self-contained HTML page (inline CSS and SVG, no script): the
        verdict, the columns by severity with why, and a histogram per column.

        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(0)
        >>> report = drift.compare(rng.normal(size=(500, 1)), rng.normal(size=(500, 1)) + 1)
        >>> page = report.to_html()
        >>> page.startswith("<!DOCTYPE html>"), "1 of 1 columns drifted" in page
        (True, True)
        """
        from modelyard.drift._html_report import report_page

        return report_page(self)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to the local file ``path`` (whole, never half-written).

        Raises:
            InputError: ``path`` is a folder, or its folder does not exist.
        """
        from modelyard.drift._html import write_html

        return write_html(self.to_html(), path)

    def _repr_html_(self) -> str:
        from modelyard.drift._html_report import report_page

        return report_page(self, full=False)

    def __repr__(self) -> str:
        drifted, shown = self.drifted, self.drifted[:5]
        more = f" and {len(drifted) - len(shown)} more" if len(drifted) > len(shown) else ""
        return f"DriftReport({len(self.columns)} columns, {len(drifted)} drifted: {shown}{more})"


def _scored(columns: Any) -> set[str]:
    """Distances whose verdict is judged on a score other than their value (a p-value score
    belongs to a test, whose value is the statistic itself)."""
    return {
        r.statistic
        for c in columns
        for r in c.statistics
        if r.score is not None
        and r.value is not None
        and r.score != r.value
        and r.statistic not in _TESTS
    }


def _judged(result: StatisticResult, scored: bool) -> float | None:
    return result.score if scored else result.value


def judged_number(result: StatisticResult) -> float | None:
    """The number a statistic's verdict reads against its threshold, as printed: the score of a
    distance (scaled for ``wasserstein``), the value of a test (its p-value is in the reason)."""
    if result.statistic in _TESTS or result.score is None:
        return result.value
    return result.score


def marked(statistics: Any) -> str:
    """``psi=0.31*, ks=0.12``: each statistic's :func:`judged_number`, ``*`` when it says drift."""
    parts = []
    for result in statistics:
        number = judged_number(result)
        shown = "-" if number is None else f"{number:.3g}"
        parts.append(f"{result.statistic}={shown}{'*' if result.verdict == 'drift' else ''}")
    return ", ".join(parts)
