"""The exit codes of the command line: what a pipeline branches on."""

from __future__ import annotations

import enum

__all__ = ["ExitCode"]


class ExitCode(enum.IntEnum):
    """How a ``modelyard`` command ended.

    The numbers are part of the command line's contract and never change meaning:

    >>> from modelyard.cli import ExitCode
    >>> [(code.name, int(code)) for code in ExitCode]  # doctest: +NORMALIZE_WHITESPACE
    [('OK', 0), ('DRIFT', 1), ('USAGE', 2), ('NOT_FOUND', 3), ('REFUSED', 4),
     ('INTEGRITY', 5), ('ERROR', 6)]
    """

    #: The command did what was asked.
    OK = 0
    #: A drift command found drift (a column or statistic over its threshold, or a window alert).
    DRIFT = 1
    #: The command line or an input value is wrong (argparse's own code for the same thing).
    USAGE = 2
    #: A model, version, alias, artifact or yard that was asked for does not exist.
    NOT_FOUND = 3
    #: A guard refused a transition (every guard's reason is printed), or the actor lacks the
    #: role the yard's governance requires.
    REFUSED = 4
    #: Stored data failed verification: a digest mismatch, a broken registry chain, a format from
    #: a newer modelyard.
    INTEGRITY = 5
    #: Anything else: an unreachable store, a full disk, a concurrent change that won.
    ERROR = 6
