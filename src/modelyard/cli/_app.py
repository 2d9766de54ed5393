"""The parser: global options, command groups, and the dispatch from a command to its handler.

A command group is a module with ``add(group: Group) -> None`` that declares its commands with
:meth:`Group.command`. Group modules import only the standard library and light parts of
modelyard at import time: pandas, SciPy and scikit-learn are imported inside the handlers that
need them, so ``modelyard --help`` and quick commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from modelyard._version import __version__
from modelyard.cli._exit import ExitCode

if TYPE_CHECKING:
    from modelyard.cli._context import Context

__all__ = ["GROUPS", "Group", "Handler", "Parser", "UsageError", "build_parser"]

Handler = Callable[["Context"], ExitCode]

#: The command groups, in the order ``--help`` lists them: (module, name, help).
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("modelyard.cli._artifacts", "artifacts", "store, fetch, list and trace artifacts"),
    ("modelyard.cli._registry", "registry", "models, versions, aliases, stages and history"),
    ("modelyard.cli._drift", "drift", "profile data, compare it, monitor it over time"),
    ("modelyard.cli._lifecycle", "lifecycle", "the yard's stored lifecycle"),
    ("modelyard.cli._yard", "", "verify and gc (commands of the yard itself)"),
)

EPILOG = """\
exit codes: 0 ok, 1 drift found, 2 usage error, 3 not found, 4 refused by a guard or the
yard's governance, 5 integrity failure, 6 any other error. With --json stdout holds exactly one
JSON object (the result, or {"error": {...}}).

environment: MODELYARD_YARD (the yard), MODELYARD_ACTOR (who acts), MODELYARD_PROGRESS=0 (no
progress bars on a terminal)."""


class UsageError(Exception):
    """A command line argparse refused; carries the parser, to print its usage."""

    def __init__(self, message: str, parser: argparse.ArgumentParser) -> None:
        super().__init__(message)
        self.parser = parser


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are raised, not printed, so that ``--json`` can
    report them in its one document too (subcommand parsers are made of the same class)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self)


def _common() -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. Their defaults are set once on
    the top parser; here SUPPRESS keeps a subcommand from overwriting what was given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--yard",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="the yard: a folder or an fsspec URL (default: $MODELYARD_YARD, else ./.modelyard)",
    )
    common.add_argument(
        "--actor",
        default=argparse.SUPPRESS,
        help="who acts, recorded on changes (default: $MODELYARD_ACTOR)",
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON object instead of text (the shapes are in docs/cli.md)",
    )
    return common


class Group:
    """The commands of one group (``registry``, ``drift``, ...), or of the top level."""

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[Any],
        common: argparse.ArgumentParser,
    ) -> None:
        self._subparsers = subparsers
        self._common = common

    def command(
        self, name: str, help: str, handler: Handler, *, description: str | None = None
    ) -> argparse.ArgumentParser:
        """Declare ``name``; returns its parser for the command's own arguments."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name,
            help=help,
            description=description or help,
            parents=[self._common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler)
        return parser


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = Parser(
        prog="modelyard",
        description="modelyard on the command line: artifacts, registry, drift and lifecycle.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"modelyard {__version__}")
    parser.add_argument("--yard", default=None, metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--actor", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    top = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name, name, help in GROUPS:
        module = importlib.import_module(module_name)
        if name:
            sub = top.add_parser(name, help=help, description=help)
            sub.set_defaults(handler=None, group_parser=sub)
            group = Group(sub.add_subparsers(title="commands", metavar="COMMAND"), common)
        else:
            group = Group(top, common)
        module.add(group)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
