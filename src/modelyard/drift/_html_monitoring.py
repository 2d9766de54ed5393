"""The HTML page of a :class:`Monitoring`: the verdict over time, a window-by-column grid, a
timeline and a histogram per column, and the data-quality and performance panels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from modelyard.drift._html import (
    VERDICT_WORDS,
    Series,
    badge,
    deciding,
    esc,
    fmt,
    fmt_p,
    histogram_svg,
    is_test,
    legend,
    page,
    percent,
    rule_text,
    timeline_svg,
)

if TYPE_CHECKING:
    from modelyard.drift._estimated_result import EstimatedMetric, EstimatedWindow
    from modelyard.drift._monitoring import Monitoring, WindowColumn, WindowDrift
    from modelyard.drift._performance_record import MetricResult, WindowPerformance

__all__ = ["monitoring_page", "multivariate_panel", "performance_panel", "window_ticks"]

_CELL = {
    "drift": "#c62828",
    "stable": "#9ccc9c",
    "insufficient data": "#d9d9d9",
    "undefined": "#f0f0f0",
}
#: The grid's row names of the multivariate methods (short enough not to be cut).
_METHOD_LABEL = {"classifier": "domain classifier", "reconstruction": "PCA reconstruction"}
#: At most this many quality findings are listed; the rest are counted.
_FINDINGS = 400


def _instant(text: str, zone: str | None) -> datetime:
    # Stored starts are UTC ISO text with nanoseconds; microseconds are enough for a label.
    moment = datetime.fromisoformat(text[:26]).replace(tzinfo=timezone.utc)
    if zone:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(zone))
    return moment


def window_ticks(result: Monitoring) -> tuple[list[str], str]:
    """A short label per window (its start) and the x axis title."""
    if result.kind == "rows":
        return [f"{int(w.start):,}" for w in result.windows], "first row of the window"
    moments = [_instant(str(w.start), result.timezone) for w in result.windows]
    midnight = all(m.hour == 0 and m.minute == 0 for m in moments)
    years = {m.year for m in moments}
    shape = "%b %d" if midnight else "%b %d %H:%M"
    if len(years) > 1:
        shape = "%Y " + shape
    zone = result.timezone or "UTC"
    return [m.strftime(shape) for m in moments], f"window start ({zone})"


def _span(result: Monitoring, window: WindowDrift) -> str:
    if result.kind == "rows":
        return f"rows {window.start} to {window.end}"
    first = _instant(str(window.start), result.timezone)
    last = _instant(str(window.end), result.timezone)
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}"


def _smallest_p(column: WindowColumn) -> float:
    found = [
        r.adjusted_p_value if r.adjusted_p_value is not None else r.p_value
        for r in column.statistics
    ]
    return min((v for v in found if v is not None), default=1.0)


def _order(result: Monitoring) -> list[str]:
    """Column names, most drifted windows first, then the smallest adjusted p-value."""
    names = [c.name for c in result.windows[0].columns] if result.windows else []
    drifts = dict.fromkeys(names, 0)
    least = dict.fromkeys(names, 1.0)
    for window in result.windows:
        for column in window.columns:
            drifts[column.name] += column.drifted
            least[column.name] = min(least[column.name], _smallest_p(column))
    return sorted(names, key=lambda n: (-drifts[n], least[n]))


def _headline(result: Monitoring, order: list[str]) -> str:
    total = len(result.windows)
    drifted = [w for w in result.windows if w.verdict == "drift"]
    unjudged = sum(w.verdict in ("insufficient data", "undefined") for w in result.windows)
    columns = {c for w in drifted for c in w.drifted}
    if drifted:
        named = [n for n in order if n in columns]
        names = ", ".join(f"<b>{esc(n)}</b>" for n in named[:8])
        more = f" and {len(named) - 8} more" if len(named) > 8 else ""
        alerts = sum(len(w.drifted) for w in drifted)
        text = (
            f"<b>{len(drifted)} of {total} windows drifted</b>, with {alerts} "
            f"column alert(s) in {len(columns)} of {len(order)} columns: {names}{more}."
        )
        kind = "drift"
    elif unjudged == total:
        text = f"<b>No verdict</b>: none of the {total} windows had enough data to judge."
        kind = "few"
    else:
        text = f"<b>No drift</b> in {total - unjudged} judged windows ({len(order)} columns)."
        kind = "stable"
    if unjudged and unjudged < total:
        text += f" {unjudged} window(s) had too little data to judge."
    faulty = [w for w in result.windows if w.quality is not None and w.quality.errors]
    if faulty:
        text += f" <b>Data quality</b>: errors in {len(faulty)} window(s)."
    degraded = [w for w in result.windows if w.performance is not None and w.performance.degraded]
    if degraded:
        metrics = sorted({m for w in degraded if w.performance for m in w.performance.degraded})
        text += (
            f" <b>Performance</b> below the reference period in {len(degraded)} window(s): "
            f"{esc(', '.join(metrics))}."
        )
    moved = [w for w in result.windows if any(m.drifted for m in w.multivariate)]
    if moved:
        methods = sorted({m.method for w in moved for m in w.multivariate if m.drifted})
        text += (
            f" <b>Multivariate drift</b> (how the columns move together) in {len(moved)} "
            f"window(s), by {esc(' and '.join(methods))}."
        )
    low = [w for w in result.windows if _estimated_low(w.estimated)]
    if low:
        metrics = sorted({m for w in low for m in _estimated_low(w.estimated)})
        text += (
            f" <b>Estimated performance</b> below its alert threshold in {len(low)} "
            f"window(s): {esc(', '.join(metrics))}."
        )
    if kind == "stable" and (faulty or degraded or moved or low):
        kind = "drift"
    return f'<div class="verdict {kind}">{text}</div>'


def _estimated_low(estimated: EstimatedWindow | None) -> list[str]:
    if estimated is None:
        return []
    return [m.metric for m in estimated.metrics if m.verdict == "degraded"]


def _methods(result: Monitoring) -> list[str]:
    found: list[str] = []
    for window in result.windows:
        found.extend(m.method for m in window.multivariate if m.method not in found)
    return found


def _grid(result: Monitoring, order: list[str], ticks: list[str]) -> str:
    """Windows across, the window's verdict on top and one row per column below."""
    windows = result.windows
    n = max(len(windows), 1)
    label_w, width, row_h = 150, 1120, 15
    cell = (width - label_w - 24) / n
    quality = any(w.quality is not None for w in windows)
    performance = any(w.performance is not None for w in windows)
    methods = _methods(result)
    estimated = any(w.estimated is not None for w in windows)
    rows = 1 + len(order) + int(quality) + int(performance) + len(methods) + int(estimated)
    height = 20 + rows * row_h + 8 + 22
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="verdict per window and column">'
    ]

    def label(row: int, text: str, bold: bool = False) -> None:
        y = 20 + row * row_h + row_h - 4
        weight = ' font-weight="600"' if bold else ""
        short = text if len(text) <= 22 else text[:21] + "\u2026"
        parts.append(
            f'<text x="{label_w - 6}" y="{y}" font-size="10.5" text-anchor="end"{weight}>'
            f"{esc(short)}<title>{esc(text)}</title></text>"
        )

    def box(row: int, i: int, colour: str, tip: str) -> None:
        parts.append(
            f'<rect x="{label_w + cell * i:.2f}" y="{20 + row * row_h}" '
            f'width="{max(cell - 1, 0.6):.2f}" height="{row_h - 2}" fill="{colour}">'
            f"<title>{esc(tip)}</title></rect>"
        )

    label(0, "window", bold=True)
    for i, window in enumerate(windows):
        box(
            0,
            i,
            _CELL[window.verdict],
            f"window {window.window} ({_span(result, window)}), {window.rows:,} rows: "
            f"{VERDICT_WORDS[window.verdict]}; drifted: {', '.join(window.drifted) or 'none'}",
        )
    for row, name in enumerate(order, start=1):
        label(row, name)
        for i, window in enumerate(windows):
            column = window.column(name)
            box(row, i, _CELL[column.verdict], f"{name}, window {window.window}: {column.reason}")
    if quality:
        row = len(order) + 1
        label(row, "data quality", bold=True)
        for i, window in enumerate(windows):
            if window.quality is None:
                continue
            errors, found = len(window.quality.errors), len(window.quality.findings)
            colour = "#c62828" if errors else ("#e0a800" if found else "#eeeeee")
            box(row, i, colour, f"window {window.window}: {errors} error(s), {found} finding(s)")
    if performance:
        row = len(order) + 1 + int(quality)
        label(row, "performance", bold=True)
        for i, window in enumerate(windows):
            done = window.performance
            if done is None or not done.labelled:
                box(row, i, _CELL["insufficient data"], f"window {window.window}: no labels")
                continue
            worse = done.degraded
            colour = "#c62828" if worse else _CELL["stable"]
            said = f"below the reference period: {', '.join(worse)}" if worse else "as before"
            box(row, i, colour, f"window {window.window}, {done.labelled:,} labelled: {said}")
    row = len(order) + 1 + int(quality) + int(performance)
    for offset, method in enumerate(methods):
        label(row + offset, _METHOD_LABEL.get(method, method), bold=True)
        for i, window in enumerate(windows):
            entry = next((m for m in window.multivariate if m.method == method), None)
            if entry is not None:
                tip = f"window {window.window}, {method}: {entry.reason}"
                box(row + offset, i, _CELL[entry.verdict], tip)
    if estimated:
        row += len(methods)
        label(row, "estimated performance", bold=True)
        for i, window in enumerate(windows):
            if window.estimated is None:
                continue
            low = _estimated_low(window.estimated)
            judged = any(m.verdict in ("stable", "degraded") for m in window.estimated.metrics)
            colour = "#c62828" if low else _CELL["stable" if judged else "insufficient data"]
            said = f"below the alert threshold: {', '.join(low)}" if low else "as expected"
            box(row, i, colour, f"window {window.window}, estimated from the scores: {said}")
    every = max(1, math.ceil(n / 12))
    base = 20 + rows * row_h + 4
    for i, tick in enumerate(ticks):
        if i % every == 0:
            x = label_w + cell * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{base + 10}" font-size="10" fill="#444" '
                f'text-anchor="middle">{esc(tick)}</text>'
            )
    parts.append("</svg>")
    swatches = "".join(
        f'<span><span class="sw" style="background:{colour}"></span>{esc(VERDICT_WORDS[v])}</span>'
        for v, colour in _CELL.items()
    )
    if quality:
        swatches += (
            '<span><span class="sw" style="background:#c62828"></span>data quality: an error'
            '</span><span><span class="sw" style="background:#e0a800"></span>a warning</span>'
        )
    if performance:
        swatches += (
            '<span><span class="sw" style="background:#c62828"></span>performance: below the '
            "reference period</span>"
        )
    if estimated:
        swatches += (
            '<span><span class="sw" style="background:#c62828"></span>estimated performance: '
            "below its alert threshold</span>"
        )
    return f'{"".join(parts)}<div class="legend">{swatches}</div>'


