"""The lifecycle and the roles are stored in the yard, and every writer obeys them.

Each enforcement rule is also tried from a second, real process that was opened without the
stored lifecycle or with another one: it must not be able to bypass the stored definition.
"""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import (
    InputError,
    IntegrityError,
    LifecycleDefinitionError,
    LifecycleMismatchError,
    NotAuthorizedError,
    TransitionRejected,
)
from modelyard.lifecycle import (
    GuardResult,
    Lifecycle,
    Transition,
    as_guard,
    guard,
    metric_at_least,
    register_guard,
    require_approvals,
    require_role,
)
from modelyard.registry import Registry
from modelyard.storage import LocalStore, MemoryStore, Store
from tests.registry import _governance_workers as workers

GATED = Lifecycle.default().with_guards("staging", "production", require_approvals(2))


def _promotable(registry: Registry) -> None:
    registry.register("churn", b"weights v1", metrics={"auc": 0.9, "rows": 500})
    registry.transition("churn", 1, "staging")


def _log_keys(store: Store) -> list[str]:
    return [k for k in store.list("models/churn/log/")]


# -- the lifecycle is stored -----------------------------------------------------------------------


def test_the_first_write_stores_the_lifecycle_in_use(registry: Registry) -> None:
    assert registry.governance_history() == []
    registry.register("churn", b"weights")
    (entry,) = registry.governance_history()
    assert (entry.kind, entry.actor, entry.model) == ("lifecycle.set", "ana", None)
    assert entry.data["before"] is None
    assert Lifecycle.from_dict(entry.data["after"]) == Lifecycle.default()
    # Later writes store nothing more.
    registry.register("churn", b"weights 2")
    registry.register("fraud", b"weights")
    assert len(registry.governance_history()) == 1


def test_a_yard_written_before_lifecycles_were_stored_migrates_at_its_next_write(
    store: Store,
) -> None:
    old = Registry(store, lifecycle=GATED, actor="ana")
    _promotable(old)
    for key in store.list("governance/"):  # what a yard written by an earlier modelyard lacks
        store.delete(key)
    # Opened with its lifecycle, as before: it is stored at the first write, with no step.
    Registry(store, lifecycle=GATED, actor="ana").set_tag("churn", "team", "risk")
    stored = Registry(store, actor="bob")
    assert stored.lifecycle("churn") == GATED
    with pytest.raises(TransitionRejected, match="0 of 2 required approvals"):
        stored.transition("churn", 1, "production")


def test_a_writer_opened_without_the_lifecycle_obeys_the_stored_one(store: Store) -> None:
    # The scenario of the issue: the lifecycle lived only in the caller's code, and opening the
    # yard without it moved a version to production with no approval.
    _promotable(Registry(store, lifecycle=GATED, actor="ana"))
    head = len(_log_keys(store))
    careless = Registry(store, actor="mallory")
    with pytest.raises(TransitionRejected, match="0 of 2 required approvals"):
        careless.transition("churn", 1, "production")
    assert len(_log_keys(store)) == head


def test_a_writer_opened_with_another_lifecycle_is_refused_before_writing(store: Store) -> None:
    _promotable(Registry(store, lifecycle=GATED, actor="ana"))
    head = len(_log_keys(store))
    other = Registry(store, lifecycle=Lifecycle.default(), actor="mallory")
    for write in (
        lambda: other.transition("churn", 1, "production"),
        lambda: other.register("churn", b"v2"),
        lambda: other.set_tag("churn", "k", "v"),
        lambda: other.set_alias("churn", "champion", 1),
    ):
        with pytest.raises(LifecycleMismatchError) as info:
            write()
        message = str(info.value)
        assert "set by ana" in message
        assert "transition staging -> production differs" in message
        assert "registry.set_lifecycle(" in message
        assert isinstance(info.value, ValueError)
    assert len(_log_keys(store)) == head


def test_a_writer_opened_with_the_stored_lifecycle_writes(store: Store) -> None:
    _promotable(Registry(store, lifecycle=GATED, actor="ana"))
    same = Lifecycle.default().with_guards("staging", "production", require_approvals(2))
    assert Registry(store, lifecycle=same, actor="lee").register("churn", b"v2").version == 2


@pytest.mark.parametrize("opened_with", ["nothing", "another lifecycle"])
def test_a_second_process_cannot_bypass_the_stored_lifecycle(
    tmp_path: Path, opened_with: str
) -> None:
    path = str(tmp_path / "yard")
    _promotable(Registry(LocalStore(path, durable=False), lifecycle=GATED, actor="ana"))
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    lifecycle = None if opened_with == "nothing" else Lifecycle.default()
    worker = ctx.Process(target=workers.try_promote, args=(path, lifecycle, 1, out))
    worker.start()
    worker.join(timeout=120)
    result = out.get(timeout=5)
    expected = "TransitionRejected" if lifecycle is None else "LifecycleMismatchError"
    assert result.startswith(expected), result
    registry = Registry(LocalStore(path, durable=False), actor="ana")
    assert registry.version("churn", 1).state == "staging"
    assert [e.kind for e in registry.history("churn")] == ["version.registered", "transition"]


