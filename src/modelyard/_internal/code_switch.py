"""The switch for code lineage: an argument, else an environment variable, on by default."""

from __future__ import annotations

import os

from modelyard.errors import InputError

__all__ = ["CODE_LINEAGE_ENV", "code_lineage_setting"]

#: The environment variable that switches code lineage off (``0``) or on (``1``, the default).
CODE_LINEAGE_ENV = "MODELYARD_CODE_LINEAGE"

_ON = ("", "1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def code_lineage_setting(value: bool | None) -> bool:
    """Whether to record code lineage: ``value`` if given, else ``$MODELYARD_CODE_LINEAGE``
    (default on).

    >>> code_lineage_setting(False)
    False
    """
    if value is not None:
        if not isinstance(value, bool):
            raise InputError(f"code_lineage must be True, False or None, not {value!r}")
        return value
    raw = os.environ.get(CODE_LINEAGE_ENV, "").strip().lower()
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    raise InputError(
        f"{CODE_LINEAGE_ENV}={raw!r} is not understood: set it to 0 to stop recording the code "
        "(git commit, command line) in manifests and registry versions, or 1 (the default)",
        variable=CODE_LINEAGE_ENV,
    )
