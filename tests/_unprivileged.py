"""Run code in a process that folder permissions bind (root cannot be refused a write)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import pytest

NOBODY = 65534


def unprivileged(function: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """Run ``function`` in a forked child; as root, the child first drops to user ``nobody``.

    Returns ("ok", result) or ("raised", exception).
    """
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def run() -> None:
        if os.geteuid() == 0:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        try:
            sender.send(("ok", function(*args)))
        except BaseException as exc:
            sender.send(("raised", exc))

    process = ctx.Process(target=run)
    process.start()
    outcome: tuple[str, Any] = receiver.recv()
    process.join(timeout=60)
    assert process.exitcode == 0
    return outcome
