"""A model card as one self-contained HTML page.

The page loads nothing (styles are inline, there are no scripts, images or fonts), so it can be
mailed, archived or attached to a ticket and reads the same anywhere. Every stored value goes
through :func:`html.escape`; as a second line of defence the page declares a content security
policy that allows inline styles and nothing else, so even markup that slipped through could not
run a script or fetch anything.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from modelyard.registry._card_sections import Section, sections

if TYPE_CHECKING:
    from modelyard.registry._card import ModelCard

__all__ = ["render_html"]

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 0; padding: 0 16px; background: #f6f8fa; }
main { max-width: 1080px; margin: 24px auto; background: #fff; border: 1px solid #d0d7de;
       border-radius: 8px; padding: 8px 32px 24px; }
h1 { font-size: 26px; border-bottom: 1px solid #d0d7de; padding-bottom: 8px; }
h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #eaeef2; padding-bottom: 4px; }
table { border-collapse: collapse; min-width: 50%; max-width: 100%; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
code { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       word-break: break-all; }
th { background: #f6f8fa; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dt { font-weight: 600; color: #57606a; }
dd { margin: 0; overflow-wrap: break-word; }
p { white-space: pre-wrap; overflow-wrap: break-word; }
.word { white-space: nowrap; }
.empty { color: #57606a; font-style: italic; }
.stage { display: inline-block; padding: 0 8px; border-radius: 10px; background: #ddf4ff;
         color: #0969da; font-weight: 600; }
footer { color: #57606a; font-size: 13px; margin-top: 24px; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cell(text: str) -> str:
    # Digests are read character by character when compared, so they are set in monospace; a
    # short single word (a time, a kind, an actor) is not broken at its hyphens.
    escaped = _e(text)
    if text.startswith("sha256:"):
        return f"<code>{escaped}</code>"
    if len(text) <= 40 and not any(c.isspace() for c in text):
        return f'<span class="word">{escaped}</span>'
    return escaped


def _section(section: Section) -> list[str]:
    out = [f"<section><h2>{_e(section.title)}</h2>"]
    out += [f"<p>{_e(paragraph)}</p>" for paragraph in section.paragraphs]
    if section.pairs:
        out.append("<dl>")
        out += [f"<dt>{_e(k)}</dt><dd>{_cell(v)}</dd>" for k, v in section.pairs]
        out.append("</dl>")
    if section.rows:
        out.append("<table><thead><tr>")
        out += [f"<th>{_e(h)}</th>" for h in section.header]
        out.append("</tr></thead><tbody>")
        for row in section.rows:
            cells = "".join(f"<td>{_cell(cell)}</td>" for cell in row)
            out.append(f"<tr>{cells}</tr>")
        out.append("</tbody></table>")
    elif not section.paragraphs and not section.pairs and section.empty:
        out.append(f'<p class="empty">{_e(section.empty)}</p>')
    out.append("</section>")
    return out


def render_html(card: ModelCard) -> str:
    """The whole page."""
    title = f"Model card: {card.ref}"
    body = [f'<h1>{_e(title)} <span class="stage">{_e(card.version.state)}</span></h1>']
    for section in sections(card):
        body += _section(section)
    body.append(
        f"<footer>Rendered from the registry log up to event #{card.head} "
        f"({_e(card.head_digest or 'unchained')}).</footer>"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head><body><main>",
            *body,
            "</main></body></html>",
            "",
        ]
    )
