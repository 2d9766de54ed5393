"""Run in a child process by the monitoring guard tests: a writer opened without any lifecycle,
which must rebuild the yard's stored monitoring guard from its stored form and obey it."""

from __future__ import annotations

from typing import Any

from modelyard.registry import Registry
from modelyard.storage import LocalStore
from modelyard.testing import FakeClock
from tests.registry._monitoring_data import NOW


def promote(path: str, out: Any) -> None:
    """Try staging -> production of churn/1; report "moved" or the error."""
    registry = Registry(LocalStore(path, durable=False), clock=FakeClock(NOW), actor="lee")
    try:
        registry.transition("churn", 1, "production", reason="monitoring is clean")
        out.put("moved")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")
