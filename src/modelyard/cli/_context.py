"""What a command runs with: its arguments, the yard, the actor and where to print."""

from __future__ import annotations

import argparse
import os
import threading
from typing import TYPE_CHECKING

from modelyard.cli._output import Output
from modelyard.cli._progress import Progress, wanted

if TYPE_CHECKING:
    from modelyard.yard import Yard

__all__ = ["DEFAULT_YARD", "Context"]

#: The yard a command uses when neither --yard nor $MODELYARD_YARD names one: as open_yard's.
DEFAULT_YARD = "./.modelyard"


class Context:
    """One command's run: ``args``, ``out``, ``actor`` and the yard, opened on first use."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.location: str = args.yard or os.environ.get("MODELYARD_YARD") or DEFAULT_YARD
        self.actor: str | None = args.actor or os.environ.get("MODELYARD_ACTOR") or None
        self._yard: Yard | None = None
        self._lock = threading.Lock()

    def yard(self, *, create: bool = False) -> Yard:
        """The yard at ``--yard``. Commands that only read pass ``create=False`` (the default),
        so a mistyped location is "not found" rather than a new, empty yard; the commands that
        store something new (``artifacts put``) may create it."""
        with self._lock:
            if self._yard is None:
                from modelyard.errors import NotFoundError
                from modelyard.yard import open_yard

                try:
                    self._yard = open_yard(self.location, create=create, actor=self.actor)
                except NotFoundError as error:
                    raise NotFoundError(
                        f"no yard at {self.location}: check --yard or $MODELYARD_YARD (only the "
                        "command 'modelyard artifacts put' creates a yard where there is none)",
                        location=self.location,
                    ) from error
            return self._yard

    def progress(self, label: str, *, unit: str = "") -> Progress | None:
        """A bar for a long step, or None when nobody is watching a terminal."""
        if not wanted(self.out.stderr, json=self.out.json):
            return None
        return Progress(self.out.stderr, label, unit=unit)
