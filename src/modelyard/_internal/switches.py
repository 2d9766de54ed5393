"""On/off switches read from the environment: one spelling of on and of off, and a typo refused
rather than taken for either."""

from __future__ import annotations

import os

from modelyard.errors import InputError

__all__ = ["env_switch"]

_ON = ("", "1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def env_switch(variable: str, *, off: str, on: str = "") -> bool:
    """``$variable`` as a switch: on when unset or ``1``/``true``/``yes``/``on``, off when
    ``0``/``false``/``no``/``off``; anything else is an :class:`InputError` saying what ``0``
    does (``off``) and, if given, what ``1`` does (``on``).

    >>> env_switch("MODELYARD_DOCTEST_UNSET_SWITCH", off="switch it off")
    True
    """
    raw = os.environ.get(variable, "").strip().lower()
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    then = f" {on}" if on else ""
    raise InputError(
        f"{variable}={raw!r} is not understood: set it to 0 to {off}, or 1 (the default){then}",
        variable=variable,
    )
