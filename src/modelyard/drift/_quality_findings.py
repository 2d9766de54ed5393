"""One finding per column and check: the severity rule and the reason a reader sees."""

from __future__ import annotations

from typing import Literal

from modelyard.drift._profile import DriftProfile
from modelyard.drift._quality_read import BatchCounts
from modelyard.drift._quality_report import QualityFinding

__all__ = ["missing_finding", "range_finding", "schema_checks", "unseen_finding"]

# Unseen labels listed in a finding; the count of distinct unseen labels is always given.
_LISTED_LABELS = 20


def _pct(share: float) -> str:
    return f"{share:.1%}"


def _p(value: float) -> str:
    return f"{value:.3g}"


def _p_is(value: float) -> str:
    # A p-value of 0 is one below the smallest double, not certainty.
    return f"p={value:.3g}" if value > 0 else "p < 1e-300"


def schema_checks(
    reference: DriftProfile, counts: BatchCounts, columns: tuple[str, ...], all_columns: bool
) -> list[QualityFinding]:
    kinds = reference.column_kinds
    present = set(counts.names)
    checks = [
        QualityFinding(
            column=name,
            check="column_missing",
            severity="error",
            reason=f"in the reference ({kinds[name]}) but not in the batch",
            details={"reference_kind": kinds[name]},
        )
        for name in columns
        if name not in present
    ]
    if all_columns:
        checks += [
            QualityFinding(
                column=name,
                check="column_added",
                severity="warning",
                reason="in the batch but not in the reference",
            )
            for name in counts.names
            if name not in kinds
        ]
    checks += [
        QualityFinding(
            column=name,
            check="kind_changed",
            severity="error",
            reason=f"{kinds[name]} in the reference, but the batch has {found}, which cannot "
            f"be read as {kinds[name]}",
            details={"reference_kind": kinds[name], "batch_type": found},
        )
        for name, found in counts.unreadable.items()
    ]
    return checks


def _significance(adjusted: float, alpha: float) -> str:
    return f"adjusted {_p_is(adjusted)} {'<' if adjusted < alpha else '>='} {alpha:g}"


def missing_finding(
    name: str,
    reference_missing: int,
    reference_rows: int,
    batch_missing: int,
    rows: int,
    p_value: float,
    adjusted: float,
    test: str,
    alpha: float,
    tolerance: float,
) -> QualityFinding:
    reference_rate = reference_missing / reference_rows if reference_rows else 0.0
    details: dict[str, float | int | str | list[str] | None] = {
        "test": test,
        "reference_missing": reference_missing,
        "reference_rows": reference_rows,
    }
    if rows == 0:
        return QualityFinding(
            column=name,
            check="missing_rate",
            severity="ok",
            reason="the batch has no rows",
            count=0,
            reference_share=reference_rate,
            details=details,
        )
    rate = batch_missing / rows
    change = rate - reference_rate
    significant = adjusted < alpha
    if significant and change >= tolerance:
        severity: Literal["ok", "warning", "error"] = "error"
        verb = "rose"
    elif significant and -change >= tolerance:
        severity, verb = "warning", "fell"
    else:
        severity, verb = "ok", "is"
    if severity == "ok":
        reason = f"{_pct(rate)} missing against {_pct(reference_rate)} in the reference"
        if significant:
            reason += f" (a significant change smaller than the tolerance {tolerance:g})"
    else:
        reason = f"{verb} from {_pct(reference_rate)} to {_pct(rate)}"
    return QualityFinding(
        column=name,
        check="missing_rate",
        severity=severity,
        reason=f"{reason} ({_significance(adjusted, alpha)})",
        count=batch_missing,
        share=rate,
        reference_share=reference_rate,
        p_value=p_value,
        adjusted_p_value=adjusted,
        details=details,
    )


def range_finding(
    name: str,
    kind: str,
    minimum: float,
    maximum: float,
    below: int,
    above: int,
    present: int,
    p_value: float,
    adjusted: float,
    alpha: float,
    tolerance: float,
) -> QualityFinding:
    outside = below + above
    share = outside / present if present else 0.0
    severity: Literal["ok", "error"] = (
        "error" if adjusted < alpha and share >= tolerance and outside else "ok"
    )
    # Datetimes are held as nanoseconds, which would print as meaningless large numbers.
    bounds = f" [{minimum:.4g}, {maximum:.4g}]" if kind == "numeric" else ""
    reason = (
        f"{outside} of {present} values ({_pct(share)}) outside the reference range"
        f"{bounds}: {below} below, {above} above ({_significance(adjusted, alpha)})"
    )
    return QualityFinding(
        column=name,
        check="out_of_range",
        severity=severity,
        reason=reason,
        count=outside,
        share=share,
        p_value=p_value,
        adjusted_p_value=adjusted,
        details={"below": below, "above": above, "minimum": minimum, "maximum": maximum},
    )


def unseen_finding(
    name: str, reference: DriftProfile, found: tuple[dict[str, int], int], tolerance: float
) -> QualityFinding:
    known = set(reference.categories[reference._categorical_index[name]])
    labels, _ = found
    unseen = sorted(
        ((label, count) for label, count in labels.items() if label not in known),
        key=lambda item: (-item[1], item[0]),
    )
    values = sum(labels.values())
    rows = sum(count for _, count in unseen)
    share = rows / values if values else 0.0
    listed = [label for label, _ in unseen[:_LISTED_LABELS]]
    if not unseen:
        severity: Literal["ok", "warning", "error"] = "ok"
        reason = f"every category of the batch's {values} values is in the reference"
    else:
        severity = "error" if share >= tolerance else "warning"
        more = f" and {len(unseen) - len(listed)} more" if len(unseen) > len(listed) else ""
        noun = "category" if len(unseen) == 1 else "categories"
        reason = (
            f"{len(unseen)} {noun} never seen in the reference in {rows} of {values} values "
            f"({_pct(share)}): {listed}{more}"
        )
    return QualityFinding(
        column=name,
        check="unseen_categories",
        severity=severity,
        reason=reason,
        count=rows,
        share=share,
        reference_share=0.0,
        details={"categories": listed, "distinct": len(unseen)},
    )
