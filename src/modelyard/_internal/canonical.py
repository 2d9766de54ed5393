"""Canonical JSON: one byte string per value, so that equal values hash equally."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json", "loads"]


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes.

    Keys are sorted, there is no insignificant whitespace, text is UTF-8 (not ``\\u`` escapes), and
    NaN or infinity are refused because JSON has no spelling for them that every parser agrees on.

    >>> canonical_json({"b": 1, "a": [1.5, "é"]})
    b'{"a":[1.5,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Parse JSON produced by :func:`canonical_json` (or any JSON)."""
    return json.loads(data)
