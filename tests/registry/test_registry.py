"""Registry behaviour: versions, aliases, tags, lifecycle, history, search, listeners."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest

from modelyard.artifacts import ArtifactRef
from modelyard.errors import (
    ConcurrentModificationError,
    InputError,
    NotFoundError,
    TransitionRejected,
)
from modelyard.lifecycle import Lifecycle, Transition, metric_at_least
from modelyard.registry import Registry, RegistryEvent
from modelyard.storage import LocalStore
from modelyard.testing import FakeClock


def test_versions_are_numbered_from_one_and_hold_their_metadata(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    first = registry.register(
        "churn", model_ref, metrics={"auc": 0.91}, params={"C": 1.0}, tags={"team": "risk"},
        description="baseline",
    )  # fmt: skip
    second = registry.register("churn", model_ref.id)
    assert (first.version, second.version) == (1, 2)
    assert first.artifact == model_ref.id
    assert first.state == "development"
    assert dict(first.metrics) == {"auc": 0.91}
    assert dict(first.params) == {"C": 1.0}
    assert dict(first.tags) == {"team": "risk"}
    assert first.description == "baseline"
    assert first.created_by == "ana"
    assert registry.version("churn", 1).aliases == ()
    assert registry.version("churn", 2).aliases == ("latest",)
    assert [v.version for v in registry.versions("churn")] == [1, 2]


def test_register_an_object_stores_it_as_an_artifact_with_lineage(registry: Registry) -> None:
    data = registry.artifacts.put([1, 2, 3], name="train")
    model = registry.artifacts.put({"w": 1}, name="m", parents=[data])
    mv = registry.register("churn", model)
    assert mv.lineage == (data.id,)
    direct = registry.register("churn", {"w": 2})
    assert registry.load(direct.ref) == {"w": 2}
    assert registry.artifacts.manifest(direct.artifact).name == "churn"


def test_load_and_resolve_by_alias_version_and_latest(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    other = registry.artifacts.put({"weights": [1.0]}, name="churn-model")
    registry.register("churn", other)
    registry.set_alias("churn", "champion", 1)
    assert registry.load("churn@champion") == {"weights": [0.25, 0.5]}
    assert registry.load("churn/2") == {"weights": [1.0]}
    assert registry.load("churn@latest") == {"weights": [1.0]}
    assert registry.resolve("churn@champion").aliases == ("champion",)
    assert registry.aliases("churn") == {"champion": 1, "latest": 2}


def test_alias_moves_and_compare_and_set(registry: Registry, model_ref: ArtifactRef) -> None:
    for _ in range(3):
        registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1, expected=None)
    registry.set_alias("churn", "champion", 2, expected=1)
    head = registry.model("churn").head
    with pytest.raises(ConcurrentModificationError) as info:
        registry.set_alias("churn", "champion", 3, expected=1)
    assert info.value.actual == 2
    assert registry.model("churn").head == head  # nothing written
    with pytest.raises(ConcurrentModificationError):
        registry.set_alias("churn", "champion", 3, expected=None)
    registry.delete_alias("churn", "champion", expected=2)
    assert "champion" not in registry.aliases("churn")
    with pytest.raises(InputError):
        registry.set_alias("churn", "latest", 1)


def test_tags_on_models_and_versions(registry: Registry, model_ref: ArtifactRef) -> None:
    registry.register("churn", model_ref)
    registry.set_tag("churn", "owner", "risk-team")
    registry.set_tag("churn", "validated", "yes", version=1)
    assert dict(registry.model("churn").tags) == {"owner": "risk-team"}
    assert dict(registry.version("churn", 1).tags) == {"validated": "yes"}
    registry.delete_tag("churn", "validated", version=1)
    assert dict(registry.version("churn", 1).tags) == {}
    with pytest.raises(NotFoundError):
        registry.delete_tag("churn", "validated", version=1)


def test_descriptions_and_soft_delete(registry: Registry, model_ref: ArtifactRef) -> None:
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    registry.set_description("churn", "predicts churn")
    registry.set_description("churn", "retrained", version=2)
    assert registry.model("churn").description == "predicts churn"
    assert registry.version("churn", 2).description == "retrained"
    registry.delete_version("churn", 2, reason="bad data")
    assert [v.version for v in registry.versions("churn")] == [1]
    assert registry.version("churn", 2).deleted
    assert registry.resolve("churn@latest").version == 1
    with pytest.raises(NotFoundError):
        registry.transition("churn", 2, "staging")
    assert registry.register("churn", model_ref).version == 3  # numbers are never reused


def test_delete_refuses_a_version_behind_an_alias(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1)
    with pytest.raises(InputError, match="champion"):
        registry.delete_version("churn", 1)


def test_promotion_displaces_the_production_holder(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    for _ in range(2):
        registry.register("churn", model_ref)
    for version in (1, 2):
        registry.transition("churn", version, "staging", reason="eval passed")
        registry.transition("churn", version, "production", actor="lee")
    assert registry.version("churn", 2).state == "production"
    assert registry.version("churn", 1).state == "archived"
    assert [v.version for v in registry.search(state="production")] == [2]
    last = registry.history("churn", kinds={"transition"})[-1]
    assert [(c.version, c.source, c.target) for c in last.changes] == [
        (2, "staging", "production"),
        (1, "production", "archived"),
    ]
    assert last.actor == "lee"


def test_rejected_transition_explains_and_writes_nothing(
    store: object, clock: FakeClock, model_ref: ArtifactRef, registry: Registry
) -> None:
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", metric_at_least("auc", 0.9)
    )
    guarded = Registry(registry.store, registry.artifacts, lifecycle=lifecycle, clock=clock)
    guarded.register("churn", model_ref, metrics={"auc": 0.8})
    guarded.transition("churn", 1, "staging")
    head = guarded.model("churn").head
    with pytest.raises(TransitionRejected) as info:
        guarded.transition("churn", 1, "production")
    assert "auc" in str(info.value)
    assert [r.ok for r in info.value.results] == [False]
    with pytest.raises(InputError, match="state"):
        guarded.transition("churn", 1, "retired")  # not a state of the lifecycle
    assert guarded.model("churn").head == head  # nothing written
    guarded.register("churn", model_ref, metrics={"auc": 0.95})
    with pytest.raises(TransitionRejected, match="development"):
        guarded.transition("churn", 2, "production")  # development -> production is not allowed
    assert guarded.model("churn").head == head + 1  # only the second register was written


def test_approvals_by_distinct_actors(registry: Registry, model_ref: ArtifactRef) -> None:
    lifecycle = Lifecycle(
        states=["dev", "prod"],
        initial="dev",
        transitions=[Transition("dev", "prod", approvals=2), Transition("prod", "dev")],
        exclusive={"prod": "dev"},
    )
    reg = Registry(registry.store, registry.artifacts, lifecycle=lifecycle, clock=registry.clock)
    reg.register("churn", model_ref)
    reg.approve("churn", 1, "prod", actor="lee", comment="looks good")
    reg.approve("churn", 1, "prod", actor="lee")  # the same person twice counts once
    with pytest.raises(TransitionRejected, match="approv"):
        reg.transition("churn", 1, "prod", actor="ana")
    reg.approve("churn", 1, "prod", actor="kim")
    assert reg.transition("churn", 1, "prod", actor="ana").state == "prod"
    entry = reg.history("churn", kinds={"transition"})[-1]
    assert entry.results and all(r.ok for r in entry.results)


def test_rollback_restores_the_previous_holder(registry: Registry, model_ref: ArtifactRef) -> None:
    for version in (1, 2):
        registry.register("churn", model_ref)
        registry.transition("churn", version, "staging")
        registry.transition("churn", version, "production")
    restored = registry.rollback("churn", "production", actor="lee", reason="incident 42")
    assert restored.version == 1 and restored.state == "production"
    assert registry.version("churn", 2).state == "archived"
    entry = registry.history("churn")[-1]
    assert entry.kind == "rollback" and entry.reason == "incident 42" and entry.actor == "lee"


def test_state_at_answers_what_was_in_production(
    registry: Registry, model_ref: ArtifactRef, clock: FakeClock
) -> None:
    registry.register("churn", model_ref)
    registry.transition("churn", 1, "staging")
    registry.transition("churn", 1, "production")
    t1 = clock.now()
    clock.advance(hours=1)
    registry.register("churn", model_ref)
    registry.transition("churn", 2, "staging")
    clock.advance(hours=1)
    registry.transition("churn", 2, "production")
    registry.set_alias("churn", "champion", 2)
    then = registry.state_at("churn", t1)
    assert then.holders("production") == (1,)
    assert then.state_of(2) is None
    now = registry.state_at("churn", clock.now())
    assert now.holders("production") == (2,)
    assert now.state_of(1) == "archived"
    assert now.aliases["champion"] == 2
    before = registry.state_at("churn", t1 - timedelta(days=1))
    assert before.versions == ()


def test_history_records_who_when_what_and_why(registry: Registry, model_ref: ArtifactRef) -> None:
    registry.register("churn", model_ref, actor="ana")
    registry.transition("churn", 1, "staging", actor="lee", reason="offline eval passed")
    kinds = [e.kind for e in registry.history("churn")]
    assert kinds == ["version.registered", "transition"]
    entry = registry.history("churn")[1]
    assert (entry.actor, entry.reason, entry.source, entry.target) == (
        "lee", "offline eval passed", "development", "staging",
    )  # fmt: skip
    assert "lee" in str(entry) and "development -> staging" in str(entry)


def test_search_filters_and_orders(registry: Registry, model_ref: ArtifactRef) -> None:
    for name, auc, team in [("churn", 0.7, "risk"), ("churn", 0.9, "risk"), ("fraud", 0.95, "ops")]:
        registry.register(name, model_ref, metrics={"auc": auc}, tags={"team": team})
        registry.clock.advance(seconds=1)  # type: ignore[attr-defined]
    registry.register("fraud", model_ref, tags={"team": "ops"})
    registry.set_tag("fraud", "domain", "payments")
    assert [v.ref for v in registry.search(tags={"team": "risk"})] == ["churn/2", "churn/1"]
    assert [v.ref for v in registry.search(min_metrics={"auc": 0.8})] == ["fraud/1", "churn/2"]
    assert [v.ref for v in registry.search(max_metrics={"auc": 0.8})] == ["churn/1"]
    assert [v.ref for v in registry.search("fr*")] == ["fraud/2", "fraud/1"]
    assert [v.ref for v in registry.search(model_tags={"domain": "payments"})] == [
        "fraud/2", "fraud/1",
    ]  # fmt: skip
    ordered = registry.search(order_by="metrics.auc")
    assert [v.ref for v in ordered] == ["fraud/1", "churn/2", "churn/1", "fraud/2"]
    assert [v.ref for v in registry.search(alias="latest", order_by="name", descending=False)] == [
        "churn/2", "fraud/2",
    ]  # fmt: skip
    assert registry.search(limit=1)[0].ref == "fraud/2"
    with pytest.raises(InputError):
        registry.search(order_by="size")


def test_models_lists_every_model(registry: Registry, model_ref: ArtifactRef) -> None:
    registry.register("b-model", model_ref)
    registry.register("a-model", model_ref)
    registry.register("a-model", model_ref)
    models = registry.models()
    assert [(m.name, m.version_count, m.latest_version) for m in models] == [
        ("a-model", 2, 2),
        ("b-model", 1, 1),
    ]


def test_listeners_run_after_commit_and_cannot_break_the_write(
    registry: Registry, model_ref: ArtifactRef, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, int]] = []

    def listener(event: RegistryEvent) -> None:
        # The event is already committed: a fresh registry on the same store sees it.
        fresh = Registry(registry.store, registry.artifacts)
        seen.append((event.kind, fresh.model(event.model).head))

    def broken(event: RegistryEvent) -> None:
        raise RuntimeError("hook down")

    transitions = []
    unsubscribe = registry.subscribe(listener)
    registry.subscribe(broken)
    registry.on_transition(transitions.append)
    with caplog.at_level(logging.ERROR, logger="modelyard.registry"):
        registry.register("churn", model_ref)
        registry.transition("churn", 1, "staging")
    assert seen == [("version.registered", 1), ("transition", 2)]
    assert "hook down" in caplog.text
    assert [t.changes[0].target for t in transitions] == ["staging"]
    unsubscribe()
    registry.register("churn", model_ref)
    assert len(seen) == 2


def test_reads_stay_bounded_by_snapshots(tmp_path: object, model_ref: ArtifactRef) -> None:
    class CountingStore(LocalStore):
        reads = 0

        def read(self, key: str) -> bytes:
            CountingStore.reads += 1
            return super().read(key)

    store = CountingStore(tmp_path / "counted", durable=False)  # type: ignore[operator]
    writer = Registry(store, snapshot_every=32)
    ref = writer.artifacts.put(b"model", name="m")
    counts = []
    registered = 0
    for target in (40, 300):
        while registered < target:
            writer.register("m2", ref)
            registered += 1
        fresh = Registry(store, snapshot_every=32)
        CountingStore.reads = 0
        fresh.resolve("m2@latest")
        counts.append(CountingStore.reads)
        # A fold started from a snapshot equals the writer's fold of every event.
        assert fresh.versions("m2") == writer.versions("m2")
    assert counts[0] <= 34 and counts[1] <= 34, counts


def test_registry_is_safe_to_share_between_threads(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    versions: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(10):
            mv = registry.register("churn", model_ref)
            with lock:
                versions.append(mv.version)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == list(range(1, 41))
    assert [v.version for v in registry.versions("churn")] == list(range(1, 41))


def test_a_stale_cache_never_refuses_a_valid_command(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    other = Registry(registry.store, registry.artifacts)  # another process, in effect
    registry.register("churn", model_ref)
    assert other.versions("churn")[-1].version == 1  # `other` now caches head 1
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 2)
    # `other` has not seen version 2 or the alias: both commands must still succeed.
    assert other.set_alias("churn", "champion", 1, expected=2).version == 1
    assert other.transition("churn", 2, "staging").state == "staging"
    assert registry.aliases("churn")["champion"] == 1
    assert registry.version("churn", 2).state == "staging"
