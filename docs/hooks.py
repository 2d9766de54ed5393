"""MkDocs hook: render the reStructuredText habits of the docstrings as Markdown.

Docstrings here carry runnable ``>>>`` examples that pytest checks. Outside an ``Examples:``
section Markdown would read them as prose, so a preprocessor fences each run of doctest lines
(the prompts and the output that follows them) as ``pycon``; a run introduced by ``::`` is an
indented literal block, which would show the fence itself, so it is dedented first and the
``::`` becomes ``:``.

Cross-reference roles (``:class:`Registry```, ``:meth:`~modelyard.registry.Registry.load```)
are written for Python readers and IDEs; in the site they become inline code of the name as the
role shows it (the last part after ``~``, the title of ``title <target>``).
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|mod|exc|data|obj|const|type):"
    r"`(?P<tilde>[~!]?)(?P<text>[^`<]+?)(?:\s*<(?P<target>[^>`]+)>)?`"
)


def _role_as_code(match: re.Match[str]) -> str:
    text = " ".join(match["text"].split())
    if match["tilde"] == "~" and match["target"] is None:
        text = text.rsplit(".", 1)[-1]
    return f"`{text}`"


class _Roles(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        # On the whole text: a role's name may wrap onto the next line.
        return ROLE.sub(_role_as_code, "\n".join(lines)).split("\n")


class _DoctestFence(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = False
        in_example = False
        indent = ""
        dedent = 0
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
                dedent = _literal_block(out, indent)
                out.extend(["", f"{indent[dedent:]}```pycon"])
                in_example = True
            elif in_example and (not stripped or not line.startswith(indent)):
                out.extend([f"{indent[dedent:]}```", ""])
                in_example = False
            out.append(line[dedent:] if in_example else line)
        if in_example:
            out.append(f"{indent[dedent:]}```")
        return out


def _literal_block(out: list[str], indent: str) -> int:
    """When the example is an rST literal block (``::``), end the paragraph with ``:`` instead and
    return how far to dedent the example to the paragraph's indent; else 0."""
    previous = next((i for i in range(len(out) - 1, -1, -1) if out[i].strip()), None)
    if previous is None or not out[previous].rstrip().endswith("::"):
        return 0
    paragraph = out[previous]
    out[previous] = paragraph.rstrip()[:-1]
    outer = len(paragraph) - len(paragraph.lstrip())
    return max(0, len(indent) - outer)


class DoctestFenceExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_DoctestFence(md), "modelyard_doctest_fence", 40)
        md.preprocessors.register(_Roles(md), "modelyard_roles", 41)  # higher runs first


def on_config(config: Any) -> Any:
    # Appended in place: mkdocstrings renders docstrings with this same list of extensions.
    config.markdown_extensions.append(DoctestFenceExtension())
    return config
