"""Which characters user text may hold, and how stored text is shown on one line.

Three kinds of user text reach the store and, later, a terminal or an audit report:

* one-line values (tag keys and values, metric and parameter names, roles): no control characters
  at all, no line or paragraph separators, no bidirectional overrides, no lone surrogates;
* free text (descriptions, reasons, comments): the same, except that newlines and tabs are welcome,
  because a reason may well take several lines;
* actors, which have stricter rules of their own (see :mod:`modelyard._internal.actors`).

Free text can therefore hold a newline, and a printer that writes it as it is lets a reason forge
what looks like another entry of a history. :func:`one_line` is what every printer uses instead.
"""

from __future__ import annotations

import unicodedata

__all__ = ["BIDI_CONTROLS", "first_bad_character", "fold", "one_line"]

#: Bidirectional embedding, override and isolate controls. They change the order in which the text
#: around them is displayed ("Trojan Source"), so what a reader sees is not what is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Cc: C0 and C1 controls and DEL; Zl/Zp: U+2028 and U+2029, which many viewers render as a line
# break; Cs: lone surrogates, which cannot be written as UTF-8 at all.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def fold(text: str) -> str:
    """The form under which two spellings are the same name: NFKC, case folded, NFKC again
    (Unicode's ``NFKC_Casefold``, near enough). Model names and actors are compared this way.

    >>> fold("Churn") == fold("CHURN") == fold("churn")
    True
    >>> fold("\uff23\uff48urn")  # fullwidth letters are the same name too
    'churn'
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def first_bad_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that user text may not hold, or None.

    ``multiline=True`` allows newlines and tabs (free text such as a reason).

    >>> first_bad_character("risk"), first_bad_character("risk\\n")
    (None, '\\n')
    >>> first_bad_character("line one\\nline two", multiline=True) is None
    True
    """
    if text.isascii():
        # The common case, without a per-character category lookup.
        for char in text:
            if (char < " " and not (multiline and char in "\n\t")) or char == "\x7f":
                return char
        return None
    for char in text:
        if multiline and char in "\n\t":
            continue
        if char in BIDI_CONTROLS or unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def one_line(text: str) -> str:
    """``text`` with every character that could break or reorder a printed line escaped.

    Newlines, tabs and other controls, line and paragraph separators, format characters (bidi
    overrides, zero-width characters) and lone surrogates are written as ``\\n``, ``\\t`` or
    ``\\uXXXX``, so one stored value is always one printed line and prints as it is stored.

    >>> print(one_line("looks fine\\n#7 2025-01-01 00:00:00 lee: v3 staging -> production"))
    looks fine\\n#7 2025-01-01 00:00:00 lee: v3 staging -> production
    >>> one_line("plain text, é and 中文") == "plain text, é and 中文"
    True
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if char.isprintable() or unicodedata.category(char) == "Zs":
        return char  # spaces other than U+0020 are not "printable" to Python, but break no line
    return char.encode("unicode_escape").decode("ascii")
