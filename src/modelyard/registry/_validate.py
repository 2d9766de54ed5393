"""Validation of what callers pass to the registry, before anything is written."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard._internal.names import validate_name
from modelyard.errors import InputError, InvalidNameError, InvalidReferenceError

__all__ = [
    "RESERVED_ALIASES",
    "check_metrics",
    "check_params",
    "check_tags",
    "check_text",
    "parse_ref",
]

RESERVED_ALIASES = frozenset({"latest"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_TAG_KEY = 128
MAX_TEXT = 10_000


def check_text(value: object, *, what: str, max_length: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > max_length:
        raise InputError(f"{what} is {len(value)} characters long; at most {max_length} allowed")
    if _CONTROL.search(value):
        raise InputError(f"{what} contains control characters: {value[:40]!r}")
    return value


def check_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InputError(f"tags must be a mapping of str to str, got {type(tags).__name__}")
    out = {}
    for key, value in tags.items():
        check_tag_key(key)
        out[key] = check_text(value, what=f"tag {key!r}")
    return out


def check_tag_key(key: object) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_TAG_KEY or _CONTROL.search(key):
        raise InvalidNameError(
            f"invalid tag key {key!r}: a non-empty string of at most {MAX_TAG_KEY} characters "
            "without control characters",
            name=key,
        )
    return key


def check_metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise InputError(
            f"metrics must be a mapping of str to number, got {type(metrics).__name__}"
        )
    out = {}
    for key, value in metrics.items():
        check_tag_key(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy scalars
            except (TypeError, ValueError):
                raise InputError(f"metric {key!r} must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise InputError(f"metric {key!r} must be finite, got {value!r}")
        out[key] = float(value)
    return out


def check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InputError(f"params must be a mapping, got {type(params).__name__}")
    out = {}
    for key, value in params.items():
        check_tag_key(key)
        try:
            canonical_json(value)
        except (TypeError, ValueError):
            value = repr(value)  # e.g. an estimator as a parameter: keep a readable trace
        out[key] = value
    return out


def parse_ref(ref: object) -> tuple[str, str | None, int | None]:
    """Parse ``"name@alias"`` or ``"name/3"`` into ``(name, alias, version)``.

    >>> parse_ref("churn@champion"), parse_ref("churn/3")
    (('churn', 'champion', None), ('churn', None, 3))
    """
    if not isinstance(ref, str):
        raise InvalidReferenceError(f"a model reference is a string, got {type(ref).__name__}")
    if "@" in ref:
        name, _, alias = ref.partition("@")
        validate_name(name, kind="model name")
        validate_name(alias, kind="alias")
        return name, alias, None
    if "/" in ref:
        name, _, number = ref.partition("/")
        validate_name(name, kind="model name")
        if not number.isdigit() or int(number) < 1:
            raise InvalidReferenceError(
                f"invalid model reference {ref!r}: the version after '/' must be a positive "
                "integer, as in 'churn/3'",
                ref=ref,
            )
        return name, None, int(number)
    raise InvalidReferenceError(
        f"invalid model reference {ref!r}: use 'name@alias' (e.g. '{ref}@latest') or "
        f"'name/<version>' (e.g. '{ref}/1')",
        ref=ref,
    )
