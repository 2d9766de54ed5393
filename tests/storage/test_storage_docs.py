"""docs/storage.md shows the example store's code itself, and it is the code that is tested."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_store_on_the_page_is_the_tested_one() -> None:
    page = (ROOT / "docs" / "storage.md").read_text(encoding="utf-8")
    section = page.split("## Writing your own store", 1)[1]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    assert blocks, "no Python code under 'Writing your own store'"
    tested = (ROOT / "tests" / "storage" / "sqlite_store.py").read_text(encoding="utf-8")
    assert blocks[0] == tested, "docs/storage.md shows other code than sqlite_store.py"
    assert "--8<--" not in page, "an include is invisible to a reader of the page on GitHub"
