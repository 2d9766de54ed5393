"""HTML view of a report for notebooks, with a small inline SVG per column (no matplotlib)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelyard.drift._report import ColumnDrift, DriftReport, StatisticResult

__all__ = ["column_svg", "report_html"]

_WIDTH, _HEIGHT = 180, 48
_REFERENCE, _CURRENT = "#8da0cb", "#fc8d62"
_VERDICT_CELL = {
    "drift": '<td style="color:#c0392b"><b>drift</b></td>',
    "stable": "<td>ok</td>",
    "insufficient data": '<td style="color:#7f6000">too little data</td>',
    "undefined": "<td>-</td>",
}


def column_svg(column: ColumnDrift) -> str:
    """Reference (blue) and current (orange) shares per bin or category, side by side."""
    ref, cur = column.reference_shares, column.current_shares
    if not ref:
        return ""
    top = max(max(ref, default=0.0), max(cur, default=0.0)) or 1.0
    slot = _WIDTH / len(ref)
    bar = max(slot / 2 - 0.5, 0.5)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(column.name)}: reference and current distribution">'
    ]
    for i, (label, a, b) in enumerate(zip(column.bin_labels, ref, cur, strict=True)):
        for offset, share, colour in ((0.0, a, _REFERENCE), (bar, b, _CURRENT)):
            height = _HEIGHT * share / top
            parts.append(
                f'<rect x="{i * slot + offset:.2f}" y="{_HEIGHT - height:.2f}" '
                f'width="{bar:.2f}" height="{height:.2f}" fill="{colour}">'
                f"<title>{escape(label)}: {share:.1%}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def report_html(report: DriftReport) -> str:
    names: list[str] = []
    for column in report.columns:
        for stat in column.statistics:
            if stat.statistic not in names:
                names.append(stat.statistic)
    head = "".join(f"<th>{escape(n)}</th>" for n in ["column", "kind", "drift", *names])
    rows = []
    for column in report.columns:
        by_name: dict[str, StatisticResult] = {r.statistic: r for r in column.statistics}
        cells = [
            f"<td><b>{escape(column.name)}</b></td>",
            f"<td>{escape(column.kind)}</td>",
            _VERDICT_CELL[column.verdict],
        ]
        for name in names:
            result = by_name.get(name)
            if result is None:
                cells.append("<td></td>")
                continue
            value = "-" if result.value is None else f"{result.value:.4g}"
            if result.p_value is not None:
                value += f"<br><small>p={result.p_value:.3g}</small>"
            style = ' style="background:#fdecea"' if result.drifted else ""
            cells.append(f'<td{style} title="{escape(result.reason)}">{value}</td>')
        cells.append(
            f"<td>{column.reference_missing_rate:.1%} / {column.current_missing_rate:.1%}</td>"
        )
        cells.append(f"<td>{column_svg(column)}</td>")
        cells.append(f"<td><small>{escape(column.reason)}</small></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    title = escape(
        f"{len(report.drifted)} of {len(report.columns)} columns drifted "
        f"(preset {report.config.name}; reference {report.reference_rows} rows, "
        f"current {report.current_rows} rows)"
    )
    return (
        f"<div><p><b>Drift report</b>: {title}</p>"
        '<table style="border-collapse:collapse">'
        f"<thead><tr>{head}<th>missing ref / cur</th>"
        f'<th><span style="color:{_REFERENCE}">reference</span> vs '
        f'<span style="color:{_CURRENT}">current</span></th><th>why</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
