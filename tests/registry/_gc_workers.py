"""Code run in child processes by the tests of registrations racing gc."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from modelyard.errors import NotFoundError
from modelyard.storage import LocalStore
from modelyard.yard import Yard

SETTLE = 0.2  # seconds: the gc's settle time, shortened for the tests (both sides use it)


def _configure(protocol: bool) -> None:
    from modelyard.artifacts import _references

    _references.SETTLE = SETTLE if protocol else 0.0
    if not protocol:
        disable_guard()


def disable_guard() -> None:
    """Registrations keep checking that the artifact exists, but no longer guard against gc."""
    from modelyard.artifacts import _references

    def enter(self: Any) -> Any:
        return self

    def leave(self: Any, *exc: object) -> None:
        return None

    _references.ReferenceGuard.__enter__ = enter  # type: ignore[method-assign]
    _references.ReferenceGuard.__exit__ = leave  # type: ignore[method-assign,assignment]


class SlowDeletes(LocalStore):
    """Each delete takes ``delay`` seconds, as on a remote store."""

    def __init__(self, root: str, delay: float) -> None:
        super().__init__(root, durable=False)
        self.delay = delay

    def delete(self, key: str) -> None:
        if not key.startswith("leases/"):
            time.sleep(self.delay)
        super().delete(key)


def registrar(root: str, count: int, results: str, protocol: bool) -> None:
    """Store a model unnamed, then register it, ``count`` times; write "<version> <id>" per
    registration. A gc may remove a model between the two steps: the registration is then
    refused, with nothing written."""
    _configure(protocol)
    yard = Yard(LocalStore(root, durable=False), actor="pipeline")
    rng = random.Random(7)
    lines = []
    for i in range(count):
        ref = yard.artifacts.put(f"model {i} ".encode() * 50)
        time.sleep(rng.uniform(0, 0.05))
        try:
            mv = yard.registry.register("churn", ref.id)
        except NotFoundError:
            continue
        lines.append(f"{mv.version} {ref.id}\n")
    Path(results).write_text("".join(lines))


def collector(root: str, stop: str, results: str, protocol: bool, delay: float) -> None:
    """gc in a loop (grace 0, names not kept) until ``stop`` exists."""
    _configure(protocol)
    artifacts = Yard(SlowDeletes(root, delay)).artifacts
    rng = random.Random(11)
    swept = removed = 0
    while not os.path.exists(stop):
        report = artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=False)
        if report.complete:
            swept += 1
            removed += len(report.artifacts)
        time.sleep(rng.uniform(0, 0.03))
    Path(results).write_text(f"{swept} {removed}")


def gc_when(root: str, trigger: str, done: str, grace: float) -> None:
    """Once ``trigger`` exists, run one gc (names not kept), then touch ``done``."""
    _configure(True)
    artifacts = Yard(LocalStore(root, durable=False)).artifacts
    while not os.path.exists(trigger):
        time.sleep(0.005)
    artifacts.gc(grace=timedelta(seconds=grace), dry_run=False, keep_named=False)
    Path(done).touch()