@pytest.mark.slow
def test_processes_racing_to_a_yards_first_write_store_one_lifecycle(tmp_path: Path) -> None:
    path = str(tmp_path / "yard")
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(target=workers.first_write, args=(path, GATED, w, barrier, out))
        for w in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    results = sorted(out.get(timeout=5) for _ in procs)
    assert results == [(0, "registered"), (1, "registered"), (2, "registered")]
    history = Registry(LocalStore(path, durable=False)).governance_history()
    assert [e.kind for e in history] == ["lifecycle.set"]


@pytest.mark.slow
def test_processes_with_different_lifecycles_racing_to_the_first_write(tmp_path: Path) -> None:
    path = str(tmp_path / "yard")
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=workers.first_write, args=(path, lc, w, barrier, out))
        for w, lc in enumerate([GATED, Lifecycle.default()])
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    results = dict(out.get(timeout=5) for _ in procs)
    # Whichever stored its lifecycle first governs; the other is refused.
    assert sorted(results.values()) == ["LifecycleMismatchError", "registered"]


def test_a_lifecycle_function_stores_each_models_lifecycle_at_its_first_write(
    store: Store,
) -> None:
    def per_model(name: str) -> Lifecycle:
        return GATED if name == "churn" else Lifecycle.default()

    registry = Registry(store, lifecycle=per_model, actor="ana")
    registry.register("churn", b"w")
    registry.register("fraud", b"w")
    plain = Registry(store, actor="bob")
    assert plain.lifecycle("churn") == GATED
    assert plain.lifecycle("fraud") == Lifecycle.default()
    assert [e.model for e in plain.governance_history()] == ["churn", "fraud"]


def test_a_lifecycle_that_cannot_be_stored_is_refused_before_anything_is_written(
    store: Store,
) -> None:
    def owner_set(ctx: Any) -> GuardResult:
        return GuardResult.passed("ok")

    adhoc = Lifecycle.default().with_guards("staging", "production", as_guard(owner_set))
    registry = Registry(store, lifecycle=adhoc, actor="ana")
    with pytest.raises(LifecycleDefinitionError, match="register_guard"):
        registry.register("churn", b"weights")
    assert store.list("models/") == [] and store.list("governance/") == []


# -- changing the stored lifecycle -------------------------------------------------------------


def test_set_lifecycle_is_an_audited_event_with_the_definitions_before_and_after(
    registry: Registry,
) -> None:
    _promotable(registry)
    entry = registry.set_lifecycle(GATED, actor="lee", reason="two approvals for production")
    assert (entry.kind, entry.actor, entry.reason) == (
        "lifecycle.set",
        "lee",
        "two approvals for production",
    )
    assert Lifecycle.from_dict(entry.data["before"]) == Lifecycle.default()
    assert Lifecycle.from_dict(entry.data["after"]) == GATED
    assert registry.lifecycle("churn") == GATED
    with pytest.raises(TransitionRejected):
        registry.transition("churn", 1, "production")
    # Setting what is in force again writes nothing and returns the event that set it.
    again = registry.set_lifecycle(GATED, actor="bob")
    assert again.seq == entry.seq and len(registry.governance_history()) == 2


def test_a_models_own_lifecycle_overrides_the_default_until_removed(registry: Registry) -> None:
    _promotable(registry)
    registry.register("fraud", b"w")
    registry.set_lifecycle(GATED, model="churn", reason="regulated")
    assert registry.lifecycle("churn") == GATED
    assert registry.lifecycle("fraud") == Lifecycle.default()
    registry.set_lifecycle(None, model="churn", reason="back to the default")
    assert registry.lifecycle("churn") == Lifecycle.default()
    events = len(registry.governance_history())
    with pytest.raises(InputError, match="has no lifecycle of its own to remove"):
        registry.set_lifecycle(None, model="churn")
    assert len(registry.governance_history()) == events
    assert registry.transition("churn", 1, "production").state == "production"


def test_a_models_lifecycle_must_define_the_states_its_versions_are_in(
    registry: Registry,
) -> None:
    _promotable(registry)
    tiny = Lifecycle(["development", "live"], "development", [Transition("development", "live")])
    with pytest.raises(Exception, match="'staging', which the new lifecycle does not define"):
        registry.set_lifecycle(tiny, model="churn")
    assert registry.lifecycle("churn") == Lifecycle.default()


