"""One-line reprs: a record's repr names it and says what matters, in at most :data:`WIDTH`
characters, so a list of records, a log line or an error message stays readable."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from modelyard._internal.hashing import DIGEST_PATTERN

__all__ = ["WIDTH", "brief", "short"]

#: The longest repr :func:`brief` returns.
WIDTH = 200
_PART = 60


def short(value: object) -> str:
    """``value`` as it reads in a one-line repr: digests cut to 12 hex digits, floats to four
    significant digits, times to the second, long text and collections shortened.

    >>> short("sha256:" + "ab" * 32), short(0.123456789), short(["a", "b"]), short({"k": 1})
    ("'sha256:abababababab'", '0.1235', "['a', 'b']", "{'k': 1}")
    """
    if isinstance(value, str) and DIGEST_PATTERN.fullmatch(value):
        return repr(value[:19])
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return repr(value.isoformat(timespec="seconds"))
    if isinstance(value, Mapping):
        text = repr(dict(value))
        return text if len(text) <= _PART else f"{{{len(value)} entries}}"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        text = repr(items)
        return text if len(text) <= _PART else f"[{len(items)} items]"
    text = repr(value)
    if len(text) <= _PART:
        return text
    if isinstance(value, str):
        return text[: _PART - 4] + "...'"
    return f"<{type(value).__name__}>"


def brief(obj: object, *names: str, **shown: object) -> str:
    """``Type(name=value, ...)`` for the attributes ``names`` of ``obj`` (shortened by
    :func:`short`) followed by ``shown``, cut to :data:`WIDTH` characters.

    >>> class Run:
    ...     id, note = "sha256:" + "cd" * 32, "x" * 300
    >>> brief(Run(), "id", "note", rows=3)
    "Run(id='sha256:cdcdcdcdcdcd', note='xxxxxxxx...xxx...', rows=3)"
    """
    parts = [f"{name}={short(getattr(obj, name))}" for name in names]
    parts += [f"{key}={short(value)}" for key, value in shown.items()]
    text = f"{type(obj).__name__}({', '.join(parts)})"
    return text if len(text) <= WIDTH else text[: WIDTH - 4] + "...)"