def _shown_window(result: Monitoring, name: str) -> WindowDrift | None:
    """The window whose histogram a column's card shows: its most drifted, else the last with
    values."""
    drifted = [w for w in result.windows if w.column(name).drifted]
    if drifted:
        return min(drifted, key=lambda w: _smallest_p(w.column(name)))
    with_values = [w for w in result.windows if w.column(name).current_count > 0]
    return with_values[-1] if with_values else None


def _column_card(result: Monitoring, name: str, ticks: list[str], x_axis: str) -> str:
    columns = [w.column(name) for w in result.windows]
    # One statistic per timeline: the first that called drift in a window, else the column's
    # first statistic, so that a stable column shows the same statistic in every window.
    picked = [deciding(c.statistics) if c.drifted else None for c in columns]
    chosen = next((p.statistic for p in picked if p is not None and p.drifted), None)
    if chosen is None and columns[0].statistics:
        chosen = columns[0].statistics[0].statistic
    drifted = sum(c.drifted for c in columns)
    head = (
        f"<h3>{esc(name)} {badge('drift' if drifted else columns[-1].verdict)}</h3>"
        f'<p class="why muted">{esc(columns[0].kind)} · drifted in {drifted} of '
        f"{len(columns)} windows</p>"
    )
    timeline = ""
    if chosen is not None:
        results = [c.statistic(chosen) for c in columns]
        test = is_test(results[0])
        # A test's verdict reads its corrected p-value, so that is what is drawn.
        adjusted = test and result.config.rule == "tested"
        scores = [r.adjusted_p_value if adjusted else r.score for r in results]
        axis = f"-log10 {'adjusted ' if adjusted else ''}p ({chosen})" if test else chosen
        tips = [
            f"{ticks[i]}: {chosen} {fmt(r.value)}, score {fmt(r.score)}, adjusted p "
            f"{fmt_p(r.adjusted_p_value)}; "
            f"{VERDICT_WORDS[c.verdict]}: {c.reason}"
            for i, (r, c) in enumerate(zip(results, columns, strict=True))
        ]
        timeline = timeline_svg(
            f"{name}: {chosen} per window"
            + (" (higher is more surprising)" if test else " (score against its threshold)"),
            ticks,
            scores,
            [c.verdict for c in columns],
            results[0].threshold,
            axis=axis,
            tips=tips,
            x_axis=x_axis,
            log_p=test,
        )
    shown = _shown_window(result, name)
    chart, why = "", ""
    if shown is not None:
        column = shown.column(name)
        chart = histogram_svg(
            f"reference vs window {shown.window} ({ticks[shown.window]})",
            column.bin_labels,
            column.reference_shares,
            column.current_shares,
            axis="category" if column.kind == "categorical" else "value (reference bins)",
            current_name=f"window {shown.window}",
        )
        why = f'<p class="why">Window {shown.window}: {esc(column.reason)}</p>'
    return (
        f'<div class="card {"drift" if drifted else ""}" style="margin-bottom:12px">{head}'
        f'<div class="wide">{timeline}{chart}</div>{why}</div>'
    )


