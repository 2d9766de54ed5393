"""docs/lifecycle.md stays true: its examples run and its diagrams are what to_mermaid draws."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

from modelyard.lifecycle import Lifecycle

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC.read_text("utf-8")) if lang == language]


def run_pycon_blocks() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for number, body in enumerate(blocks("pycon")):
        test = parser.get_doctest(body, namespace, f"lifecycle.md block {number}", str(DOC), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs  # DocTest copies its globals; carry them to the next block
    assert runner.failures == 0, f"{runner.failures} example(s) in docs/lifecycle.md failed"
    assert runner.tries > 20
    return namespace


def test_worked_example_runs_and_its_diagram_matches() -> None:
    namespace = run_pycon_blocks()
    diagrams = blocks("mermaid")
    assert diagrams[0].rstrip("\n") == Lifecycle.default().to_mermaid()
    assert diagrams[1].rstrip("\n") == namespace["lifecycle"].to_mermaid()


def test_python_blocks_run() -> None:
    for body in blocks("python"):
        if "import" not in body:  # signatures, not code
            continue
        exec(compile(body, str(DOC), "exec"), {})
