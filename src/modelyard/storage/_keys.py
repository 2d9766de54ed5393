"""Validation of storage keys.

Keys are ``/``-separated relative paths. Every store validates a key before touching anything, so a
bad key never writes, creates a folder, or escapes the store's root.
"""

from __future__ import annotations

import re

from modelyard.errors import InvalidKeyError

__all__ = ["MAX_KEY_LENGTH", "MAX_SEGMENT_LENGTH", "validate_key", "validate_prefix"]

MAX_KEY_LENGTH = 1024  # S3's limit, in UTF-8 bytes
MAX_SEGMENT_LENGTH = 255  # the usual filesystem limit for one path component, in bytes

# C0 and C1 control characters and DEL; a backslash is refused too because it is a separator on
# Windows and would let one key name two different files there.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def _problem(key: str, *, allow_trailing_slash: bool) -> str | None:
    if not key:
        return "it is empty"
    # ASCII (modelyard's own keys): one character is one byte, and no encoding is needed.
    ascii_ = key.isascii()
    if (len(key) if ascii_ else len(key.encode("utf-8"))) > MAX_KEY_LENGTH:
        return f"it is longer than {MAX_KEY_LENGTH} bytes"
    match = _FORBIDDEN.search(key)
    if match:
        return f"it contains the forbidden character {match.group()!r}"
    if key.startswith("/"):
        return "it starts with '/' (keys are relative)"
    body = key[:-1] if allow_trailing_slash and key.endswith("/") else key
    for segment in body.split("/"):
        if not segment:
            return "it has an empty segment ('//' or a trailing '/')"
        if segment in (".", ".."):
            return f"it has a {segment!r} segment"
        if (len(segment) if ascii_ else len(segment.encode("utf-8"))) > MAX_SEGMENT_LENGTH:
            return f"a segment is longer than {MAX_SEGMENT_LENGTH} bytes"
    return None


def validate_key(key: object) -> str:
    """Return ``key`` if it is a valid storage key, else raise :class:`InvalidKeyError`.

    >>> validate_key("models/churn/log/00000001.json")
    'models/churn/log/00000001.json'
    >>> validate_key("a/../b")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidKeyError: invalid storage key 'a/../b': it has a '..' segment...
    """
    if not isinstance(key, str):
        raise InvalidKeyError(
            f"invalid storage key {key!r}: expected str, got {type(key).__name__}",
            key=key,
            reason="not a string",
        )
    problem = _problem(key, allow_trailing_slash=False)
    if problem:
        raise InvalidKeyError(
            f"invalid storage key {key!r}: {problem}. Keys are relative '/'-separated paths "
            "without empty, '.' or '..' segments or control characters.",
            key=key,
            reason=problem,
        )
    return key


def validate_prefix(prefix: object) -> str:
    """Return ``prefix`` if it can prefix valid keys (``""`` lists everything); else raise.

    A prefix is matched as a plain string, as on S3: ``"a/b"`` matches ``"a/b/c"`` and ``"a/bc"``.

    >>> validate_prefix("models/")
    'models/'
    """
    if prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise InvalidKeyError(
            f"invalid prefix {prefix!r}: expected str", key=prefix, reason="not a string"
        )
    problem = _problem(prefix, allow_trailing_slash=True)
    if problem:
        raise InvalidKeyError(f"invalid prefix {prefix!r}: {problem}", key=prefix, reason=problem)
    return prefix