def _quality_panel(result: Monitoring, ticks: list[str]) -> str:
    checked = [w for w in result.windows if w.quality is not None]
    if not checked:
        return ""
    found = [(w, f) for w in checked if w.quality is not None for f in w.quality.findings]
    found.sort(key=lambda pair: (pair[1].severity != "error", pair[0].window, pair[1].column))
    errors = sum(f.severity == "error" for _, f in found)
    intro = (
        f'<p class="sub">{len(checked)} window(s) checked: {errors} error(s), '
        f"{len(found) - errors} warning(s).</p>"
    )
    if not found:
        return "<h2>Data quality</h2>" + intro
    rows = "".join(
        f"<tr><td>{esc(ticks[w.window])}</td><td><b>{esc(f.column)}</b></td>"
        f"<td>{esc(f.check)}</td><td>{badge(f.severity)}</td>"
        f'<td class="n">{percent(f.share)}</td><td class="n">{percent(f.reference_share)}</td>'
        f'<td class="why">{esc(f.reason)}</td></tr>'
        for w, f in found[:_FINDINGS]
    )
    more = (
        f'<p class="muted">{len(found) - _FINDINGS} more finding(s) not listed.</p>'
        if len(found) > _FINDINGS
        else ""
    )
    return (
        "<h2>Data quality</h2>"
        + intro
        + "<table><thead><tr><th>window</th><th>column</th><th>check</th><th>severity</th>"
        "<th>share</th><th>reference share</th><th>finding</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{more}"
    )


