"""docs/drift.md stays true: its pycon examples run, in order, as doctests."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "drift.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_pycon_examples_run() -> None:
    blocks = [body for lang, body in FENCE.findall(DOC.read_text("utf-8")) if lang == "pycon"]
    assert blocks, "docs/drift.md has no pycon examples"
    namespace: dict[str, object] = {}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for number, body in enumerate(blocks):
        test = parser.get_doctest(body, namespace, f"drift.md block {number}", str(DOC), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs  # DocTest copies its globals; carry them to the next block
    assert runner.failures == 0, f"{runner.failures} example(s) in docs/drift.md failed"
    assert runner.tries >= 10
