"""MkDocs hook: render doctest examples in docstrings as Python console code blocks.

Docstrings here carry runnable ``>>>`` examples that pytest checks. Outside an ``Examples:``
section Markdown would read them as prose, so a preprocessor fences each run of doctest lines
(the prompts and the output that follows them) as ``pycon``.
"""

from __future__ import annotations

from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor


class _DoctestFence(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = False
        in_example = False
        indent = ""
        for line in lines:
            stripped = line.lstrip()
            if stripped.startswith(("```", "~~~")) and not in_example:
                in_fence = not in_fence
                out.append(line)
                continue
            if in_fence:
                out.append(line)
                continue
            if stripped.startswith(">>>") and not in_example:
                indent = line[: len(line) - len(stripped)]
                out.extend(["", f"{indent}```pycon"])
                in_example = True
            elif in_example and (not stripped or not line.startswith(indent)):
                out.extend([f"{indent}```", ""])
                in_example = False
            out.append(line)
        if in_example:
            out.append(f"{indent}```")
        return out


class DoctestFenceExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_DoctestFence(md), "modelyard_doctest_fence", 40)


def on_config(config: Any) -> Any:
    # Appended in place: mkdocstrings renders docstrings with this same list of extensions.
    config.markdown_extensions.append(DoctestFenceExtension())
    return config
