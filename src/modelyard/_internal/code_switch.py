"""The switch for code lineage: an argument, else an environment variable, on by default."""

from __future__ import annotations

from modelyard._internal.switches import env_switch
from modelyard.errors import InputError

__all__ = ["CODE_LINEAGE_ENV", "code_lineage_setting"]

#: The environment variable that switches code lineage off (``0``) or on (``1``, the default).
CODE_LINEAGE_ENV = "MODELYARD_CODE_LINEAGE"


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
    return env_switch(
        CODE_LINEAGE_ENV,
        off="stop recording the code (git commit, command line) in manifests and registry versions",
    )
