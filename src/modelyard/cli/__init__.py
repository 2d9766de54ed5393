"""modelyard on the command line, for pipelines and operators.

``modelyard`` (the console script) and ``python -m modelyard`` run :func:`main`. Every command
takes ``--yard`` (or ``$MODELYARD_YARD``), ``--actor`` (or ``$MODELYARD_ACTOR``) and ``--json``,
and ends with an :class:`ExitCode` a pipeline can branch on. The commands, their JSON shapes and
a pipeline that uses them are in ``docs/cli.md`` and ``docs/ci.md``.

>>> from modelyard.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
modelyard ...
0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from modelyard._internal.public import publish
from modelyard.cli._exit import ExitCode

__all__ = ["ExitCode", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (``argv`` defaults to ``sys.argv[1:]``) and return its exit code."""
    from modelyard.cli._app import UsageError, build_parser
    from modelyard.cli._context import Context
    from modelyard.cli._failures import report
    from modelyard.cli._output import Output

    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(words)
    except SystemExit as stop:  # --help or --version
        code = stop.code
        return code if isinstance(code, int) else ExitCode.USAGE
    except UsageError as error:
        return _usage(error, json="--json" in words)
    out = Output(json=bool(args.json))
    handler = getattr(args, "handler", None)
    if handler is None:
        (getattr(args, "group_parser", None) or parser).print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(handler(Context(args, out)))
    except KeyboardInterrupt:
        out.note("modelyard: interrupted")
        return 130
    except Exception as error:  # every failure becomes a documented exit code
        return int(report(error, out))


def _usage(error: Exception, *, json: bool) -> int:
    """A command line argparse refused: its usage and message on stderr, as argparse prints
    them, and with ``--json`` the same ``{"error": ...}`` document as any other failure."""
    from modelyard.cli._output import Output

    parser = getattr(error, "parser", None)
    if parser is not None:
        parser.print_usage(sys.stderr)
        prog = parser.prog
    else:
        prog = "modelyard"
    message = f"{prog}: error: {error}"
    sys.stderr.write(message + "\n")
    if json:
        body = {"type": "InputError", "exit_code": int(ExitCode.USAGE), "message": str(error)}
        Output(json=True).emit({"error": body}, "")
    return ExitCode.USAGE


publish(__name__, globals(), __all__)
