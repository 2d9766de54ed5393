"""Typed reads of JSON read back from the store.

Events and snapshots come from a store that anyone with write access can edit, so every field is
checked for presence and type before it is used. A wrong field raises :class:`Malformed`, which
the caller turns into an error naming the file; a raw ``KeyError`` or ``TypeError`` never escapes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from modelyard._internal.hashing import DIGEST_PATTERN
from modelyard.artifacts import CodeRecord
from modelyard.errors import InputError

__all__ = [
    "Malformed",
    "build",
    "get_code",
    "get_bool",
    "get_digest",
    "get_int",
    "get_list",
    "get_mapping",
    "get_number_map",
    "get_opt_int",
    "get_opt_str",
    "get_str",
    "get_str_map",
    "get_str_tuple",
    "get_time",
]


class Malformed(Exception):
    """A stored JSON value does not have the shape it must have (internal; never escapes)."""


def _get(data: Mapping[str, Any], field: str) -> Any:
    try:
        return data[field]
    except KeyError:
        raise Malformed(f"the field {field!r} is missing") from None


def get_int(data: Mapping[str, Any], field: str, *, minimum: int = 0) -> int:
    value = _get(data, field)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise Malformed(f"{field!r} must be an integer >= {minimum}, got {value!r}")
    return value


def get_opt_int(data: Mapping[str, Any], field: str) -> int | None:
    if data.get(field) is None:
        return None
    return get_int(data, field, minimum=1)


def get_str(data: Mapping[str, Any], field: str, *, default: str | None = None) -> str:
    if default is not None and field not in data:
        return default
    value = _get(data, field)
    if not isinstance(value, str):
        raise Malformed(f"{field!r} must be a string, got {type(value).__name__}")
    return value


def get_opt_str(data: Mapping[str, Any], field: str) -> str | None:
    if data.get(field) is None:
        return None
    return get_str(data, field)


def get_bool(data: Mapping[str, Any], field: str) -> bool:
    value = _get(data, field)
    if not isinstance(value, bool):
        raise Malformed(f"{field!r} must be true or false, got {value!r}")
    return value


def get_digest(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not DIGEST_PATTERN.match(value):
        raise Malformed(f"{field!r} must be a 'sha256:<hex>' digest, got {value!r}")
    return value


def get_time(data: Mapping[str, Any], field: str) -> datetime:
    text = get_str(data, field)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"{field!r} must be an ISO 8601 time, got {text!r}") from None


def get_mapping(data: Mapping[str, Any], field: str, *, optional: bool = False) -> dict[str, Any]:
    if optional and data.get(field) is None:
        return {}
    value = _get(data, field)
    if not isinstance(value, dict):
        raise Malformed(f"{field!r} must be a JSON object, got {type(value).__name__}")
    return value


def get_list(data: Mapping[str, Any], field: str, *, optional: bool = False) -> list[Any]:
    if optional and data.get(field) is None:
        return []
    value = _get(data, field)
    if not isinstance(value, list):
        raise Malformed(f"{field!r} must be a JSON array, got {type(value).__name__}")
    return value


def get_str_map(data: Mapping[str, Any], field: str) -> dict[str, str]:
    value = get_mapping(data, field, optional=True)
    if not all(isinstance(item, str) for item in value.values()):
        raise Malformed(f"{field!r} must map names to strings")
    return value


def get_number_map(data: Mapping[str, Any], field: str) -> dict[str, float]:
    value = get_mapping(data, field, optional=True)
    for item in value.values():
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise Malformed(f"{field!r} must map names to finite numbers, got {item!r}")
    return value


def get_str_tuple(data: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = get_list(data, field, optional=True)
    if not all(isinstance(item, str) for item in value):
        raise Malformed(f"{field!r} must be a list of strings")
    return tuple(value)


def build(factory: Any, value: Any, what: str) -> Any:
    """``factory(value)`` for a JSON object ``value``; :class:`Malformed` if it does not parse."""
    if not isinstance(value, dict):
        raise Malformed(f"a {what} must be a JSON object, got {type(value).__name__}")
    try:
        return factory(value)
    except (KeyError, TypeError, ValueError, AttributeError, InputError) as exc:
        raise Malformed(f"a {what} does not parse ({exc})") from None


def get_code(data: Mapping[str, Any]) -> CodeRecord | None:
    """The optional ``code`` record (absent in events and snapshots written before it existed)."""
    value = data.get("code")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise Malformed(f"'code' must be an object, got {type(value).__name__}")
    try:
        return CodeRecord.model_validate(dict(value))
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        where = ""
        if callable(errors):
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors()[:3]
            )
        raise Malformed(f"'code' is not a code record ({where or 'wrong shape'})") from None
