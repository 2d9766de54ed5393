"""Evidence attached to versions: the audited event, reads, refusals, gc, processes, guards."""

from __future__ import annotations

import json
import multiprocessing
import warnings
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import modelyard.drift as drift
from modelyard.artifacts import ArtifactRef, ArtifactStore
from modelyard.errors import (
    IntegrityError,
    InvalidNameError,
    NotFoundError,
    TransitionRejected,
)
from modelyard.lifecycle import Lifecycle, drift_clean
from modelyard.registry import Evidence, Registry, SnapshotWarning, _events, _snapshots
from modelyard.registry._events import SCHEMA_VERSION
from modelyard.registry._references import registry_roots
from modelyard.storage import MemoryStore, Store
from modelyard.testing import FakeClock
from modelyard.yard import Yard, open_yard

from . import _evidence_workers
from ._tamper import edit_json, event_key

CTX = multiprocessing.get_context("spawn")


def _log_keys(store: Store, name: str = "churn") -> list[str]:
    return store.list(f"models/{name}/log/")


def test_attach_then_evidence_lists_typed_records_newest_first(
    registry: Registry, model_ref: ArtifactRef, clock: FakeClock
) -> None:
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    stored = registry.artifacts.put({"auc": 0.91}, name="churn-eval")
    first = registry.attach("churn/2", stored, kind="evaluation", note="holdout", actor="lee")
    clock.advance(minutes=5)
    second = registry.attach("churn@latest", b"report", kind="drift-report")
    third = registry.attach("churn/1", "artifacts:/churn-eval@latest", kind="evaluation")

    assert first == Evidence(
        model="churn",
        version=2,
        kind="evaluation",
        artifact=stored.id,
        actor="lee",
        at=first.at,
        note="holdout",
        seq=3,
    )
    assert second.version == 2 and second.actor == "ana" and second.at > first.at
    assert registry.artifacts.manifest(second.artifact).name == "churn-drift-report"
    assert third.artifact == stored.id and third.version == 1
    assert registry.evidence("churn/2") == [second, first]
    assert registry.evidence("churn@latest", kind="evaluation") == [first]
    assert registry.evidence("churn/1") == [third]
    assert registry.load_evidence(first) == {"auc": 0.91}
    assert registry.load_evidence(second) == b"report"
    # A fresh reader folds the same records from the log.
    fresh = Registry(registry.store, actor="zoe")
    assert fresh.evidence("churn/2") == [second, first]
    assert fresh.verify().ok


def test_history_shows_the_attach_event(registry: Registry, model_ref: ArtifactRef) -> None:
    registry.register("churn", model_ref)
    evidence = registry.attach("churn/1", b"x", kind="evaluation", note="why", actor="lee")
    entry = registry.history("churn", kinds={"evidence.attached"})[-1]
    assert (entry.kind, entry.actor, entry.reason, entry.version) == (
        "evidence.attached",
        "lee",
        "why",
        1,
    )
    assert dict(entry.data) == {"version": 1, "kind": "evaluation", "artifact": evidence.artifact}
    assert "evidence.attached v1 (why)" in str(entry)


@pytest.mark.parametrize(
    "kind", ["Drift-Report", "drift report", "drift_report", "", "-report", "report-", "a" * 65, 3]
)
def test_a_bad_kind_is_refused_before_anything_is_written(
    registry: Registry, model_ref: ArtifactRef, kind: Any
) -> None:
    registry.register("churn", model_ref)
    logs, blobs = _log_keys(registry.store), registry.store.list("")
    with pytest.raises(InvalidNameError, match="evidence kind"):
        registry.attach("churn/1", b"a new object", kind=kind)
    assert registry.store.list("") == blobs  # not even the object was stored
    assert _log_keys(registry.store) == logs


