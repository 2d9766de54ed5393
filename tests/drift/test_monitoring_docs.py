"""docs/monitoring.md stays true: its ``pycon`` examples run."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_the_examples_in_the_monitoring_guide_run() -> None:
    namespace: dict[str, Any] = {}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    bodies = [body for lang, body in FENCE.findall(DOC.read_text("utf-8")) if lang == "pycon"]
    for number, body in enumerate(bodies):
        test = parser.get_doctest(body, namespace, f"monitoring.md block {number}", str(DOC), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs
    assert runner.failures == 0, f"{runner.failures} example(s) in docs/monitoring.md failed"
    assert runner.tries >= 10
