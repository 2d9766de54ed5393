"""The monitoring guard in a yard: real ``drift.monitor()`` and ``drift.estimate_performance()``
results attached to a version decide its promotion, here and in another process that reads the
guard from the stored lifecycle."""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest

import modelyard.drift as drift
from modelyard.artifacts import ArtifactStore
from modelyard.errors import InputError, TransitionRejected
from modelyard.lifecycle import Lifecycle, monitoring_clean
from modelyard.registry import Registry
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock

from . import _monitoring_workers
from ._monitoring_data import NOW, results

CTX = multiprocessing.get_context("spawn")

GUARD = monitoring_clean(windows=2, floors={"roc_auc": 0.75})


def _staged(store: Store, lifecycle: Lifecycle | None = None) -> Registry:
    chosen = lifecycle or Lifecycle.default().with_guards("staging", "production", GUARD)
    registry = Registry(store, clock=FakeClock(NOW), actor="ana", lifecycle=chosen)
    registry.register("churn", b"weights")
    registry.transition("churn", 1, "staging")
    return registry


def _attach(registry: Registry, shift: float, labels: bool = True) -> None:
    monitoring, estimated = results(shift, labels)
    registry.attach("churn/1", monitoring, kind="monitoring")
    registry.attach("churn/1", estimated, kind="estimated-performance")


def _refusal(registry: Registry) -> TransitionRejected:
    with pytest.raises(TransitionRejected) as caught:
        registry.transition("churn", 1, "production")
    assert registry.version("churn", 1).state == "staging"
    return caught.value


def test_promotion_waits_until_the_attached_monitoring_is_clean(store: Store) -> None:
    registry = _staged(store)
    assert "no monitoring result" in str(_refusal(registry))
    _attach(registry, shift=1.5)
    refused = _refusal(registry)
    (result,) = refused.results
    assert result.reason.startswith(
        "inputs drift in 2 windows of 2 judged (at most 0 allowed): window 2 (x1), window 3 (x1)"
    )
    assert "data-quality errors: x1 in window 2, x1 in window 3" in result.reason
    assert [dict(d) for d in result.details["drifted"]] == [
        {"window": 2, "columns": ("x1",)},
        {"window": 3, "columns": ("x1",)},
    ]
    _attach(registry, shift=0.0)
    moved = registry.transition("churn", 1, "production", reason="the inputs are back")
    assert moved.state == "production"
    judged = registry.history("churn")[-1].results[0]
    assert judged.reason == "monitoring of windows 2-3 is clean; roc_auc >= 0.75"
    assert judged.details["windows"] == (2, 3)
    assert judged.details["estimated_windows"] == (2, 3)


def test_a_metric_under_its_floor_refuses_with_realized_and_estimated_values() -> None:
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", monitoring_clean(floors={"roc_auc": 0.95})
    )
    registry = _staged(MemoryStore(), lifecycle)
    _attach(registry, shift=0.0)
    (result,) = _refusal(registry).results
    monitoring, estimated = results(0.0)
    realized = monitoring.window(3).performance
    assert realized is not None
    auc = realized.metric("roc_auc")
    estimate = estimated.window(3).metric("roc_auc")
    assert result.reason == (
        f"roc_auc below its floor 0.95: realized {auc.value:.4g} in window 3 "
        f"[{auc.lower:.4g}, {auc.upper:.4g}], estimated {estimate.value:.4g} in window 3 "
        f"[{estimate.lower:.4g}, {estimate.upper:.4g}]"
    )
    assert [(d["source"], d["value"]) for d in result.details["below_floor"]] == [
        ("realized", auc.value),
        ("estimated", estimate.value),
    ]


def test_before_labels_arrive_the_estimate_judges_the_floor() -> None:
    registry = _staged(MemoryStore())
    monitoring, estimated = results(0.0, labels=False)
    assert all(w.performance is None for w in monitoring.windows)
    registry.attach("churn/1", monitoring, kind="monitoring")
    (result,) = _refusal(registry).results
    assert result.details["missing_metrics"] == ("roc_auc",)
    registry.attach("churn/1", estimated, kind="estimated-performance")
    assert registry.transition("churn", 1, "production").state == "production"


def test_a_result_passed_with_the_transition_wins_over_the_attached_one() -> None:
    registry = _staged(MemoryStore())
    _attach(registry, shift=0.0)
    drifting, _ = results(1.5)
    with pytest.raises(TransitionRejected, match=r"window 3 \(x1\)"):
        registry.transition("churn", 1, "production", context={"monitoring": drifting})


def test_an_old_result_refuses_when_max_age_is_set() -> None:
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", monitoring_clean(max_age=timedelta(hours=6))
    )
    registry = _staged(MemoryStore(), lifecycle)
    _attach(registry, shift=0.0)
    (result,) = _refusal(registry).results  # the last window ended 2026-06-05, a day before NOW
    assert result.reason.startswith("the monitoring result is too old")
    assert "the estimated performance is too old" in result.reason


@pytest.mark.slow
def test_the_stored_guard_is_rebuilt_and_obeyed_in_another_process(tmp_path: Path) -> None:
    path = str(tmp_path / "yard")
    registry = _staged(LocalStore(path, durable=False))
    stored = json.dumps(registry.lifecycle("churn").to_dict())
    assert '"name": "monitoring_clean"' in stored
    _attach(registry, shift=1.5)
    outcomes = []
    for shift in (1.5, 0.0):
        if shift == 0.0:
            _attach(registry, shift)
        out = CTX.Queue()
        worker = CTX.Process(target=_monitoring_workers.promote, args=(path, out))
        worker.start()
        worker.join(timeout=120)
        outcomes.append(out.get(timeout=5))
    refused, moved = outcomes
    assert refused.startswith("TransitionRejected"), refused
    assert "window 2 (x1), window 3 (x1)" in refused
    assert moved == "moved"
    assert Registry(LocalStore(path, durable=False)).version("churn", 1).state == "production"


def test_bad_parameters_are_refused_before_anything_is_written(store: Store) -> None:
    registry = _staged(store)
    before = sorted(store.list(""))
    with pytest.raises(InputError, match="floor of 'roc_auc' must be a finite number"):
        registry.set_lifecycle(
            Lifecycle.default().with_guards(
                "staging", "production", monitoring_clean(floors={"roc_auc": float("nan")})
            )
        )
    assert sorted(store.list("")) == before


def test_an_estimated_performance_round_trips_as_an_artifact() -> None:
    artifacts = ArtifactStore(MemoryStore())
    _, estimated = results(0.0)
    ref = artifacts.put(estimated, name="churn-estimated-performance")
    assert ref.media_type == drift.EstimatedPerformance.media_type
    assert artifacts.manifest(ref).codec == "self-describing"
    assert artifacts.get(ref) == estimated
