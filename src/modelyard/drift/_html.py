"""Shared pieces of the HTML reports: the page, styles, legend, and inline SVG charts.

Everything is inline (CSS and SVG, no script, font or image from elsewhere), so a saved report
opens offline and the same markup works in a notebook. Every name, label and reason passes
through :func:`esc`, because column names and categories come from the data.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from modelyard.drift._statistics import STATISTICS
from modelyard.errors import InputError

if TYPE_CHECKING:
    from modelyard.drift._config import DriftConfig
    from modelyard.drift._report import StatisticResult

__all__ = [
    "REFERENCE",
    "CURRENT",
    "badge",
    "deciding",
    "esc",
    "fmt",
    "histogram_svg",
    "is_test",
    "legend",
    "page",
    "percent",
    "rule_text",
    "Series",
    "timeline_svg",
    "write_html",
]

REFERENCE, CURRENT = "#4c78a8", "#f58518"
_DRIFT, _STABLE, _MUTED = "#c62828", "#2e7d32", "#8a8a8a"
#: The CSS class and the words of each verdict.
VERDICT_CLASS = {
    "drift": "drift",
    "stable": "stable",
    "insufficient data": "few",
    "undefined": "undef",
    "warning": "warn",
    "error": "error",
}
VERDICT_WORDS = {
    "drift": "drift",
    "stable": "stable",
    "insufficient data": "too little data",
    "undefined": "not defined",
    "warning": "warning",
    "error": "error",
}
_CORRECTION = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "no"}

# Scoped under .myd so that a report shown inside a notebook does not restyle the notebook.
_CSS = """
.myd{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:#1f2328;background:#fff;max-width:1180px;margin:0 auto;padding:18px 20px}
.myd h1{font-size:22px;margin:0 0 2px}.myd h2{font-size:17px;margin:26px 0 8px}
.myd h3{font-size:15px;margin:0 0 4px;word-break:break-all}
.myd .sub{color:#57606a;margin:0 0 12px}
.myd .verdict{font-size:18px;padding:12px 16px;border-radius:8px;border-left:6px solid;margin:8px 0}
.myd .verdict.drift{background:#fdecea;border-color:#c62828}
.myd .verdict.stable{background:#e9f5ea;border-color:#2e7d32}
.myd .verdict.few,.myd .verdict.undef{background:#f2f2f2;border-color:#8a8a8a}
.myd .rule{color:#57606a;font-size:13px;margin:6px 0}
.myd .b{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;
color:#fff;white-space:nowrap}
.myd .b.drift{background:#c62828}.myd .b.stable{background:#2e7d32}
.myd .b.few{background:#8a8a8a}.myd .b.undef{background:#d0d0d0;color:#333}
.myd .b.warn,.myd .b.warning{background:#e0a800;color:#222}.myd .b.error{background:#c62828}
.myd table{border-collapse:collapse;width:100%;font-size:13px}
.myd th{text-align:left;border-bottom:2px solid #d0d7de;padding:4px 8px;white-space:nowrap}
.myd td{border-bottom:1px solid #eaeef2;padding:4px 8px;vertical-align:top}
.myd td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.myd td.hit{background:#fdecea}
.myd .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(370px,1fr));gap:12px}
.myd .card{border:1px solid #d0d7de;border-radius:8px;padding:10px 12px;background:#fff}
.myd .card.drift{border-top:4px solid #c62828}
.myd .wide{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
.myd .why{font-size:12.5px;color:#333;margin:4px 0 0;word-break:break-word}
.myd .legend{display:flex;flex-wrap:wrap;gap:6px 22px;font-size:12.5px;color:#333;
border:1px solid #eaeef2;border-radius:8px;padding:8px 12px;margin:10px 0}
.myd .sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.myd svg{max-width:100%;height:auto}.myd svg text{font-family:inherit}
.myd .muted{color:#57606a}
"""


# A second line of defence behind escaping: the page may run no script and load nothing.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def esc(value: object) -> str:
    """``value`` as text safe inside HTML elements and attribute values."""
    return escape(str(value), quote=True)


def fmt(value: float | None) -> str:
    """A number in at most four significant digits; ``-`` when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4g}"


def fmt_p(value: float | None) -> str:
    """A p-value; one that underflowed to 0 reads ``< 1e-300``, not certainty."""
    return "< 1e-300" if value == 0 else fmt(value)


def percent(value: float | None) -> str:
    """A share as a percentage; ``-`` when there is none."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.1%}" if value == 0 or value >= 0.001 else f"{value:.2e}"


def badge(verdict: str) -> str:
    """The verdict as a coloured label."""
    return (
        f'<span class="b {VERDICT_CLASS.get(verdict, "undef")}">'
        f"{esc(VERDICT_WORDS.get(verdict, verdict))}</span>"
    )


def rule_text(config: DriftConfig, family: str, used: Sequence[str]) -> str:
    """The verdict rule in words, with the thresholds of the statistics in ``used``."""
    limits = ", ".join(
        f"{esc(s)} {fmt(config.thresholds[s])}" for s in used if s in config.thresholds
    )
    tests = ", ".join(name for name, spec in STATISTICS.items() if spec.test)
    if config.rule == "tested":
        text = (
            "A column is called <b>drifted</b> when one of its statistics is significant "
            f"(p-value adjusted by the {_CORRECTION[config.correction]} correction over "
            f"{family}, below {fmt(config.alpha)}) <i>and</i> its effect reaches the "
            f"statistic's threshold ({limits}); tests ({tests}) need significance alone. "
            f"Fewer than {config.min_rows} values, or too few expected per bin, give "
            "<i>too little data</i> instead of a verdict."
        )
    else:
        text = (
            "A column is called <b>drifted</b> when a statistic crosses its threshold "
            f"({limits}; test p-values below theirs), without a multiple-testing correction."
        )
    return f'<p class="rule">{text} Configuration: <b>{esc(config.name)}</b>.</p>'


def legend(current: str) -> str:
    """Colours and verdicts in words; ``current`` says what the current side is."""
    items = [
        f'<span><span class="sw" style="background:{REFERENCE}"></span><b>reference</b>: the '
        "data the profile was made from (what the model was trained or validated on)</span>",
        f'<span><span class="sw" style="background:{CURRENT}"></span><b>current</b>: '
        f"{esc(current)}</span>",
        f"<span>{badge('drift')} significant and large enough to matter</span>",
        f"<span>{badge('stable')} judged, and not drifted</span>",
        f"<span>{badge('insufficient data')} too few values to judge; no verdict</span>",
        f"<span>{badge('undefined')} no values on one side</span>",
    ]
    return f'<div class="legend">{"".join(items)}</div>'


def page(title: str, body: str, *, full: bool) -> str:
    """A whole HTML document, or (``full=False``) a fragment for a notebook cell."""
    content = f'<style>{_CSS}</style><div class="myd">{body}</div>'
    if not full:
        return content
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{esc(title)}</title></head><body style="margin:0">{content}</body></html>'
    )


def write_html(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` to ``path`` whole: a reader never sees a half-written file."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{str(target)!r} is a folder; give the path of the .html file to write")
    if not target.parent.is_dir():
        raise InputError(
            f"the folder {str(target.parent)!r} does not exist; create it first or write the "
            "report elsewhere"
        )
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    return target


def _step(top: float) -> float:
    """A round tick step giving three to six ticks up to ``top``."""
    raw = top / 4 if top > 0 else 0.25
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _short(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "\u2026"


def _percent(value: float, step: float) -> str:
    digits = 0 if step >= 0.01 else 1
    return f"{value * 100:.{digits}f}%"


def histogram_svg(
    title: str,
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    axis: str,
    current_name: str = "current",
) -> str:
    """Reference and current shares per bin or category, side by side, with axes and ticks."""
    if not labels:
        return '<p class="muted">No histogram: the result holds no bin shares.</p>'
    width, height = 370, 240
    left, right, top_pad, bottom = 50, 8, 26, 78
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max(max(reference, default=0.0), max(current, default=0.0))
    step = _step(top)
    ceiling = step * max(1, math.ceil(top / step - 1e-9)) if top > 0 else 1.0
    n = len(labels)
    slot = plot_w / n
    bar = max(min(slot * 0.4, 18.0), 0.8)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        f'<text x="{left}" y="15" font-size="12.5" font-weight="600">{esc(_short(title, 54))}'
        f"<title>{esc(title)}</title></text>",
    ]
    ticks = round(ceiling / step) if top > 0 else 4
    for t in range(ticks + 1):
        value = ceiling * t / ticks
        y = top_pad + plot_h - plot_h * t / ticks
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#999" if t == 0 else "#e6e6e6"}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#555">{_percent(value, step)}</text>'
        )
    every = max(1, math.ceil(n / 12))
    for i, (label, a, b) in enumerate(zip(labels, reference, current, strict=True)):
        centre = left + slot * (i + 0.5)
        for x, share, colour, side in (
            (centre - bar, a, REFERENCE, "reference"),
            (centre, b, CURRENT, current_name),
        ):
            h = plot_h * share / ceiling
            parts.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{esc(label)}: {esc(side)} '
                f"{share:.1%}</title></rect>"
            )
        if i % every == 0:
            y = top_pad + plot_h + 10
            parts.append(
                f'<text x="{centre:.1f}" y="{y:.1f}" font-size="9.5" fill="#444" '
                f'text-anchor="end" transform="rotate(-35 {centre:.1f} {y:.1f})">'
                f"{esc(_short(label, 14))}<title>{esc(label)}</title></text>"
            )
    parts.append(
        f'<text x="12" y="{top_pad + plot_h / 2:.1f}" font-size="10.5" fill="#555" '
        f'text-anchor="middle" transform="rotate(-90 12 {top_pad + plot_h / 2:.1f})">'
        "share of values</text>"
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 3}" font-size="10.5" fill="#555" '
        f'text-anchor="middle">{esc(axis)}</text></svg>'
    )
    return "".join(parts)


def deciding(statistics: Sequence[StatisticResult]) -> StatisticResult | None:
    """The statistic a column's chart follows: a drifted one, else the first with a score."""
    for result in statistics:
        if result.drifted:
            return result
    for result in statistics:
        if result.score is not None:
            return result
    return statistics[0] if statistics else None


def is_test(result: StatisticResult) -> bool:
    """True for statistics whose score is a p-value (drift below the threshold)."""
    return STATISTICS[result.statistic].test


class Series(NamedTuple):
    """A second series on a timeline: values with intervals, which windows alert, tips."""

    name: str
    values: Sequence[float | None]
    lower: Sequence[float | None]
    upper: Sequence[float | None]
    alerts: Sequence[bool]
    tips: Sequence[str]
    #: Below this the series alerts, drawn dotted in its colour.
    limit: float | None = None
    limit_label: str = "alert threshold"


def _second_series(series: Series, x_of: Any, y_of: Any, slot: float) -> list[str]:
    """The series in the second colour, its intervals beside the first series' so both show."""
    shift = min(slot * 0.18, 4.0)
    parts = []
    for i, (lo, hi) in enumerate(zip(series.lower, series.upper, strict=True)):
        if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
            continue
        x = x_of(i) + shift
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_of(lo):.1f}" y2="{y_of(hi):.1f}" '
            f'stroke="{CURRENT}" stroke-width="2" opacity="0.5"/>'
        )
    runs: list[list[str]] = [[]]
    for i, v in enumerate(series.values):
        if v is None or not math.isfinite(v):
            runs.append([])
        else:
            runs[-1].append(f"{x_of(i) + shift:.1f},{y_of(v):.1f}")
    parts.extend(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{CURRENT}" '
        'stroke-width="1.6" stroke-dasharray="4 2"/>'
        for run in runs
        if len(run) > 1
    )
    for i, (v, alert, tip) in enumerate(
        zip(series.values, series.alerts, series.tips, strict=True)
    ):
        if v is None or not math.isfinite(v):
            continue
        marker = (
            f'r="4.5" fill="{_DRIFT}" stroke="{CURRENT}" stroke-width="1.5"'
            if alert
            else f'r="2.6" fill="{CURRENT}"'
        )
        parts.append(
            f'<circle cx="{x_of(i) + shift:.1f}" cy="{y_of(v):.1f}" {marker}>'
            f"<title>{esc(tip)}</title></circle>"
        )
    return parts


def timeline_svg(
    title: str,
    ticks: Sequence[str],
    scores: Sequence[float | None],
    verdicts: Sequence[str],
    threshold: float | None,
    *,
    axis: str,
    tips: Sequence[str],
    x_axis: str = "window",
    log_p: bool = False,
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
    line_label: str = "threshold",
    zone: tuple[float, float] | None = None,
    second: Series | None = None,
) -> str:
    """One value per window, joined by a line, with the threshold dashed, drifted windows
    shaded red and marked, windows without a verdict shown as grey squares on the axis.

    With ``log_p`` the scores are p-values drawn as ``-log10 p`` (higher is more surprising).
    ``band`` (lower, upper per window) draws an interval around each value; ``line_label``
    names the dashed line. ``zone`` shades the range between two values (a reference band);
    ``second`` draws another series in another colour, with its own intervals and alerts.
    """
    width, height = 740, 210
    left, right, top_pad, bottom = 52, 14, 24, 46

    def lift(value: float | None) -> float | None:
        if value is None or math.isnan(value):
            return None
        if log_p:
            return -math.log10(max(value, 1e-300))
        return value

    plotted = [lift(s) for s in scores]
    limit = lift(threshold) if threshold is not None else None
    values = [v for v in plotted if v is not None and math.isfinite(v)]
    if band is not None:
        values += [v for v in (*band[0], *band[1]) if v is not None and math.isfinite(v)]
    if second is not None:
        values += [
            v
            for v in (*second.values, *second.lower, *second.upper)
            if v is not None and math.isfinite(v)
        ]
    if zone is not None:
        values += [v for v in zone if math.isfinite(v)]
    if second is not None and second.limit is not None and math.isfinite(second.limit):
        values.append(second.limit)
    top = max([*values, limit or 0.0, 0.0])
    bottom_value = min([*values, 0.0])
    step = _step(top - bottom_value if top > bottom_value else 1.0)
    upper = step * math.ceil(top / step * 1.05 + 1e-9) if top > 0 else step
    lower = step * math.floor(bottom_value / step) if bottom_value < 0 else 0.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    n = max(len(plotted), 1)
    slot = plot_w / n

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_of(v: float) -> float:
        v = min(max(v, lower), upper)
        return top_pad + plot_h - plot_h * (v - lower) / (upper - lower)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        f'<text x="{left}" y="15" font-size="12.5" font-weight="600">{esc(_short(title, 90))}'
        f"<title>{esc(title)}</title></text>",
    ]
    for i, verdict in enumerate(verdicts):
        if verdict in ("drift", "insufficient data", "undefined"):
            fill = "#fbe3e1" if verdict == "drift" else "#f1f1f1"
            parts.append(
                f'<rect x="{left + slot * i:.1f}" y="{top_pad}" width="{slot:.2f}" '
                f'height="{plot_h}" fill="{fill}"/>'
            )
    if zone is not None and all(math.isfinite(v) for v in zone):
        high, low = y_of(max(zone)), y_of(min(zone))
        parts.append(
            f'<rect x="{left}" y="{high:.1f}" width="{plot_w}" height="{max(low - high, 0.8):.1f}" '
            f'fill="#dcecd9" opacity="0.8"><title>reference band {fmt(min(zone))} to '
            f"{fmt(max(zone))}</title></rect>"
        )
    count = round((upper - lower) / step)
    for t in range(count + 1):
        value = lower + step * t
        y = y_of(value)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#999" if abs(value) < 1e-12 else "#e6e6e6"}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#555">{fmt(value)}</text>'
        )
    if band is not None:
        for i, (lo, hi) in enumerate(zip(band[0], band[1], strict=True)):
            if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
                continue
            parts.append(
                f'<line x1="{x_of(i):.1f}" x2="{x_of(i):.1f}" y1="{y_of(lo):.1f}" '
                f'y2="{y_of(hi):.1f}" stroke="{REFERENCE}" stroke-width="2" opacity="0.45"/>'
            )
    # The line breaks at windows without a value, so a gap is not drawn as a trend.
    runs: list[list[str]] = [[]]
    for i, v in enumerate(plotted):
        if v is None or not math.isfinite(v):
            runs.append([])
        else:
            runs[-1].append(f"{x_of(i):.1f},{y_of(v):.1f}")
    parts.extend(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{REFERENCE}" stroke-width="1.6"/>'
        for run in runs
        if len(run) > 1
    )
    if limit is not None and math.isfinite(limit):
        y = y_of(limit)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{_DRIFT}" stroke-dasharray="5 4" stroke-width="1.2"/>'
            f'<text x="{width - right - 2}" y="{y - 4:.1f}" font-size="10" fill="{_DRIFT}" '
            f'text-anchor="end">{esc(line_label)} {fmt(threshold)}</text>'
        )
    if second is not None:
        parts.extend(_second_series(second, x_of, y_of, slot))
        if second.limit is not None and math.isfinite(second.limit):
            y = y_of(second.limit)
            parts.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{CURRENT}" stroke-dasharray="2 3" stroke-width="1.4"/>'
                f'<text x="{left + 4}" y="{y + 12:.1f}" font-size="10" fill="{CURRENT}">'
                f"{esc(second.limit_label)} {fmt(second.limit)}</text>"
            )
    base = y_of(lower)
    for i, (v, verdict, tip) in enumerate(zip(plotted, verdicts, tips, strict=True)):
        x = x_of(i)
        if v is None or not math.isfinite(v) or verdict in ("insufficient data", "undefined"):
            parts.append(
                f'<rect x="{x - 3.5:.1f}" y="{base - 3.5:.1f}" width="7" height="7" '
                f'fill="#fff" stroke="{_MUTED}" stroke-width="1.4"><title>{esc(tip)}</title></rect>'
            )
            continue
        if verdict == "drift":
            marker = f'r="4.5" fill="{_DRIFT}" stroke="#fff" stroke-width="1"'
        else:
            marker = f'r="2.8" fill="{REFERENCE}"'
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y_of(v):.1f}" {marker}><title>{esc(tip)}</title></circle>'
        )
    every = max(1, math.ceil(n / 10))
    for i, label in enumerate(ticks):
        if i % every:
            continue
        x = x_of(i)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base:.1f}" y2="{base + 4:.1f}" stroke="#999"/>'
            f'<text x="{x:.1f}" y="{base + 16:.1f}" font-size="10" fill="#444" '
            f'text-anchor="middle">{esc(label)}</text>'
        )
    parts.append(
        f'<text x="12" y="{top_pad + plot_h / 2:.1f}" font-size="10.5" fill="#555" '
        f'text-anchor="middle" transform="rotate(-90 12 {top_pad + plot_h / 2:.1f})">'
        f"{esc(axis)}</text>"
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="10.5" fill="#555" '
        f'text-anchor="middle">{esc(x_axis)}</text></svg>'
    )
    return "".join(parts)