def _performance_verdict(result: MetricResult | None) -> str:
    """A metric's verdict in the timeline's words: a degraded window is an alert."""
    if result is None or result.value is None:
        return "insufficient data"
    return "drift" if result.degraded else "stable"


def _metric_names(
    performances: Sequence[WindowPerformance | None],
    estimates: Sequence[EstimatedWindow | None],
) -> list[str]:
    names: list[str] = []
    for performance in performances:
        if performance is not None:
            names.extend(m.metric for m in performance.metrics if m.metric not in names)
    for estimate in estimates:
        if estimate is not None:
            names.extend(m.metric for m in estimate.metrics if m.metric not in names)
    return names


def _estimated_series(
    name: str, ticks: Sequence[str], estimates: Sequence[EstimatedWindow | None]
) -> Series | None:
    items: list[EstimatedMetric | None] = [
        None if e is None else next((m for m in e.metrics if m.metric == name), None)
        for e in estimates
    ]
    if all(i is None for i in items):
        return None
    tips = [
        ""
        if item is None
        else f"{ticks[i]}: estimated {name} {fmt(item.value)} [{fmt(item.lower)}, "
        f"{fmt(item.upper)}], alert below {fmt(item.alert_threshold)}: {item.verdict}"
        for i, item in enumerate(items)
    ]
    return Series(
        name=f"estimated {name}",
        values=[None if i is None else i.value for i in items],
        lower=[None if i is None else i.lower for i in items],
        upper=[None if i is None else i.upper for i in items],
        alerts=[i is not None and i.verdict == "degraded" for i in items],
        tips=tips,
        limit=next(
            (
                i.alert_threshold
                for i in items
                if i is not None and not math.isnan(i.alert_threshold)
            ),
            None,
        ),
        limit_label="estimate's alert threshold",
    )


