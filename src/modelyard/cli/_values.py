"""Argument types shared by the command groups: ``k=v`` pairs, numbers, times, references.

Each raises :class:`argparse.ArgumentTypeError`, so a bad value is a usage error (exit 2) that
argparse reports with the option's name, before the yard is opened.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime

__all__ = [
    "as_dict",
    "float_pair",
    "instant",
    "non_negative_int",
    "positive_int",
    "seconds",
    "text_pair",
]


def _split(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. team=risk; got {text!r}")
    return key, value


def text_pair(text: str) -> tuple[str, str]:
    """``key=value`` with a text value.

    >>> text_pair("team=risk=high")
    ('team', 'risk=high')
    """
    return _split(text)


def float_pair(text: str) -> tuple[str, float]:
    """``key=value`` with a finite number as the value.

    >>> float_pair("auc=0.91")
    ('auc', 0.91)
    """
    key, value = _split(text)
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the value of {key!r} must be a number, e.g. {key}=0.91; got {value!r}"
        ) from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"the value of {key!r} must be finite, not {value!r}")
    return key, number


def positive_int(text: str) -> int:
    """A whole number of at least 1 (a version, a count)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return number


def non_negative_int(text: str) -> int:
    """A whole number of 0 or more (a depth)."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {text!r}")
    return number


def seconds(text: str) -> float:
    """A non-negative number of seconds."""
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0 or more), got {text!r}")
    return number


def instant(text: str) -> datetime:
    """An ISO 8601 time with its offset, e.g. ``2026-05-01T12:00:00Z``.

    >>> instant("2026-05-01T12:00:00Z").isoformat()
    '2026-05-01T12:00:00+00:00'
    """
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-05-01T12:00:00Z, got {text!r}"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone: add one, e.g. {text}Z for UTC or {text}+02:00"
        )
    return when


def as_dict(pairs: list[tuple[str, object]] | None, option: str) -> dict[str, object]:
    """The pairs given with ``option`` as a dict; a key given twice is a usage error.

    >>> as_dict([("a", "1"), ("b", "2")], "--tag")
    {'a': '1', 'b': '2'}
    """
    from modelyard.errors import InputError

    result: dict[str, object] = {}
    for key, value in pairs or ():
        if key in result:
            raise InputError(f"{option} {key}=... is given twice: give each key once")
        result[key] = value
    return result
