"""Functions run in child processes by the governance tests: writers that were opened without
the yard's lifecycle, or with another one, and a writer of a yard on a shared store."""

from __future__ import annotations

from typing import Any

from modelyard.lifecycle import GuardContext, GuardResult, Lifecycle, as_guard, register_guard
from modelyard.registry import Registry
from modelyard.storage import LocalStore


def _registry(path: str, lifecycle: Lifecycle | None, actor: str) -> Registry:
    return Registry(LocalStore(path, durable=False), lifecycle=lifecycle, actor=actor)


def try_promote(path: str, lifecycle: Lifecycle | None, version: int, out: Any) -> None:
    """Try staging -> production as a writer opened with ``lifecycle``; report what happened."""
    registry = _registry(path, lifecycle, "mallory")
    try:
        registry.transition("churn", version, "production", reason="skip the queue")
        out.put("moved")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")


def first_write(
    path: str, lifecycle: Lifecycle | None, worker: int, barrier: Any, out: Any
) -> None:
    """Register a version of a model of its own on a yard that may have no lifecycle yet."""
    registry = _registry(path, lifecycle, f"w{worker}")
    barrier.wait(timeout=120)
    try:
        registry.register(f"model-{worker}", b"weights")
        out.put((worker, "registered"))
    except Exception as exc:
        out.put((worker, type(exc).__name__))


def _min_rows(rows: int) -> Any:
    def check(ctx: GuardContext) -> GuardResult:
        seen = float(ctx.version.metrics.get("rows", 0))
        if seen >= rows:
            return GuardResult.passed(f"trained on {seen:g} >= {rows} rows")
        return GuardResult.failed(f"trained on {seen:g} < {rows} rows")

    return as_guard(check, name=f"rows >= {rows}")


def promote_with_guard_code(path: str, registered: bool, out: Any) -> None:
    """Promote version 1 in a process that has (or lacks) the code of the guard tests.min_rows."""
    if registered:
        register_guard("tests.min_rows", _min_rows, replace=True)
    registry = _registry(path, None, "lee")
    try:
        registry.transition("churn", 1, "production")
        out.put("moved")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")


def try_everything(path: str, out: Any) -> None:
    """A writer opened without any lifecycle, as someone without roles: every way round the
    stored governance it might try, and what each gave."""
    registry = _registry(path, None, "mallory")
    attempts = {
        "grant itself release": lambda: registry.grant_role("release", "mallory"),
        "approve as qa": lambda: registry.approve("churn", 1, "production", role="qa"),
        "promote": lambda: registry.transition("churn", 1, "production"),
        "relax the lifecycle": lambda: registry.set_lifecycle(Lifecycle.default()),
        "revoke the admin": lambda: registry.revoke_role("admin", "ana"),
    }
    for what, attempt in attempts.items():
        try:
            attempt()
            out.put((what, "done"))
        except Exception as exc:
            out.put((what, type(exc).__name__))
