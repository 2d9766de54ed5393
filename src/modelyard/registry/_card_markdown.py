"""A model card as Markdown.

Stored text is escaped so it reads as the text it is: Markdown renderers pass raw HTML through,
so ``<``, ``>`` and ``&`` become entities, and the characters that would start emphasis, code,
links, headings or a table cell are backslash-escaped. A value never spans lines (a newline
would end a table row), so line breaks inside a value become ``<br>``.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from modelyard.registry._card_sections import Section, sections

if TYPE_CHECKING:
    from modelyard.registry._card import ModelCard

__all__ = ["md", "render_markdown"]

_SPECIAL = re.compile(r"([\\`*_\[\]|#!~{}])")
_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def md(text: str) -> str:
    """``text`` escaped for Markdown, on one line.

    >>> md("<script>alert(1)</script> | *x*")
    '&lt;script&gt;alert(1)&lt;/script&gt; \\\\| \\\\*x\\\\*'
    """
    escaped = _SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _BREAKS.sub("<br>", escaped)


def _section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    for paragraph in section.paragraphs:
        lines += [md(paragraph), ""]
    for key, value in section.pairs:
        lines.append(f"- **{md(key)}:** {md(value)}")
    if section.pairs:
        lines.append("")
    if section.rows:
        lines.append("| " + " | ".join(md(h) for h in section.header) + " |")
        lines.append("|" + "---|" * len(section.header))
        lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in section.rows]
        lines.append("")
    elif not section.paragraphs and not section.pairs and section.empty:
        lines += [f"_{md(section.empty)}_", ""]
    return lines


def render_markdown(card: ModelCard) -> str:
    """The whole card, ending with one newline."""
    lines = [f"# Model card: {md(card.ref)}", ""]
    for section in sections(card):
        lines += _section(section)
    return "\n".join(lines).rstrip("\n") + "\n"
