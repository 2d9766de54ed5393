"""The HTML page of one :class:`DriftReport`: the verdict, the columns by severity, histograms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard.drift._html import (
    badge,
    esc,
    fmt,
    fmt_p,
    histogram_svg,
    legend,
    page,
    rule_text,
)
from modelyard.drift._statistics import STATISTICS

if TYPE_CHECKING:
    from modelyard.drift._report import ColumnDrift, DriftReport, StatisticResult

__all__ = ["report_page", "severity_order"]

# Columns that could not be judged come right after the drifted ones: the dataset verdict does
# not cover them, which a reader must see before the long tail of stable columns.
_RANK = {"drift": 0, "insufficient data": 1, "undefined": 2, "stable": 3}


def _smallest_p(column: ColumnDrift) -> float:
    values = [
        r.adjusted_p_value if r.adjusted_p_value is not None else r.p_value
        for r in column.statistics
    ]
    found = [v for v in values if v is not None]
    return min(found, default=1.0)


def _effect(column: ColumnDrift) -> float:
    """The largest score over threshold among the distances (how far past the line)."""
    ratios = [
        r.score / r.threshold
        for r in column.statistics
        if r.score is not None and r.threshold > 0 and not STATISTICS[r.statistic].test
    ]
    return max(ratios, default=0.0)


def severity_order(columns: tuple[ColumnDrift, ...]) -> list[ColumnDrift]:
    """Drifted first, then the unjudged, then stable; within each, smallest adjusted p-value
    first, then largest effect."""
    return sorted(columns, key=lambda c: (_RANK[c.verdict], _smallest_p(c), -_effect(c)))


def _headline(report: DriftReport) -> str:
    total = len(report.columns)
    drifted = report.drifted
    unjudged = [c.name for c in report.columns if c.verdict in ("insufficient data", "undefined")]
    if drifted:
        names = ", ".join(f"<b>{esc(n)}</b>" for n in drifted[:8])
        more = f" and {len(drifted) - 8} more" if len(drifted) > 8 else ""
        text = f"<b>{len(drifted)} of {total} columns drifted</b>: {names}{more}."
        kind = "drift"
    elif unjudged and len(unjudged) == total:
        text = f"<b>No verdict</b>: none of the {total} columns had enough data to judge."
        kind = "few"
    else:
        text = f"<b>No drift</b>: none of the {total - len(unjudged)} judged columns drifted."
        kind = "stable"
    if unjudged and len(unjudged) < total:
        text += f" {len(unjudged)} column(s) could not be judged (too little data)."
    return f'<div class="verdict {kind}">{text}</div>'


def _statistic_names(report: DriftReport) -> list[str]:
    names: list[str] = []
    for column in report.columns:
        for result in column.statistics:
            if result.statistic not in names:
                names.append(result.statistic)
    return names


def _table(columns: list[ColumnDrift], names: list[str]) -> str:
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    rows = []
    for column in columns:
        by_name: dict[str, StatisticResult] = {r.statistic: r for r in column.statistics}
        cells = [
            f"<td><b>{esc(column.name)}</b></td>",
            f"<td>{esc(column.kind)}</td>",
            f"<td>{badge(column.verdict)}</td>",
        ]
        for name in names:
            result = by_name.get(name)
            if result is None:
                cells.append("<td></td>")
                continue
            text = fmt(result.value)
            p = result.adjusted_p_value if result.adjusted_p_value is not None else result.p_value
            if p is not None:
                text += f'<br><small class="muted">p {fmt_p(p)}</small>'
            hit = ' class="n hit"' if result.drifted else ' class="n"'
            cells.append(f'<td{hit} title="{esc(result.reason)}">{text}</td>')
        cells.append(
            f'<td class="n">{column.reference_missing_rate:.1%} / '
            f"{column.current_missing_rate:.1%}</td>"
        )
        cells.append(f'<td class="why">{esc(column.reason)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<table><thead><tr><th>column</th><th>kind</th><th>verdict</th>"
        f"{head}<th>missing ref / cur</th><th>why</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<p class="muted" style="font-size:12px">Each statistic shows its value and, below, '
        "its p-value after the correction; shaded cells are the statistics that call drift.</p>"
    )


def _card(column: ColumnDrift) -> str:
    axis = "category" if column.kind == "categorical" else "value (reference bins)"
    chart = histogram_svg(
        "reference vs current",
        column.bin_labels,
        column.reference_shares,
        column.current_shares,
        axis=axis,
    )
    notes = "".join(f'<p class="why muted">{esc(w)}</p>' for w in column.warnings)
    counts = f"{column.reference_count:,} reference values, {column.current_count:,} current values"
    return (
        f'<div class="card {"drift" if column.drifted else ""}">'
        f"<h3>{esc(column.name)} {badge(column.verdict)}</h3>"
        f'<p class="why muted">{esc(column.kind)} · {counts}</p>{chart}'
        f'<p class="why">{esc(column.reason)}</p>{notes}</div>'
    )


def report_page(report: DriftReport, *, full: bool = True) -> str:
    """The report as an HTML document (``full``) or a notebook fragment."""
    columns = severity_order(report.columns)
    names = _statistic_names(report)
    body = (
        "<h1>Drift report</h1>"
        f'<p class="sub">Reference {report.reference_rows:,} rows · current '
        f"{report.current_rows:,} rows · {len(report.columns)} columns</p>"
        f"{_headline(report)}"
        f"{rule_text(report.config, 'every statistic of every column of the report', names)}"
        f"{legend('the batch compared with the reference')}"
        "<h2>Columns, most severe first</h2>"
        f"{_table(columns, names)}"
        "<h2>Distributions</h2>"
        f'<div class="cards">{"".join(_card(c) for c in columns)}</div>'
    )
    title = f"Drift report: {len(report.drifted)} of {len(report.columns)} columns drifted"
    return page(title, body, full=full)
