"""Functions run in child processes by the feed's multi-process tests."""

from __future__ import annotations

import os
import signal
from typing import Any

from modelyard.registry import _feed
from modelyard.yard import open_yard


def read_from(path: str, cursor: str, out: Any) -> None:
    page = open_yard(path).registry.events(cursor)
    out.put([(event.model, event.seq, event.kind) for event in page])


def watch_until_transition(path: str, poll: float, out: Any) -> None:
    watching = open_yard(path).registry.watch(poll=poll, timeout=60, reconcile_every=None)
    out.put("ready")
    for event in watching:
        out.put((event.model, event.seq, event.kind))
        if event.kind == "transition":
            return


def transition_and_die_before_the_marker(path: str, version: int) -> None:
    """Commit a transition whose marker is lost (as a machine crash loses a marker written
    without waiting for the disk), then be killed."""

    def lost(self: Any, name: str, event: Any) -> None:
        pass

    _feed.Feed.mark = lost  # type: ignore[method-assign]
    open_yard(path).registry.transition("churn", version, "staging", actor="ci")
    os.kill(os.getpid(), signal.SIGKILL)


def register_and_exit(path: str, count: int) -> None:
    registry = open_yard(path).registry
    for n in range(count):
        registry.register(f"m{n}", b"w")
