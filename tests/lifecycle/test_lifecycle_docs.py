"""docs/lifecycle.md stays true: its diagrams are what to_mermaid draws.

That its examples run is checked with every other page's (``tests/test_docs.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.lifecycle import Lifecycle
from tests import _docs

DOC = _docs.ROOT / "docs" / "lifecycle.md"


def test_the_diagrams_are_what_to_mermaid_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace, results, _ = _docs.run_page(DOC)
    assert results.failed == 0
    diagrams = [block.body for block in _docs.blocks(DOC) if block.language == "mermaid"]
    assert diagrams[0].rstrip("\n") == Lifecycle.default().to_mermaid()
    assert diagrams[1].rstrip("\n") == namespace["lifecycle"].to_mermaid()
