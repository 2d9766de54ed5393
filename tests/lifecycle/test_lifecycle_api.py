"""The public surface of modelyard.lifecycle: names, signatures, import cost, thread safety."""

from __future__ import annotations

import inspect
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import modelyard.lifecycle as lifecycle
from modelyard.errors import TransitionRejected
from modelyard.lifecycle import (
    Lifecycle,
    ModelStatus,
    TransitionRequest,
    VersionStatus,
    decide,
    metric_at_least,
)

# The names the registry is written against; removing or renaming one breaks it.
CONTRACT = {
    "Approval",
    "CommittedTransition",
    "Decision",
    "Guard",
    "GuardContext",
    "GuardResult",
    "GuardSpec",
    "LIFECYCLE_SCHEMA",
    "Lifecycle",
    "MissingGuard",
    "ModelStatus",
    "StateChange",
    "Transition",
    "TransitionListener",
    "TransitionRequest",
    "VersionStatus",
    "decide",
    "decide_rollback",
    "drift_clean",
    "guard",
    "guard_from_spec",
    "metric_at_least",
    "metric_at_most",
    "register_guard",
    "require_approvals",
    "require_role",
    "require_tags",
}


def test_all_is_sorted_complete_and_resolvable() -> None:
    assert lifecycle.__all__ == sorted(lifecycle.__all__)
    assert set(lifecycle.__all__) >= CONTRACT
    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None
    public = {n for n in vars(lifecycle) if not n.startswith("_")}
    assert public - set(lifecycle.__all__) == set()


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_signatures_match_the_contract() -> None:
    assert parameters(Lifecycle) == [
        "states",
        "initial",
        "transitions",
        "exclusive",
        "protected",
        "amend",
    ]
    keyword_only = inspect.signature(Lifecycle).parameters
    assert all(
        keyword_only[n].kind is inspect.Parameter.KEYWORD_ONLY for n in ("protected", "amend")
    )
    assert parameters(lifecycle.Transition)[:4] == ["source", "target", "guards", "approvals"]
    assert parameters(decide) == ["lifecycle", "status", "request", "roles"]
    assert inspect.signature(decide).parameters["roles"].kind is inspect.Parameter.KEYWORD_ONLY
    rollback = inspect.signature(lifecycle.decide_rollback).parameters
    assert list(rollback)[:4] == ["lifecycle", "status", "state", "history"]
    assert all(rollback[n].kind is inspect.Parameter.KEYWORD_ONLY for n in ("actor", "at"))
    assert parameters(lifecycle.GuardResult) == ["ok", "reason", "details", "guard"]
    assert parameters(lifecycle.GuardContext) == [
        "model",
        "status",
        "request",
        "version",
        "transition",
        "roles",
    ]
    assert parameters(lifecycle.VersionStatus) == ["version", "state", "metrics", "tags"]
    assert parameters(lifecycle.Approval) == ["version", "target", "actor", "at", "role", "comment"]
    assert parameters(ModelStatus) == ["name", "versions", "approvals", "model_tags"]
    assert parameters(TransitionRequest) == [
        "version",
        "target",
        "actor",
        "at",
        "reason",
        "context",
    ]
    assert parameters(lifecycle.StateChange) == ["version", "source", "target", "cause"]
    assert parameters(lifecycle.Decision) == ["changes", "results"]
    assert parameters(lifecycle.CommittedTransition) == [
        "model",
        "changes",
        "actor",
        "reason",
        "at",
        "results",
    ]
    assert parameters(lifecycle.require_approvals)[:3] == ["n", "roles", "max_age"]
    assert parameters(lifecycle.register_guard) == ["name", "factory", "replace"]
    assert parameters(lifecycle.GuardSpec) == ["name", "params"]


def test_import_is_light_and_respects_the_layers() -> None:
    code = (
        "import sys, modelyard.lifecycle\n"
        "heavy = ['pandas', 'scipy', 'sklearn', 'pyarrow', 'numpy', 'pydantic',\n"
        "         'modelyard.storage', 'modelyard.drift', 'modelyard.artifacts',\n"
        "         'modelyard.registry']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_one_lifecycle_serves_many_threads() -> None:
    lc = Lifecycle.default().with_guards("staging", "production", metric_at_least("auc", 0.5))
    at = datetime(2025, 1, 1, tzinfo=timezone.utc)

    def promote(n: int) -> tuple[int, ...]:
        status = ModelStatus.of(
            "m",
            [VersionStatus(1, "production"), VersionStatus(2, "staging", {"auc": n / 100})],
        )
        try:
            decision = decide(lc, status, TransitionRequest(2, "production", f"u{n}", at))
        except TransitionRejected:
            return ()
        return tuple(c.version for c in decision.changes)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(promote, range(100)))
    assert outcomes == [() if n < 50 else (2, 1) for n in range(100)]