def performance_panel(
    ticks: Sequence[str],
    performances: Sequence[WindowPerformance | None],
    x_axis: str,
    estimates: Sequence[EstimatedWindow | None] | None = None,
) -> str:
    """Performance per window: one timeline per metric, the realized value with its interval
    as a band, the reference period's value as the dashed line, and degraded windows marked;
    with ``estimates``, the estimate from the scores alone and its band in a second colour
    (realized only where labels exist)."""
    estimates = estimates if estimates is not None else [None] * len(performances)
    names = _metric_names(performances, estimates)
    if not names:
        return ""
    charts = []
    for name in names:
        items = [
            None if p is None else next((m for m in p.metrics if m.metric == name), None)
            for p in performances
        ]
        values = [None if i is None else i.value for i in items]
        lower = [None if i is None else i.lower for i in items]
        upper = [None if i is None else i.upper for i in items]
        verdicts = [_performance_verdict(i) for i in items]
        second = _estimated_series(name, ticks, estimates)
        if second is not None:
            # A window without labels is judged by its estimate alone.
            verdicts = [
                ("drift" if alert else "stable")
                if v == "insufficient data" and e is not None
                else v
                for v, alert, e in zip(verdicts, second.alerts, second.values, strict=True)
            ]
        reference = next((i.reference for i in items if i is not None), None)
        if reference is None and second is not None:
            reference = next(
                (
                    m.reference
                    for e in estimates
                    if e is not None
                    for m in e.metrics
                    if m.metric == name and not math.isnan(m.reference)
                ),
                None,
            )
        tips = [
            f"{ticks[i]}: {name} {fmt(v)} [{fmt(lo)}, {fmt(hi)}]"
            + ("" if item is None or not item.reason else f"; {item.reason}")
            if item is not None and item.value is not None
            else f"{ticks[i]}: no realized {name} (no labels)"
            for i, (item, v, lo, hi) in enumerate(zip(items, values, lower, upper, strict=True))
        ]
        title = f"{name} per window, with its interval"
        if second is not None:
            title = f"{name}: realized (blue), estimated (orange), with bands"
        charts.append(
            timeline_svg(
                title + ("" if reference is None else "; dashed: reference period"),
                ticks,
                values,
                verdicts,
                reference,
                axis=name,
                tips=tips,
                x_axis=x_axis,
                band=(lower, upper),
                line_label="reference period",
                second=second,
            )
        )
    heading = "Realized and estimated performance" if any(estimates) else "Realized performance"
    return f'<h2>{heading}</h2><div class="wide">{"".join(charts)}</div>'