def test_a_missing_artifact_is_refused_before_writing(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    elsewhere = ArtifactStore(MemoryStore()).put(b"stored in another yard")
    logs = _log_keys(registry.store)
    with pytest.raises(NotFoundError, match="no artifact"):
        registry.attach("churn/1", elsewhere, kind="evaluation")
    with pytest.raises(NotFoundError):
        registry.attach("churn/1", elsewhere.id, kind="evaluation")
    assert _log_keys(registry.store) == logs
    assert registry.evidence("churn/1") == []


@pytest.mark.parametrize("ref", ["churn/7", "churn@champion", "fraud/1"])
def test_a_missing_version_is_refused_before_the_object_is_stored(
    registry: Registry, model_ref: ArtifactRef, ref: str
) -> None:
    registry.register("churn", model_ref)
    before = registry.store.list("")
    with pytest.raises(NotFoundError):
        registry.attach(ref, b"an object nobody stored yet", kind="evaluation")
    assert registry.store.list("") == before


def test_a_deleted_version_takes_no_new_evidence_but_keeps_its_old(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    kept = registry.attach("churn/1", b"x", kind="evaluation")
    registry.delete_version("churn", 1)
    with pytest.raises(NotFoundError, match="deleted"):
        registry.attach("churn/1", b"y", kind="evaluation")
    assert registry.evidence("churn/1") == [kept]


def test_evidence_survives_a_snapshot(store: Store, clock: FakeClock) -> None:
    registry = Registry(store, clock=clock, actor="ana", snapshot_every=2)
    registry.register("churn", b"weights")
    attached = [registry.attach("churn/1", bytes([i]), kind="evaluation") for i in range(5)]
    assert store.list("models/churn/snapshots/")  # the fold below starts from one
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a snapshot that did not match would warn
        fresh = Registry(store, actor="zoe")
        assert fresh.evidence("churn/1") == attached[::-1]
    assert fresh.verify().ok


def test_a_tampered_evidence_event_is_detected(registry: Registry, model_ref: ArtifactRef) -> None:
    registry.register("churn", model_ref)
    registry.attach("churn/1", b"x", kind="evaluation")
    edit_json(registry.store, event_key("churn", 2), lambda doc: doc["data"].update(kind="Eval"))
    with pytest.raises(IntegrityError, match=r"not a valid 'evidence\.attached' event"):
        Registry(registry.store).evidence("churn/1")


def test_only_evidence_needs_the_new_schema(store: Store) -> None:
    registry = Registry(store, actor="ana", snapshot_every=2)
    registry.register("churn", b"weights")
    registry.set_alias("churn", "champion", 1)
    registry.register("fraud", b"weights")
    registry.attach("churn@champion", b"x", kind="evaluation")
    registry.set_tag("churn", "team", "risk")
    schemas = [json.loads(store.read(event_key("churn", n)))["schema_version"] for n in (1, 2, 3)]
    assert schemas == [2, 2, 3] and SCHEMA_VERSION == 4
    snapshots = {k: json.loads(store.read(k)) for k in store.list("models/churn/snapshots/")}
    assert [doc["schema_version"] for doc in snapshots.values()] == [2, 3]
    assert Registry(store).evidence("churn/1")[0].kind == "evaluation"


def test_the_release_before_refuses_a_model_with_evidence_and_so_does_its_gc(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = Registry(store, actor="ana", snapshot_every=2)
    registry.register("churn", b"weights")
    registry.register("fraud", b"weights")
    registry.attach("churn/1", b"x", kind="evaluation")
    registry.set_tag("churn", "team", "risk")  # a snapshot now covers the attachment
    # The release before read events up to schema 2 and snapshots up to schema 2.
    monkeypatch.setattr(_events, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(_snapshots, "SNAPSHOT_SCHEMA_VERSION", 2)
    old = Registry(store, actor="ana")
    assert old.resolve("fraud@latest").version == 1  # models without evidence still read
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapshotWarning)
        with pytest.raises(IntegrityError, match="upgrade modelyard"):
            old.resolve("churn@latest")
        with pytest.raises(IntegrityError, match="upgrade modelyard"):
            registry_roots(store)  # so its gc deletes nothing


# -- gc ------------------------------------------------------------------------------------------


def test_gc_keeps_an_attached_artifact_and_its_ancestors(clock: FakeClock) -> None:
    yard = Yard(MemoryStore(), clock=clock, actor="ana")
    yard.registry.register("churn", b"weights")
    holdout = yard.artifacts.put(b"holdout rows")  # unnamed: only the attachment keeps it
    evaluation = yard.artifacts.put({"auc": 0.9}, parents=[holdout])
    scratch = yard.artifacts.put(b"scratch")
    yard.registry.attach("churn/1", evaluation, kind="evaluation")
    clock.advance(hours=2)
    report = yard.gc(grace=timedelta(0), dry_run=False, keep_named=False)
    assert report.artifacts == (scratch.id,)
    bare = ArtifactStore(yard.store, clock=clock)  # no registry object in this one
    assert bare.gc(grace=timedelta(0), dry_run=False, keep_named=False).artifacts == ()
    assert yard.artifacts.get(evaluation) == {"auc": 0.9}
    assert yard.artifacts.get(holdout) == b"holdout rows"


def test_yard_verify_reports_an_attached_artifact_that_went_missing(clock: FakeClock) -> None:
    yard = Yard(MemoryStore(), clock=clock, actor="ana")
    yard.registry.register("churn", b"weights")
    evaluation = yard.artifacts.put(b"evaluation")
    yard.registry.attach("churn/1", evaluation, kind="evaluation")
    assert yard.verify().ok
    hexdigest = evaluation.id.split(":", 1)[1]
    yard.store.delete(f"manifests/sha256/{hexdigest[:2]}/{hexdigest[2:]}")
    report = yard.verify()
    assert [(p.model, p.version, p.artifact, p.kind, p.evidence) for p in report.versions] == [
        ("churn", 1, evaluation.id, "missing-artifact", "evaluation")
    ]
    assert "attached to version 1 as 'evaluation'" in report.versions[0].detail


# -- other processes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_another_process_sees_an_attachment_and_attaches_its_own(tmp_path: Path) -> None:
    path = str(tmp_path / "yard")
    yard = open_yard(path, actor="ana")
    yard.registry.register("churn", b"weights")
    mine = yard.registry.attach("churn/1", b"mine", kind="evaluation", note="first")

    out = CTX.Queue()
    reader = CTX.Process(target=_evidence_workers.read_evidence, args=(path, "churn/1", out))
    reader.start()
    seen = out.get(timeout=120)
    reader.join(timeout=60)
    assert seen == [("evaluation", mine.artifact, "ana", "first")]

    writer = CTX.Process(
        target=_evidence_workers.attach,
        args=(path, "churn@latest", b"theirs", "drift-report", "nightly", out),
    )
    writer.start()
    theirs = out.get(timeout=120)
    writer.join(timeout=60)
    assert writer.exitcode == 0
    listed = yard.registry.evidence("churn/1")
    assert [(e.kind, e.artifact, e.actor, e.note) for e in listed] == [
        ("drift-report", theirs, "worker", "nightly"),
        ("evaluation", mine.artifact, "ana", "first"),
    ]


# -- guards read attached evidence ----------------------------------------------------------------


def _report(drifted: bool) -> drift.DriftReport:
    rng = np.random.default_rng(7)
    reference = rng.normal(size=(400, 2))
    current = reference + np.array([0.0, 3.0]) if drifted else reference.copy()
    return drift.compare(reference, current, stats=["psi", "ks"])


@pytest.fixture
def guarded(store: Store, clock: FakeClock) -> Registry:
    lifecycle = Lifecycle.default().with_guards("staging", "production", drift_clean())
    registry = Registry(store, clock=clock, actor="ana", lifecycle=lifecycle)
    registry.register("churn", b"weights")
    registry.transition("churn", 1, "staging")
    return registry


def test_the_drift_guard_judges_the_latest_attached_report(guarded: Registry) -> None:
    with pytest.raises(TransitionRejected, match="attach one to the version"):
        guarded.transition("churn", 1, "production")
    guarded.attach("churn/1", _report(drifted=True), kind="drift-report")
    with pytest.raises(TransitionRejected, match=r"drift detected in 1 column: 1"):
        guarded.transition("churn", 1, "production")
    guarded.attach("churn/1", _report(drifted=False), kind="drift-report", note="retrained")
    moved = guarded.transition("churn", 1, "production", reason="clean now")
    assert moved.state == "production"
    assert guarded.history("churn")[-1].results[0].reason == "the drift report is clean"


def test_a_report_passed_with_the_transition_wins_over_an_attached_one(
    guarded: Registry,
) -> None:
    guarded.attach("churn/1", _report(drifted=False), kind="drift-report")
    passed = SimpleNamespace(drifted=["age"])
    with pytest.raises(TransitionRejected, match="drift detected in 1 column: age"):
        guarded.transition("churn", 1, "production", context={"drift_report": passed})


def test_evidence_of_another_version_or_kind_is_not_read(guarded: Registry) -> None:
    guarded.register("churn", b"weights 2")
    guarded.attach("churn/2", _report(drifted=False), kind="drift-report")
    guarded.attach("churn/1", _report(drifted=False), kind="evaluation")
    with pytest.raises(TransitionRejected, match="no drift report"):
        guarded.transition("churn", 1, "production")


def test_a_guard_can_refuse_attached_evidence(store: Store, clock: FakeClock) -> None:
    only_passed = drift_clean(evidence=None)
    lifecycle = Lifecycle.default().with_guards("development", "staging", only_passed)
    registry = Registry(store, clock=clock, actor="ana", lifecycle=lifecycle)
    registry.register("churn", b"weights")
    registry.attach("churn/1", _report(drifted=False), kind="drift-report")
    with pytest.raises(TransitionRejected, match="no drift report"):
        registry.transition("churn", 1, "staging")


def test_a_drift_report_round_trips_as_an_artifact() -> None:
    artifacts = ArtifactStore(MemoryStore())
    report = _report(drifted=True)
    ref = artifacts.put(report)
    assert artifacts.manifest(ref).codec == "self-describing"
    assert artifacts.get(ref) == report
