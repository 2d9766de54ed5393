"""Every Python block of README.md and the guides runs as written.

Each page runs in a fresh interpreter in an empty working directory, its blocks in page order:
``pycon`` blocks as doctests, ``python`` blocks executed (see ``tests/_docs.py``). A block that is
not meant to run says so on its first line, ``# not run: <why>``, and is listed here, so that a
new one is a visible decision.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import _docs

# The blocks that do not run, by page, with the reason the page gives the reader.
NOT_RUN = {
    "docs/lifecycle.md": ["signatures", "a signature", "a signature"],
    "docs/scale.md": [
        "needs pyspark and Java 17 (pip install pyspark)",
        "needs pyspark and Java 17 (pip install pyspark)",
    ],
    "docs/storage.md": ["a test module of your package, for pytest to collect"],
}


def _page_id(page: Path) -> str:
    return page.relative_to(_docs.ROOT).as_posix()


RUNNABLE_PAGES = [page for page in _docs.PAGES if any(b.runs for b in _docs.blocks(page))]


def test_the_pages_with_python_are_found() -> None:
    names = {_page_id(page) for page in RUNNABLE_PAGES}
    assert {"README.md", "docs/index.md", "docs/quickstart.md", "docs/pipelines.md"} <= names
    assert len(names) >= 10


# Each page runs in a fresh interpreter for seconds: the quick run runs the README, the rest are
# slow.
PAGE_RUNS = [
    pytest.param(page, marks=() if _page_id(page) == "README.md" else pytest.mark.slow)
    for page in RUNNABLE_PAGES
]


@pytest.mark.parametrize("page", PAGE_RUNS, ids=_page_id)
def test_the_python_blocks_of_the_page_run(page: Path, tmp_path: Path) -> None:
    runnable = [block for block in _docs.blocks(page) if block.runs]
    env = {**os.environ, "PYTHONPATH": str(_docs.ROOT)}
    done = subprocess.run(
        [sys.executable, str(_docs.ROOT / "tests" / "_docs.py"), str(page)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = f"{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    assert done.returncode == 0, output
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["failed"] == 0, output
    assert summary["blocks"] == len(runnable)
    pycon = [block for block in runnable if block.language == "pycon"]
    assert summary["examples"] >= len(pycon), "a pycon block holds no example"


def test_blocks_that_do_not_run_are_marked_and_listed() -> None:
    found: dict[str, list[str]] = {}
    for page in _docs.PAGES:
        for block in _docs.blocks(page):
            assert block.language in _docs.KNOWN_LANGUAGES, (
                f"{block.where}: info string {block.language!r}; Python blocks are python or pycon"
            )
            reason = block.not_run_reason
            if reason is not None:
                assert block.language == "python", f"{block.where}: only python blocks opt out"
                found.setdefault(_page_id(page), []).append(reason)
    assert found == NOT_RUN


def test_a_failing_block_fails_the_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\n```pycon\n>>> x + 1\n2\n```\n\n```python\nundefined_name\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match=r"page.md:10.*NameError"):
        _docs.run_page(page)


def test_a_wrong_output_fails_the_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```pycon\n>>> 1 + 1\n3\n```\n", encoding="utf-8")
    _, results, ran = _docs.run_page(page)
    assert (results.failed, results.attempted, len(ran)) == (1, 1, 1)


def test_a_marked_block_is_skipped_and_an_included_script_runs_as_a_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\nif __name__ == '__main__':\n    open('ran', 'w').write(sys.argv[0])\n",
        encoding="utf-8",
    )
    page = tmp_path / "page.md"
    page.write_text(
        "```python\n# not run: a sketch\nundefined_name\n```\n\n"
        f'```python\n--8<-- "{script}"\n```\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    _, _, ran = _docs.run_page(page)
    assert [block.line for block in ran] == [6]
    assert (tmp_path / "ran").read_text(encoding="utf-8") == str(script)