def multivariate_panel(result: Monitoring, ticks: Sequence[str], x_axis: str) -> str:
    """Per method of multivariate drift, a timeline of its value: the classifier's AUC
    against the AUC that matters, the reconstruction error within the reference's band."""
    charts = []
    for method in _methods(result):
        found = [
            next((m for m in w.multivariate if m.method == method), None) for w in result.windows
        ]
        values = [None if m is None else m.value for m in found]
        verdicts = ["insufficient data" if m is None else m.verdict for m in found]
        tips = [
            f"{ticks[i]}: {'no record' if m is None else m.reason}" for i, m in enumerate(found)
        ]
        if method == "classifier":
            limit = next((m.upper for m in found if m is not None and m.upper is not None), None)
            charts.append(
                timeline_svg(
                    "domain classifier: ROC AUC telling the window from the reference "
                    "(0.5: no difference)",
                    ticks,
                    values,
                    verdicts,
                    limit,
                    axis="ROC AUC",
                    tips=tips,
                    x_axis=x_axis,
                    line_label="AUC that matters",
                )
            )
        else:
            bounds = next(
                (
                    (m.lower, m.upper)
                    for m in found
                    if m is not None and m.lower is not None and m.upper is not None
                ),
                None,
            )
            charts.append(
                timeline_svg(
                    "PCA reconstruction error per window; shaded green: the reference's band",
                    ticks,
                    values,
                    verdicts,
                    None if bounds is None else bounds[1],
                    axis="mean reconstruction error",
                    tips=tips,
                    x_axis=x_axis,
                    line_label="upper bound",
                    zone=bounds,
                )
            )
    if not charts:
        return ""
    separating = _separating(result)
    return (
        "<h2>Multivariate drift</h2>"
        '<p class="sub">The window judged as a whole: a change in how the columns move '
        "together, which the columns one by one can miss."
        f"{separating}</p>"
        f'<div class="wide">{"".join(charts)}</div>'
    )


def _separating(result: Monitoring) -> str:
    """The columns that separated drifted windows from the reference most often."""
    counts: dict[str, int] = {}
    for window in result.windows:
        for m in window.multivariate:
            if m.drifted and m.features:
                counts[m.features[0][0]] = counts.get(m.features[0][0], 0) + 1
    if not counts:
        return ""
    named = sorted(counts, key=lambda n: -counts[n])[:5]
    return (
        " Separating most in drifted windows: "
        + ", ".join(f"<b>{esc(n)}</b> ({counts[n]})" for n in named)
        + "."
    )


def monitoring_page(result: Monitoring, *, full: bool = True) -> str:
    """The monitoring result as an HTML document (``full``) or a notebook fragment."""
    order = _order(result)
    ticks, x_axis = window_ticks(result)
    used: list[str] = []
    for window in result.windows[:1]:
        for column in window.columns:
            used.extend(r.statistic for r in column.statistics if r.statistic not in used)
    window_words = "rows" if result.kind == "rows" else "time"
    step = "" if result.step == result.every else f", starting every {esc(result.step)}"
    outside = f" · {result.outside_rows:,} rows in no window" if result.outside_rows else ""
    body = (
        "<h1>Drift monitoring</h1>"
        f'<p class="sub">{len(result.windows)} {window_words} windows of {esc(result.every)}'
        f"{step} · reference {result.reference_rows:,} rows · data {result.data_rows:,} rows"
        f"{outside}</p>"
        f"{_headline(result, order)}"
        f"{rule_text(result.config, 'the statistics of one window', used)}"
        f"{legend('the rows of one window, compared with the reference')}"
        "<h2>Verdict per window and column</h2>"
        f"{_grid(result, order, ticks)}"
    )
    body += _quality_panel(result, ticks)
    body += multivariate_panel(result, ticks, x_axis)
    performances = [w.performance for w in result.windows]
    estimates = [w.estimated for w in result.windows]
    if any(p is not None for p in performances) or any(e is not None for e in estimates):
        body += performance_panel(ticks, performances, x_axis, estimates)
    body += "<h2>Columns, most drifted first</h2>" + "".join(
        _column_card(result, name, ticks, x_axis) for name in order
    )
    drifted = sum(w.verdict == "drift" for w in result.windows)
    title = f"Drift monitoring: {drifted} of {len(result.windows)} windows drifted"
    return page(title, body, full=full)
