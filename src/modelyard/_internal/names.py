"""Validation of user-chosen names (models, artifacts, aliases, tags, states)."""

from __future__ import annotations

import re

from modelyard.errors import InvalidNameError

__all__ = ["MAX_NAME_LENGTH", "validate_name"]

MAX_NAME_LENGTH = 128

# Names become path segments of storage keys, so they are restricted to characters that are safe in
# every store (local filesystems, S3, URLs) and unambiguous in references like "name@alias" and
# "name/3": no "/", "@", ":" or whitespace. The classes are spelled out (not ``\w``) so that only
# ASCII letters and digits match, and the pattern is only ever used with ``fullmatch``: ``$`` would
# also match before a trailing newline and let "champion\n" pass next to "champion".
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def validate_name(name: object, *, kind: str = "name") -> str:
    """Return ``name`` if it is usable as a model, artifact, alias or state name; else raise.

    >>> validate_name("churn-v2.1")
    'churn-v2.1'
    >>> validate_name("../x")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidNameError: invalid name '../x': ...
    >>> validate_name("champion\\n")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidNameError: invalid name 'champion\\n': ...
    """
    if not isinstance(name, str):
        raise InvalidNameError(
            f"invalid {kind} {name!r}: expected a string, got {type(name).__name__}",
            name=name,
            reason="not a string",
        )
    if not name:
        raise InvalidNameError(f"invalid {kind}: it is empty", name=name, reason="empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"invalid {kind} {name[:20]!r}...: {len(name)} characters, at most "
            f"{MAX_NAME_LENGTH} are allowed",
            name=name,
            reason="too long",
        )
    if not _NAME.fullmatch(name) or name.endswith("."):
        raise InvalidNameError(
            f"invalid {kind} {name!r}: use letters, digits, '.', '_' and '-', starting with a "
            "letter or digit (no '/', '@', ':', spaces or control characters)",
            name=name,
            reason="bad characters",
        )
    return name
