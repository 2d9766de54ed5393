"""Actors: who did something. How an actor string is checked, and when two name the same person.

An actor is a claim, not a login: modelyard records whatever name the caller passes. Rules that
count people (N approvals by distinct actors, "the approver is not the requester") are only worth
something if two strings that a reader of the history would take for one person count as one. So
rules never compare actor strings; they compare :func:`actor_key`:

1. NFKC, case folding, NFKC again (Unicode's ``NFKC_Casefold``, near enough): ``Ana``, ``ANA``
   and the full-width ``ａｎａ`` are ``ana``;
2. surrounding whitespace is dropped and inner runs of whitespace become one space: ``"ana "`` is
   ``ana``;
3. invisible characters (format characters and the other default-ignorable code points) are
   dropped: they cannot be told apart on screen;
4. a look-alike skeleton, after Unicode TR39 "confusable detection": Cyrillic and Greek letters that
   look like a Latin letter (in either case) become that letter, as do a few Latin letters that
   look like another one (``ı``, ``ɑ``, ``ɡ``). The table is :data:`LOOKALIKES`; it is deliberately
   small and covers the scripts that are mixed in practice. Merging two spellings that only look
   alike in capitals (Cyrillic ``в`` with ``b``) errs on the safe side: a rule may count two people
   as one, never one person as two.

:func:`check_actor` is what a writer applies before recording an actor. It refuses what cannot be
shown faithfully or would forge a printed history (control characters such as newlines and tabs,
format characters such as bidirectional overrides and zero-width spaces, line separators,
unassigned and private-use code points), and, after TR39's "mixed-script" check, a word that mixes
Latin, Greek and Cyrillic letters (``аna`` with a Cyrillic ``а``): no real name does, and a
look-alike that the table misses would otherwise count as somebody else. The string itself is
stored as it was given; only comparisons use the key.
"""

# This module is about letters that look like other letters: ruff's warnings about them are
# its subject, not mistakes.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import functools
import unicodedata

from modelyard._internal.text import fold
from modelyard.errors import InputError

__all__ = ["LOOKALIKES", "MAX_ACTOR_LENGTH", "actor_key", "check_actor"]

MAX_ACTOR_LENGTH = 256

#: Letters that look like a Latin letter, after case folding, and the letter they look like.
#: Capitals are covered through their small form (Cyrillic ``Н`` folds to ``н``, listed as ``h``),
#: which is why some entries only look alike in capitals. A letter whose two forms resemble two
#: different Latin letters is listed by its small form (Greek ``ν`` is ``v``, though ``Ν`` looks
#: like ``N``), because actors are mostly user names and addresses written in small letters.
LOOKALIKES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ѵ": "v", "ү": "y", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k",
    "μ": "u", "ν": "v", "ο": "o", "ρ": "p", "σ": "c", "τ": "t", "υ": "u", "χ": "x",
    "ϳ": "j",
    # Latin letters that pass for another one
    "ı": "i", "ɑ": "a", "ɩ": "i", "ɣ": "y",
}  # fmt: skip

# Default-ignorable code points (Unicode DerivedCoreProperties) that are not format characters:
# they render as nothing, so "a\u034fna" would show as "ana".
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Controls, format characters, line and paragraph separators, surrogates, private use, unassigned.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def _invisible(char: str) -> bool:
    if unicodedata.category(char) in _REFUSED_CATEGORIES:
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


def actor_key(actor: str) -> str:
    """The identity an actor string stands for, as rules that count people compare it.

    Equal keys mean one person: the key ignores case, width, surrounding and repeated whitespace,
    invisible characters, and Cyrillic or Greek letters that look like Latin ones. It is for
    comparing only; records keep the actor as it was given.

    >>> {actor_key(a) for a in ["ana", "Ana", " ana ", "ＡＮＡ", "\u0430na"]}
    {'ana'}
    >>> actor_key("ana") == actor_key("anna")
    False
    """
    if not isinstance(actor, str):
        raise InputError(f"an actor is a string, got {type(actor).__name__}")
    return _key(actor)


# Guards recompute the keys of every approval on each decision; a cache keeps that free.
@functools.lru_cache(maxsize=4096)
def _key(actor: str) -> str:
    visible = "".join(char for char in fold(actor) if not _invisible(char))
    spaced = " ".join(visible.split())
    # Decompose so that accented look-alikes map too (Cyrillic "ё" -> "e" + diaeresis = "ë").
    skeleton = "".join(LOOKALIKES.get(c, c) for c in unicodedata.normalize("NFD", spaced))
    return unicodedata.normalize("NFC", skeleton)


def check_actor(actor: object, *, what: str = "actor") -> str:
    """Return ``actor`` unchanged if a writer may record it; else raise ``InputError``.

    >>> check_actor("Ana Lima")
    'Ana Lima'
    >>> check_actor("ana\\n#9 2025-01-01 lee: approved")
    Traceback (most recent call last):
    ...
    modelyard.errors.InputError: actor 'ana\\n#9 2025-01-01 lee: approved' contains the control or \
invisible character '\\n' (U+000A); ...
    """
    if not isinstance(actor, str):
        raise InputError(f"{what} must be a string, got {type(actor).__name__}", what=what)
    if not actor.strip():
        raise InputError(
            f"{what} must name someone, got {actor!r}; pass a user name or an email address",
            what=what,
        )
    if len(actor) > MAX_ACTOR_LENGTH:
        raise InputError(
            f"{what} is {len(actor)} characters long; at most {MAX_ACTOR_LENGTH} are allowed",
            what=what,
        )
    if not actor.isascii():
        _check_unicode(actor, what)
    else:
        bad = next((c for c in actor if c < " " or c == "\x7f"), None)
        if bad is not None:
            raise _invisible_error(actor, bad, what)
    return actor


def _check_unicode(actor: str, what: str) -> None:
    for char in actor:
        if _invisible(char):
            raise _invisible_error(actor, char, what)
    word_script: str | None = None
    for char in unicodedata.normalize("NFKC", actor):
        category = unicodedata.category(char)
        if category.startswith("M"):
            continue  # a combining mark belongs to the letter before it
        if not category.startswith("L"):
            word_script = None  # a space, digit or punctuation ends a word
            continue
        script = unicodedata.name(char, "").partition(" ")[0]
        if script not in _SCRIPTS:
            continue
        if word_script is not None and script != word_script:
            raise InputError(
                f"{what} {actor!r} mixes {word_script.title()} and {script.title()} letters in "
                f"one word (at {char!r}, U+{ord(char):04X}); such names are how look-alikes "
                "pass for somebody else. Spell it in one script",
                what=what,
            )
        word_script = script


def _invisible_error(actor: str, char: str, what: str) -> InputError:
    return InputError(
        f"{what} {actor!r} contains the control or invisible character {char!r} "
        f"(U+{ord(char):04X}); an actor is one visible name: remove it",
        what=what,
    )
