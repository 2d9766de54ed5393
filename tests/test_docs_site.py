"""The documentation site builds strictly, and its API reference renders.

These tests need the ``docs`` extra (MkDocs and mkdocstrings). Without it they are skipped,
except where ``MODELYARD_REQUIRE_DOCS=1`` says the extra is installed (CI sets it after installing
the extra), so an install that did not happen cannot pass as skipped tests.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
    if os.environ.get("MODELYARD_REQUIRE_DOCS") == "1":
        raise RuntimeError("MODELYARD_REQUIRE_DOCS=1 but the docs extra is not installed")
    pytest.skip("the docs extra is not installed: pip install '.[docs]'", allow_module_level=True)

# A role that reached the page unconverted: the role, then a backtick or the code it became.
RAW_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|exc|data|obj|const|type):(?:`|<code>)")
# Code examples on the pages; outside them, a mappingproxy can only come from a signature.
CODE_BLOCK = re.compile(r'<div class="highlight"><pre>.*?</pre></div>', re.DOTALL)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr[-8000:]}"
    return {
        path.relative_to(out).as_posix(): path.read_text(encoding="utf-8")
        for path in out.rglob("*.html")
    }


def test_every_reference_page_renders_its_module(site: dict[str, str]) -> None:
    for module in ("modelyard", "storage", "artifacts", "registry", "lifecycle", "drift"):
        page = site[f"reference/{module}/index.html"]
        assert 'class="doc doc-heading"' in page, f"reference/{module} rendered no object"
    assert "ArtifactStore" in site["reference/artifacts/index.html"]


def test_no_raw_roles_or_fences_anywhere(site: dict[str, str]) -> None:
    roles = {name: RAW_ROLE.findall(html) for name, html in site.items()}
    assert {name: found for name, found in roles.items() if found} == {}
    fences = [name for name, html in site.items() if "```" in html]
    assert fences == []


def test_no_mappingproxy_in_signatures(site: dict[str, str]) -> None:
    reference = {name: html for name, html in site.items() if name.startswith("reference/")}
    assert len(reference) >= 6
    pages = [name for name, html in reference.items() if "mappingproxy" in CODE_BLOCK.sub("", html)]
    assert pages == []


def test_the_guides_are_in_the_site(site: dict[str, str]) -> None:
    for guide in ("quickstart", "pipelines", "storage", "registry", "monitoring"):
        assert f"{guide}/index.html" in site


def _render(text: str) -> str:
    import markdown

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))
    extensions = ["pymdownx.superfences", hooks.DoctestFenceExtension()]
    return markdown.markdown(text, extensions=extensions)


def test_roles_become_code_as_the_role_shows_the_name() -> None:
    html = _render(
        "Use :class:`Registry`, :meth:`~modelyard.registry.Registry.load`, and what\n"
        ":meth:`ArtifactStore.gc\n<modelyard.artifacts.ArtifactStore.gc>` keeps."
    )
    assert "<code>Registry</code>" in html
    assert "<code>load</code>" in html
    assert "<code>ArtifactStore.gc</code>" in html
    assert ":class:" not in html and ":meth:" not in html


def test_a_doctest_in_a_literal_block_renders_as_code() -> None:
    html = _render("Profile it::\n\n    >>> 1 + 1\n    2\n\nThen more.")
    assert "```" not in html
    assert "Profile it:</p>" in html
    assert '<span class="gp">&gt;&gt;&gt; </span>' in html