def test_changing_a_lifecycle_can_require_approvals(registry: Registry) -> None:
    amended = Lifecycle.default().evolve(
        amend=[require_approvals(2, roles={"admin"}, exclude_requester=True)]
    )
    registry.grant_role("admin", "ana")
    registry.grant_role("admin", "lee")
    registry.grant_role("admin", "kim")
    registry.set_lifecycle(amended, reason="changes need two other admins")
    with pytest.raises(TransitionRejected, match="0 of 2 required approvals") as info:
        registry.set_lifecycle(GATED, reason="gate production")
    assert "approve_lifecycle" in str(info.value)
    registry.approve_lifecycle(GATED, actor="lee", role="admin")
    registry.approve_lifecycle(GATED, actor="ana", role="admin")  # the requester: not counted
    with pytest.raises(TransitionRejected, match="1 of 2"):
        registry.set_lifecycle(GATED, reason="gate production")
    # An approval of another change does not count for this one.
    registry.approve_lifecycle(Lifecycle.default(), actor="kim", role="admin")
    with pytest.raises(TransitionRejected, match="1 of 2"):
        registry.set_lifecycle(GATED, reason="gate production")
    registry.approve_lifecycle(GATED, actor="kim", role="admin")
    entry = registry.set_lifecycle(GATED, reason="gate production")
    assert [r["ok"] for r in entry.data["results"]] == [True]
    assert registry.lifecycle() == GATED


# -- roles ----------------------------------------------------------------------------------------


def test_once_there_is_an_admin_only_admins_change_governance(registry: Registry) -> None:
    registry.grant_role("release", "lee")  # no admin yet: anyone may (bootstrap)
    registry.grant_role("admin", "ana")
    with pytest.raises(
        NotAuthorizedError, match="'lee' cannot change roles: they do not hold the role 'admin'"
    ):
        registry.grant_role("release", "bob", actor="lee")
    with pytest.raises(NotAuthorizedError, match="cannot change a lifecycle"):
        registry.set_lifecycle(GATED, actor="lee")
    with pytest.raises(Exception, match="last admin"):
        registry.revoke_role("admin", "ana")
    registry.grant_role("admin", "kim", reason="second admin")
    registry.revoke_role("admin", "ana", actor="kim")
    assert registry.roles() == {"admin": ["kim"], "release": ["lee"]}
    assert registry.grant_role("release", "Lee ", actor="kim") is None  # the same person
    kinds = [e.kind for e in registry.governance_history()]
    assert kinds == ["role.granted"] * 3 + ["role.revoked"]
    assert isinstance(NotAuthorizedError("x"), PermissionError)


def test_a_transition_can_require_its_actor_to_hold_a_role(store: Store) -> None:
    release = Lifecycle.default().with_guards("staging", "production", require_role("release"))
    registry = Registry(store, lifecycle=release, actor="ana")
    _promotable(registry)
    registry.grant_role("admin", "ana")
    registry.grant_role("release", "lee")
    with pytest.raises(TransitionRejected, match="release"):
        registry.transition("churn", 1, "production", actor="ci-bot")
    assert registry.transition("churn", 1, "production", actor="lee").state == "production"
    registry.revoke_role("release", "lee")
    registry.transition("churn", 1, "staging", actor="lee")
    with pytest.raises(TransitionRejected):
        registry.transition("churn", 1, "production", actor="lee")


def test_approvals_count_for_a_role_only_while_its_approver_holds_it(store: Store) -> None:
    qa = Lifecycle.default().with_guards(
        "staging", "production", require_approvals(2, roles={"qa"})
    )
    registry = Registry(store, lifecycle=qa, actor="ana")
    _promotable(registry)
    registry.grant_role("qa", "lee")
    registry.grant_role("qa", "kim")
    with pytest.raises(NotAuthorizedError, match="'bob' cannot approve as 'qa'"):
        registry.approve("churn", 1, "production", actor="bob", role="qa")
    registry.approve("churn", 1, "production", actor="lee", role="qa")
    registry.approve("churn", 1, "production", actor="kim", role="qa")
    registry.revoke_role("qa", "kim")
    with pytest.raises(TransitionRejected, match="1 of 2"):
        registry.transition("churn", 1, "production")
    registry.grant_role("qa", "kim")
    assert registry.transition("churn", 1, "production").state == "production"


def test_before_any_role_is_granted_claimed_roles_count_as_before(registry: Registry) -> None:
    qa = Lifecycle.default().with_guards(
        "staging", "production", require_approvals(1, roles={"qa"}, max_age=timedelta(days=1))
    )
    registry.set_lifecycle(qa)
    _promotable(registry)
    registry.approve("churn", 1, "production", actor="lee", role="qa")
    assert registry.transition("churn", 1, "production").state == "production"


