"""From an exception to what a pipeline sees: an exit code, a message on stderr, a JSON error.

With ``--json`` the error is also stdout's one document::

    {"error": {"type": "TransitionRejected", "exit_code": 4, "message": "...",
               "guards": [{"guard": "...", "ok": false, "reason": "...", "details": {...}}]}}

``type`` is the exception's class name in :mod:`modelyard.errors`; ``guards`` appears only for a
refused transition and lists every guard that was evaluated, passed or not.
"""

from __future__ import annotations

import traceback
from typing import Any

from modelyard.cli._exit import ExitCode
from modelyard.cli._output import Output, to_jsonable
from modelyard.errors import (
    InputError,
    IntegrityError,
    ModelyardError,
    NotAuthorizedError,
    NotFoundError,
    TransitionRejected,
    UntrustedLoadError,
)

__all__ = ["exit_code_for", "report"]


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code an exception ends a command with."""
    if isinstance(error, TransitionRejected | NotAuthorizedError):
        return ExitCode.REFUSED
    if isinstance(error, NotFoundError):
        return ExitCode.NOT_FOUND
    if isinstance(error, IntegrityError):
        return ExitCode.INTEGRITY
    # Loading a pickle needs --trusted: the fix is in the command line, like any bad input.
    if isinstance(error, InputError | UntrustedLoadError):
        return ExitCode.USAGE
    return ExitCode.ERROR


def _guards(error: TransitionRejected) -> list[dict[str, Any]]:
    return [to_jsonable(result) for result in getattr(error, "results", ())]


def report(error: BaseException, out: Output) -> ExitCode:
    """Print ``error`` for people (stderr) and, with ``--json``, for scripts; return its code."""
    code = exit_code_for(error)
    if not isinstance(error, ModelyardError):
        # Not an error modelyard raises on purpose: a bug or an environment problem. The trace
        # is what a bug report needs.
        out.note("".join(traceback.format_exception(error)).rstrip())
    out.note(f"modelyard: error: {error}")
    guards = _guards(error) if isinstance(error, TransitionRejected) else []
    for guard in guards:
        mark = "passed" if guard.get("ok") else "FAILED"
        out.note(f"  {mark}  {guard.get('guard') or '(guard)'}: {guard.get('reason', '')}")
    if out.json:
        body: dict[str, Any] = {
            "type": type(error).__name__,
            "exit_code": int(code),
            "message": str(error),
        }
        if guards:
            body["guards"] = guards
        if isinstance(error, ModelyardError):
            context = {k: v for k, v in error.context.items() if k not in body and k != "results"}
            if context:
                body["context"] = to_jsonable(context)
        out.emit({"error": body}, "")
    return code
