"""The result of a data-quality check: one typed finding per column and check."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from modelyard._internal.reprs import brief
from modelyard.drift._schema import refuse_unreadable
from modelyard.errors import ColumnMismatchError, DriftInputError

__all__ = ["QualityFinding", "QualityReport"]

Check = Literal[
    "column_missing",
    "column_added",
    "kind_changed",
    "missing_rate",
    "unseen_categories",
    "out_of_range",
]
Severity = Literal["ok", "warning", "error"]

_COLUMNS = [
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


#: The format of a stored report (``to_bytes``); readers refuse a newer one.
SCHEMA_VERSION = 1


class QualityFinding(BaseModel):
    """One check of one column.

    ``count`` is the number of batch rows concerned (missing values, values out of range, rows
    of unseen categories) and ``share`` its fraction of the batch's rows (of its non-missing rows
    for ranges and categories); ``reference_share`` the same fraction in the reference where it
    is defined. ``p_value`` is the raw p-value of the check's test and ``adjusted_p_value`` the
    same after the report's multiple-testing correction; ``details`` holds the rest (the test
    used, counts below and above the range, the unseen labels, the kinds).
    """

    model_config = ConfigDict(frozen=True)

    column: str
    check: Check
    severity: Severity
    reason: str
    count: int | None = None
    share: float | None = None
    reference_share: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    details: dict[str, float | int | str | list[str] | None] = {}

    def __repr__(self) -> str:
        return brief(self, "column", "check", "severity", "count", "share")


class QualityReport(BaseModel):
    """Data-quality findings of a batch against a reference profile; see :func:`quality`.

    ``checks`` holds every check made, ``findings`` those whose severity is ``"warning"`` or
    ``"error"``; the report is ``ok`` when no finding is an error. Print it for a summary.

    Example:
        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> reference = drift.profile(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}))
        >>> report = reference.check(pd.DataFrame({"x": [2.0, 3.0], "y": ["a", "b"]}))
        >>> report.ok, [(f.column, f.check, f.severity) for f in report.findings]
        (True, [('y', 'column_added', 'warning')])
    """

    model_config = ConfigDict(frozen=True)

    rows: int
    reference_rows: int
    alpha: float
    tolerance: float
    correction: Literal["holm", "none"]
    checks: tuple[QualityFinding, ...]
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        return refuse_unreadable(data, SCHEMA_VERSION, "data-quality report")

    @property
    def findings(self) -> list[QualityFinding]:
        """The checks whose severity is ``"warning"`` or ``"error"``."""
        return [c for c in self.checks if c.severity != "ok"]

    @property
    def errors(self) -> list[QualityFinding]:
        """The checks whose severity is ``"error"``."""
        return [c for c in self.checks if c.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when no check is an error (warnings do not count)."""
        return not self.errors

    @property
    def problems(self) -> list[str]:
        """One line per finding: ``"error: column 'x': reason"``."""
        return [f"{f.severity}: column {f.column!r}: {f.reason}" for f in self.findings]

    def raise_for_problems(self) -> None:
        """Raise if any check is an error, with one line per error in the message.

        Raises:
            ColumnMismatchError: a reference column is missing from the batch (its ``missing``
                and ``unexpected`` attributes name the columns).
            DriftInputError: any other error (a column of another kind, a jump in the missing
                rate, values out of range, unseen categories); ``problems`` holds the lines.
        """
        errors = self.errors
        if not errors:
            return
        lines = [f"column {f.column!r}: {f.reason}" for f in errors]
        message = (
            f"the batch fails {len(errors)} data-quality check(s) against the reference "
            "profile:\n  "
            + "\n  ".join(lines)
            + "\nfix the data upstream, or profile a new reference if the change is intended"
        )
        missing = [f.column for f in errors if f.check == "column_missing"]
        if missing:
            unexpected = [f.column for f in self.checks if f.check == "column_added"]
            raise ColumnMismatchError(
                message, missing=missing, unexpected=unexpected, problems=lines
            )
        raise DriftInputError(message, problems=lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN and infinities become ``None``)."""
        return self.model_dump(mode="json")

    def to_bytes(self) -> bytes:
        """The report as JSON (see :meth:`from_bytes`)."""
        return json.dumps(self.model_dump(mode="python"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> QualityReport:
        """Rebuild a report from :meth:`to_bytes` output; the round trip is exact."""
        return cls.model_validate(json.loads(data))

    def to_pandas(self, include_ok: bool = False) -> Any:
        """One row per finding (per check with ``include_ok=True``), as a pandas DataFrame."""
        import pandas as pd

        chosen = self.checks if include_ok else self.findings
        return pd.DataFrame.from_records(
            [{name: getattr(f, name) for name in _COLUMNS} for f in chosen], columns=_COLUMNS
        )

    def summary(self) -> str:
        """A plain-text summary: the verdict, then one line per finding, errors first."""
        errors, warnings = len(self.errors), len(self.findings) - len(self.errors)
        title = (
            f"Data quality: {'ok' if self.ok else 'FAILED'}; {errors} error(s), {warnings} "
            f"warning(s) in {len(self.checks)} checks; batch {self.rows} rows, reference "
            f"{self.reference_rows} rows"
        )
        ordered = sorted(self.findings, key=lambda f: (f.severity != "error", f.column))
        return "\n".join(
            [title, *(f"{f.severity:<7}  {f.column}  {f.check}: {f.reason}" for f in ordered)]
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        problems = [f"{f.column}:{f.check}" for f in self.findings]
        return brief(self, "rows", checks=len(self.checks), findings=problems)