# -- guards by name ------------------------------------------------------------------------------


def test_a_process_without_a_stored_guards_code_refuses_the_transition(tmp_path: Path) -> None:
    register_guard("tests.min_rows", workers._min_rows, replace=True)
    path = str(tmp_path / "yard")
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", guard("tests.min_rows", rows=100)
    )
    _promotable(Registry(LocalStore(path, durable=False), lifecycle=lifecycle, actor="ana"))
    ctx = multiprocessing.get_context("spawn")
    results = []
    for registered in (False, True):
        out = ctx.Queue()
        p = ctx.Process(target=workers.promote_with_guard_code, args=(path, registered, out))
        p.start()
        p.join(timeout=120)
        results.append(out.get(timeout=5))
    missing, present = results
    assert missing.startswith("TransitionRejected") and "tests.min_rows" in missing, missing
    assert present == "moved"


def test_stored_metric_guards_apply_in_a_registry_that_never_saw_them(store: Store) -> None:
    Registry(store, actor="ana").set_lifecycle(
        Lifecycle.default().with_guards("staging", "production", metric_at_least("auc", 0.95))
    )
    registry = Registry(store, actor="bob")
    _promotable(registry)
    with pytest.raises(TransitionRejected, match=r"auc = 0.9 < 0.95"):
        registry.transition("churn", 1, "production")


# -- the governance log verifies itself ---------------------------------------------------------


def _edit(store: Store, key: str, change: Any) -> None:
    doc = json.loads(store.read(key))
    change(doc)
    store.write(key, json.dumps(doc).encode())


def test_an_edited_governance_event_is_refused(store: Store) -> None:
    registry = Registry(store, lifecycle=GATED, actor="ana")
    _promotable(registry)
    registry.grant_role("admin", "ana")

    def drop_guards(doc: dict[str, Any]) -> None:
        for t in doc["data"]["after"]["transitions"]:
            t["approvals"], t["guards"] = 0, []

    _edit(store, "governance/log/000000000001.json", drop_guards)
    with pytest.raises(IntegrityError, match=r"governance/log/000000000002\.json"):
        Registry(store, actor="mallory").transition("churn", 1, "production")


def test_a_hole_in_the_governance_log_is_refused(store: Store) -> None:
    registry = Registry(store, actor="ana")
    registry.register("churn", b"w")
    registry.grant_role("admin", "ana")
    registry.grant_role("release", "lee")
    store.delete("governance/log/000000000002.json")  # remove the admin grant
    with pytest.raises(IntegrityError, match=r"000000000002\.json is missing"):
        Registry(store, actor="mallory").grant_role("release", "mallory")


def test_a_governance_event_of_a_newer_modelyard_asks_to_upgrade(registry: Registry) -> None:
    registry.register("churn", b"w")
    store = registry.store
    _edit(store, "governance/log/000000000001.json", lambda d: d.update(schema_version=99))
    with pytest.raises(IntegrityError, match="upgrade modelyard"):
        Registry(store, actor="bob").register("churn", b"w")


def test_a_governance_log_on_memory_and_local_is_the_same(tmp_path: Path) -> None:
    for store in (MemoryStore(), LocalStore(tmp_path / "y", durable=False)):
        registry = Registry(store, lifecycle=GATED, actor="ana")
        registry.register("churn", b"w")
        assert store.list("governance/") == ["governance/log/000000000001.json"]


def test_a_second_process_cannot_get_round_the_stored_roles(tmp_path: Path) -> None:
    path = str(tmp_path / "yard")
    release = Lifecycle.default().with_guards(
        "staging", "production", require_role("release"), require_approvals(1, roles={"qa"})
    )
    admin = Registry(LocalStore(path, durable=False), lifecycle=release, actor="ana")
    _promotable(admin)
    admin.grant_role("admin", "ana")
    admin.grant_role("release", "lee")
    admin.grant_role("qa", "kim")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    worker = ctx.Process(target=workers.try_everything, args=(path, out))
    worker.start()
    worker.join(timeout=120)
    results = dict(out.get(timeout=5) for _ in range(5))
    assert results == {
        "grant itself release": "NotAuthorizedError",
        "approve as qa": "NotAuthorizedError",
        "promote": "TransitionRejected",
        "relax the lifecycle": "NotAuthorizedError",
        "revoke the admin": "NotAuthorizedError",
    }
    after = Registry(LocalStore(path, durable=False), actor="ana")
    assert after.roles() == {"admin": ["ana"], "qa": ["kim"], "release": ["lee"]}
    assert after.version("churn", 1).state == "staging"
    assert after.lifecycle("churn") == release
