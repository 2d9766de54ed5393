"""The HTML reports: what they say first, their order, charts, escaping, and files."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import numpy as np
import pytest

import modelyard.drift as drift
from modelyard.drift._html import fmt
from modelyard.drift._html_monitoring import performance_panel
from modelyard.errors import InputError

from . import _html_data as data


@pytest.fixture(scope="module")
def report() -> drift.DriftReport:
    return data.report()


@pytest.fixture(scope="module")
def monitoring() -> drift.Monitoring:
    return data.monitoring()


def _assert_self_contained_and_escaped(page: str) -> None:
    assert data.HOSTILE not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert data.CATEGORY not in page
    assert "&amp;&quot;&#x27;&lt;&gt;" in page
    # Nothing is fetched: the only URL is the SVG namespace, which is never loaded.
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {"http://www.w3.org/2000/svg"}
    assert " src=" not in page and "url(" not in page and "@import" not in page


def test_a_report_page_says_the_verdict_and_rule_first(report: drift.DriftReport) -> None:
    page = report.to_html()
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'" in page
    assert report.drifted
    headline = f"{len(report.drifted)} of {len(report.columns)} columns drifted"
    assert page.index(headline) < page.index("<table")
    assert "Holm correction" in page and "below 0.05" in page
    assert page.index("Holm correction") < page.index("<table")
    for word in ("reference", "current", "too little data", "not defined"):
        assert word in page[: page.index("<table")]
    _assert_self_contained_and_escaped(page)


def test_a_report_page_lists_columns_by_severity(report: drift.DriftReport) -> None:
    page = report.to_html()
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    shown = [
        n.replace("&lt;", "<").replace("&gt;", ">")
        for n in re.findall(r"<tr><td><b>(.*?)</b>", table)
    ]
    verdicts = [report.column(n).verdict for n in shown]
    assert sorted(shown) == sorted(c.name for c in report.columns)
    rank = {"drift": 0, "insufficient data": 1, "undefined": 2, "stable": 3}
    assert [rank[v] for v in verdicts] == sorted(rank[v] for v in verdicts)
    assert verdicts[0] == "drift" and "insufficient data" in verdicts
    drifted = [report.column(n) for n in shown if report.column(n).drifted]
    smallest = [min(r.adjusted_p_value or 1.0 for r in c.statistics) for c in drifted]
    assert smallest == sorted(smallest)


def test_a_report_draws_a_histogram_with_axes_per_column(report: drift.DriftReport) -> None:
    page = report.to_html()
    charts = re.findall(r"<svg.*?</svg>", page)
    assert len(charts) == len(report.columns)
    city = report.column("city")
    chart = next(c for c in charts if "category</text>" in c)
    assert chart.count("<rect") == 2 * len(city.bin_labels)
    assert "share of values" in chart and ">0%</text>" in chart
    age = report.column("age")
    assert f"{age.bin_labels[0]}: reference {age.reference_shares[0]:.1%}" in page


def test_the_notebook_view_is_the_page_without_its_document(report: drift.DriftReport) -> None:
    fragment = report._repr_html_()
    assert "<html" not in fragment and "<style>" in fragment
    assert fragment in report.to_html()


def test_a_monitoring_page_shows_windows_columns_and_quality(
    monitoring: drift.Monitoring,
) -> None:
    page = monitoring.to_html()
    drifted = sum(w.verdict == "drift" for w in monitoring.windows)
    assert drifted >= 4
    assert f"{drifted} of {len(monitoring.windows)} windows drifted" in page
    assert "1 window(s) had too little data" in page
    _assert_self_contained_and_escaped(page)
    names = [c.name for c in monitoring.windows[0].columns]
    # A grid, then per column a timeline and a histogram.
    assert len(re.findall(r'aria-label="[^"]*per window \(', page)) == len(names)
    assert len(re.findall(r'aria-label="reference vs window', page)) == len(names)
    # The empty day is drawn as a square on the axis, not as a point of the line.
    assert 'fill="#fff" stroke="#8a8a8a"' in page
    assert "threshold 0.25" in page
    assert "May 01" in page and "window start (UTC)" in page
    # The data-quality panel lists each finding with its window.
    assert "<h2>Data quality</h2>" in page
    score_gap = [w for w in monitoring.windows if w.quality and w.quality.errors]
    assert score_gap
    for window in score_gap:
        for finding in window.quality.errors if window.quality else []:
            assert finding.reason.replace("'", "&#x27;").replace("<", "&lt;")[:30] in page


def test_a_monitoring_histogram_shows_the_most_drifted_window(
    monitoring: drift.Monitoring,
) -> None:
    page = monitoring.to_html()
    drifted = [w for w in monitoring.windows if w.column("age").drifted]
    worst = min(
        drifted,
        key=lambda w: min(r.adjusted_p_value or 1.0 for r in w.column("age").statistics),
    )
    card = page[page.index("<h3>age ") :]
    card = card[: card.index("</div></div>")]
    assert f"reference vs window {worst.window} (" in card
    shares = worst.column("age").current_shares
    assert f"window {worst.window} {shares[-1]:.1%}" in card
    stable = page[page.index("<h3>income ") :]
    last = max(w.window for w in monitoring.windows if w.column("income").current_count)
    assert f"reference vs window {last} (" in stable[: stable.index("</div></div>")]


def test_a_monitoring_page_without_quality_has_no_quality_panel() -> None:
    page = data.monitoring(per=100, quality=False).to_html()
    assert "Data quality" not in page
    assert "Realized performance" not in page


def test_performance_renders_when_windows_carry_it() -> None:
    result = data.with_performance()
    degraded = [w.window for w in result.windows if w.performance and w.performance.degraded]
    assert degraded and min(degraded) >= 20
    page = result.to_html()
    assert "<h2>Realized performance</h2>" in page
    assert "accuracy per window, with its interval" in page
    assert "roc_auc per window, with its interval" in page
    assert f"<b>Performance</b> below the reference period in {len(degraded)} window(s)" in page
    day = result.window(25).performance
    assert day is not None
    shown = day.metric("accuracy")
    assert f"accuracy {fmt(shown.value)} [{fmt(shown.lower)}, {fmt(shown.upper)}]" in page
    # The grid has a performance row: degraded windows say which metrics, unlabelled ones say so.
    assert f"window {degraded[0]}, 400 labelled: below the reference period: accuracy" in page
    assert "window 3: no labels" in page
    # The day without labels is a gap, not an alert.
    assert result.window(3).performance is None or not result.window(3).performance.degraded
    assert performance_panel(["a", "b"], [None, None], "window") == ""


def test_save_html_writes_the_page_whole(report: drift.DriftReport, tmp_path: Path) -> None:
    target = report.save_html(tmp_path / "drift.html")
    assert target.read_text(encoding="utf-8") == report.to_html()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.html"]
    with pytest.raises(InputError, match="is a folder"):
        report.save_html(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        report.save_html(tmp_path / "absent" / "drift.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.html"]


def test_count_windows_are_labelled_by_rows() -> None:
    rng = np.random.default_rng(2)
    values = np.r_[rng.normal(size=(400, 1)), rng.normal(2.0, size=(200, 1))]
    result = drift.monitor(rng.normal(size=(2000, 1)), values, rows=200)
    page = result.to_html()
    assert "first row of the window" in page and ">400</text>" in page
    assert "1 of 3 windows drifted" in page


def test_a_timeline_draws_above_its_threshold_exactly_the_drifted_windows() -> None:
    # Many columns, so that raw KS p-values cross alpha by chance where the corrected ones,
    # which decide, do not; one column shifts in some windows.
    rng = np.random.default_rng(4)
    columns = 12
    values = rng.normal(size=(60 * 150, columns))
    values[20 * 150 : 26 * 150, 0] += rng.choice([0.0, 0.4], size=6 * 150)
    result = drift.monitor(rng.normal(size=(5000, columns)), values, rows=150, stats=["ks"])
    page = result.to_html()
    for name in ("0", "5"):
        card = page[page.index(f"<h3>{name} ") :]
        svg = card[card.index("<svg") : card.index("</svg>")]
        assert "-log10 adjusted p (ks)" in svg
        line = float(re.search(r'y1="([\d.]+)"[^>]*stroke-dasharray', svg).group(1))  # type: ignore[union-attr]
        heights = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
        above = [i for i, y in enumerate(heights) if y < line]
        drifted = [w.window for w in result.windows if w.column(name).drifted]
        assert above == drifted
    assert [w.window for w in result.windows if w.column("0").drifted]


@pytest.mark.slow
def test_multivariate_drift_and_estimates_render_beside_the_columns() -> None:
    result = data.with_models()
    moved = [w.window for w in result.windows if any(m.drifted for m in w.multivariate)]
    low = [
        w.window
        for w in result.windows
        if w.estimated and any(m.verdict == "degraded" for m in w.estimated.metrics)
    ]
    assert set(range(8, 12)) <= set(moved) and low and min(low) >= 14
    page = result.to_html()
    _assert_self_contained_escaped_columns(page)
    assert f"<b>Multivariate drift</b> (how the columns move together) in {len(moved)}" in page
    assert f"<b>Estimated performance</b> below its alert threshold in {len(low)}" in page
    # The grid has a row per method and one for the estimate; each cell says why.
    assert ">domain classifier<title>" in page and ">PCA reconstruction<title>" in page
    flipped = result.window(9).multivariate[0]
    assert f"window 9, classifier: {escape(flipped.reason)}" in page
    assert "estimated from the scores: below the alert threshold: accuracy" in page
    # The panel: the classifier's AUC against the AUC that matters, the error in its band.
    assert "<h2>Multivariate drift</h2>" in page
    assert "AUC that matters 0.55" in page and "reference band" in page
    # Performance: realized and estimated on one timeline, the estimate where labels are not.
    assert "<h2>Realized and estimated performance</h2>" in page
    estimate = result.window(16).estimated
    assert estimate is not None
    shown = estimate.metric("accuracy")
    assert f"estimated accuracy {fmt(shown.value)} [{fmt(shown.lower)}, {fmt(shown.upper)}]" in page
    assert "no realized accuracy (no labels)" in page
    assert f"estimate&#x27;s alert threshold {fmt(shown.alert_threshold)}" in page


def _assert_self_contained_escaped_columns(page: str) -> None:
    assert data.HOSTILE not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {"http://www.w3.org/2000/svg"}
