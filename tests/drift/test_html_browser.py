"""The HTML reports as a browser shows them: headless Chromium loads each page offline, and
its DOM and screenshot are checked."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from . import _html_data as data

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)

if CHROMIUM is None and os.environ.get("MODELYARD_REQUIRE_CHROMIUM"):
    # CI installs the browser; there a missing one is a broken install step, not a skip.
    raise RuntimeError("MODELYARD_REQUIRE_CHROMIUM is set but Chromium is not installed")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Chromium (Debian package 'chromium'); .ci/run installs it"
    ),
]


def _run(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanlines of an 8-bit RGB(A) PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def _check(page: Path, tmp_path: Path, words: list[str]) -> None:
    dom = _run(page, "--dump-dom")
    for word in words:
        assert word in dom.stdout, word
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    shot = tmp_path / f"{page.stem}.png"
    _run(page, f"--screenshot={shot}", "--window-size=1280,1600")
    width, height, raw = _pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    # A blank page compresses to almost nothing and has a handful of byte values; a report
    # has text, colours and charts.
    assert len(shot.read_bytes()) > 40_000
    assert len(set(raw)) > 100


def test_chromium_shows_a_drift_report(tmp_path: Path) -> None:
    report = data.report()
    page = report.save_html(tmp_path / "report.html")
    headline = f"{len(report.drifted)} of {len(report.columns)} columns drifted"
    _check(page, tmp_path, [headline, "age", "city", "&lt;script&gt;alert(1)&lt;/script&gt;"])


def test_chromium_shows_a_monitoring_result(tmp_path: Path) -> None:
    result = data.monitoring()
    page = result.save_html(tmp_path / "monitoring.html")
    drifted = sum(w.verdict == "drift" for w in result.windows)
    _check(
        page,
        tmp_path,
        [f"{drifted} of 30 windows drifted", "Data quality", "age", "income", "May 28"],
    )


def test_chromium_shows_multivariate_drift_and_estimates(tmp_path: Path) -> None:
    result = data.with_models()
    page = result.save_html(tmp_path / "models.html")
    _check(
        page,
        tmp_path,
        [
            "Multivariate drift",
            "domain classifier",
            "PCA reconstruction",
            "Realized and estimated performance",
            "estimated performance",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ],
    )
