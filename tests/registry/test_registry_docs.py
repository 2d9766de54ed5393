"""docs/registry.md stays true: its interactive examples run."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "registry.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_pycon_blocks_run() -> None:
    blocks = [body for lang, body in FENCE.findall(DOC.read_text("utf-8")) if lang == "pycon"]
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict[str, object] = {}
    for number, body in enumerate(blocks):
        test = parser.get_doctest(body, namespace, f"registry.md block {number}", str(DOC), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs
    assert runner.failures == 0, f"{runner.failures} example(s) in docs/registry.md failed"
    assert runner.tries > 10
