"""Immutable building blocks for the lifecycle's value objects.

Every value object in :mod:`modelyard.lifecycle` is frozen and holds only tuples and
:class:`FrozenMap` instances, so one object can be shared by any number of threads without a lock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from modelyard._internal.frozen import FrozenMap
from modelyard._internal.text import first_bad_character
from modelyard.errors import InputError

__all__ = [
    "FrozenMap",
    "freeze_json",
    "freeze_mapping",
    "require_aware",
    "require_label",
    "require_text",
    "require_version",
    "thaw_json",
]

K = TypeVar("K")
V = TypeVar("V")


def freeze_mapping(value: Mapping[K, V] | None, *, what: str) -> FrozenMap[K, V]:
    """Return an immutable copy of a mapping (shallow), refusing anything that is not a mapping."""
    if value is None:
        return FrozenMap()
    if isinstance(value, FrozenMap):
        return value
    if not isinstance(value, Mapping):
        raise InputError(
            f"{what} must be a mapping, got {type(value).__name__}", what=what, value=value
        )
    return FrozenMap(value)


def freeze_json(value: Any, *, what: str = "value") -> Any:
    """Deep-freeze a JSON-able value: dicts become :class:`FrozenMap`, lists become tuples.

    Refuses values that JSON cannot represent faithfully (NaN, infinity, non-string keys, other
    types), because guard results are persisted as JSON in the registry's history.

    >>> freeze_json({"actors": ["ana", "lee"], "n": 2})
    {'actors': ('ana', 'lee'), 'n': 2}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(
                f"{what} holds {value!r}, which JSON cannot represent; store it as a string",
                what=what,
            )
        return value
    if isinstance(value, Mapping):
        frozen: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"{what} has a non-string key {key!r}", what=what)
            frozen[key] = freeze_json(item, what=f"{what}[{key!r}]")
        return FrozenMap(frozen)
    if isinstance(value, (list, tuple)):
        return tuple(freeze_json(item, what=f"{what}[{i}]") for i, item in enumerate(value))
    raise InputError(
        f"{what} holds a {type(value).__name__}, which is not JSON-able; use str, int, float, "
        "bool, None, lists and dicts with string keys",
        what=what,
    )


def thaw_json(value: Any) -> Any:
    """Invert :func:`freeze_json`: mappings become dicts and tuples become lists.

    >>> thaw_json(freeze_json({"a": [1, {"b": None}]}))
    {'a': [1, {'b': None}]}
    """
    if isinstance(value, Mapping):
        return {key: thaw_json(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw_json(item) for item in value]
    return value


def require_aware(value: object, *, what: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime (naive times are ambiguous)."""
    if not isinstance(value, datetime):
        raise InputError(f"{what} must be a datetime, got {type(value).__name__}", what=what)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{what} must be timezone-aware (for example datetime.now(timezone.utc)), got the "
            f"naive {value.isoformat()}",
            what=what,
        )
    return value


def require_text(value: object, *, what: str) -> str:
    """Return ``value`` if it is a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{what} must be a non-empty string, got {value!r}", what=what)
    return value


def require_label(value: object, *, what: str) -> str:
    """Return ``value`` if it is one line of visible text, as the registry stores names of metrics,
    tags and roles (a guard on ``"auc\\n"`` could never match a recorded metric)."""
    text = require_text(value, what=what)
    bad = first_bad_character(text)
    if bad is not None or text != text.strip():
        shown = f"the control character U+{ord(bad):04X}" if bad else "surrounding whitespace"
        raise InputError(f"{what} {text!r} has {shown}; use one line of visible text", what=what)
    return text


def require_version(value: object, *, what: str = "version") -> int:
    """Return ``value`` if it is a version number (an int >= 1, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{what} must be an integer >= 1, got {value!r}", what=what)
    return value
