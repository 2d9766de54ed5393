"""Read the code blocks of the Markdown pages and run them the way a reader would.

A page's ``pycon`` blocks run as doctests and its ``python`` blocks are executed, all in page
order in one namespace, so that a block may use what an earlier block on the same page made. A
``python`` block whose first line is ``# not run: <why>`` tells the reader that it is not meant to
run as it stands, and is skipped; every other block runs.

Run as a script (``python tests/_docs.py PAGE``), it runs one page in the working directory, in a
fresh interpreter, so that what a page registers or configures (codecs, warning filters) stays in
that page; its last line of output is a JSON summary.
"""

from __future__ import annotations

import doctest
import json
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGUAGES = ("python", "pycon")
# Every info string the pages may use ("" is a plain block); Python under another name would
# escape the run.
KNOWN_LANGUAGES = (*RUN_LANGUAGES, "bash", "text", "json", "toml", "yaml", "mermaid", "")
NOT_RUN = re.compile(r"^# not run: (?P<why>\S.*)$")
# A snippet include, which pymdownx.snippets renders as the file it names: the reader sees that
# file, so that file is what runs, as a script.
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"\n$')
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    body: str

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{Path(page).as_posix()}:{self.line}"

    @property
    def not_run_reason(self) -> str | None:
        match = NOT_RUN.match(self.body.split("\n", 1)[0])
        return match["why"] if match else None

    @property
    def runs(self) -> bool:
        return self.language in RUN_LANGUAGES and self.not_run_reason is None

    @property
    def snippet(self) -> Path | None:
        match = SNIPPET.match(self.body)
        return ROOT / match["path"] if match else None


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, in order (fences are not indented on these pages)."""
    found: list[Block] = []
    opened: tuple[int, str] | None = None
    body: list[str] = []
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if opened is None:
            if line.startswith("```"):
                opened = (number, line[3:].strip())
                body = []
        elif line.rstrip("\n") == "```":
            found.append(Block(page, opened[0], opened[1], "".join(body)))
            opened = None
        else:
            body.append(line)
    assert opened is None, f"{page.name}: the fence opened on line {opened[0]} is never closed"
    return found


def run_page(page: Path) -> tuple[dict[str, Any], doctest.TestResults, list[Block]]:
    """Run the page's blocks in order; return the namespace, the doctest results, the run blocks.

    A python block that raises stops the run with an error naming the block.
    """
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=OPTIONS, verbose=False)
    ran: list[Block] = []
    for block in blocks(page):
        if not block.runs:
            continue
        ran.append(block)
        if block.language == "pycon":
            test = parser.get_doctest(block.body, namespace, block.where, str(page), block.line)
            runner.run(test, clear_globs=False)
            namespace = test.globs  # DocTest copies its globals; carry them to the next block
            continue
        try:
            if block.snippet is not None:
                argv, sys.argv = sys.argv, [str(block.snippet)]
                try:
                    runpy.run_path(str(block.snippet), run_name="__main__")
                finally:
                    sys.argv = argv
            else:
                exec(compile(block.body, block.where, "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"the python block at {block.where} failed: {exc!r}") from exc
    return namespace, runner.summarize(verbose=False), ran


if __name__ == "__main__":
    page = Path(sys.argv[1]).resolve()
    _, results, ran = run_page(page)
    summary = {"failed": results.failed, "examples": results.attempted, "blocks": len(ran)}
    print(json.dumps(summary))
