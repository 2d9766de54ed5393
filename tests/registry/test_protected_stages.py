"""Protected stages: who may change their holders is decided by the store's permissions.

A principal that can write ``models/`` but not ``stages/production/`` (what an S3 bucket policy
gives a CI role, docs/trust.md) must not be able to make a version the production holder, nor
swap the artifact behind it, whether it goes through modelyard or writes files by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import IntegrityError, StoreError
from modelyard.lifecycle import Lifecycle, StateChange, require_role
from modelyard.registry import Registry
from modelyard.registry._events import ModelIdentity, TagSet, Transitioned
from modelyard.registry._layout import log_key, snapshot_key
from modelyard.registry._log import EventLog
from modelyard.registry._snapshots import encode_snapshot
from modelyard.storage import LocalStore, MemoryStore, Store

PROTECTED = (
    Lifecycle.default()
    .with_guards("staging", "production", require_role("release"))
    .evolve(protected={"production"})
)


class _CiStore(LocalStore):
    """A store as a CI role sees it under a bucket policy: no writes under stages/ or
    governance/ (the store answers AccessDenied)."""

    def _refuse(self, key: str) -> None:
        if key.startswith(("stages/", "governance/")):
            raise StoreError(f"access denied to {key}", key=key, reason="AccessDenied")

    def create(self, key: str, data: Any) -> None:
        self._refuse(key)
        super().create(key, data)

    def write(self, key: str, data: Any) -> None:
        self._refuse(key)
        super().write(key, data)


@pytest.fixture
def yard(tmp_path: Path) -> Path:
    """A yard whose admin stored PROTECTED; version 1 in production, version 2 in staging."""
    root = tmp_path / "yard"
    admin = Registry(LocalStore(root, durable=False), lifecycle=PROTECTED, actor="ana")
    admin.grant_role("admin", "ana")
    admin.grant_role("release", "lee")
    for n in (1, 2):
        admin.register("churn", f"weights v{n}".encode())
        admin.transition("churn", n, "staging")
    admin.transition("churn", 1, "production", actor="lee")
    return root


def _signs(store: Store) -> list[str]:
    return store.list("stages/production/churn/")


def test_changes_of_a_protected_stage_are_countersigned(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    registry = Registry(store, actor="lee")
    assert len(_signs(store)) == 1
    registry.transition("churn", 2, "production")  # v2 in, v1 displaced: one countersign
    registry.rollback("churn", "production", reason="v2 misbehaves")
    assert len(_signs(store)) == 3
    registry.set_tag("churn", "team", "risk")  # does not touch the stage
    assert len(_signs(store)) == 3
    assert Registry(store).resolve("churn@production").version == 1


def test_a_ci_role_cannot_promote_through_modelyard(yard: Path) -> None:
    ci = Registry(_CiStore(yard, durable=False), actor="lee")  # even with the release role
    head = ci.model("churn").head
    with pytest.raises(StoreError, match="access denied to stages/production/churn/"):
        ci.transition("churn", 2, "production")
    assert ci.model("churn").head == head
    # Everything else still works for it.
    assert ci.register("churn", b"weights v3").version == 3
    ci.transition("churn", 3, "staging")


def _forge_promotion(store: Store, version: int) -> None:
    """What a writer that ignores modelyard's rules writes into models/: a transition."""
    log = EventLog(store)  # knows nothing of protection
    state = log.state("churn")
    holder = state.holders("production")
    changes = [StateChange(version, "staging", "production", "requested")]
    changes += [StateChange(h, "production", "archived", "displaced") for h in holder]
    event = Transitioned(
        at=datetime.now(timezone.utc),
        actor="mallory",
        version=version,
        changes=tuple(changes),
        results=(),
        alias_moves=(),
    )
    log.append(state, event)


def test_a_promotion_written_by_hand_without_a_countersign_is_refused(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    warm = Registry(store)
    assert warm.resolve("churn@production").version == 1
    _forge_promotion(store, 2)
    for reader in (warm, Registry(store)):  # a cached reader and a cold one
        with pytest.raises(IntegrityError, match="no countersign") as info:
            reader.resolve("churn@production")
        assert info.value.problem == "unsigned"


def _forge_snapshot(store: Store, swap: dict[int, str]) -> None:
    """A tag event whose snapshot claims other artifacts for some versions (digest matching)."""
    log = EventLog(store)
    state = log.state("churn")
    event = TagSet(at=datetime.now(timezone.utc), actor="mallory", version=None, key="k", value="v")
    seq = state.head + 1
    sealed = event.sealed(
        seq=seq, model=ModelIdentity("churn", state.model_id or ""), prev=state.head_digest
    )
    true_state = sealed.apply(state)
    versions = dict(true_state.versions)
    for number, artifact in swap.items():
        versions[number] = replace(versions[number], artifact=artifact)
    forged = replace(true_state, versions=MappingProxyType(versions))
    snapshot = encode_snapshot(forged)
    sealed = replace(sealed, snapshot=digest_bytes(snapshot))
    store.create(log_key("churn", seq), canonical_json(sealed.to_json()))
    store.create(snapshot_key("churn", seq), snapshot)


def test_a_snapshot_that_swaps_the_artifact_behind_production_is_refused(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    other = Registry(store).version("churn", 2).artifact
    _forge_snapshot(store, {1: other})
    with pytest.raises(IntegrityError, match="holders of protected stage 'production'"):
        Registry(store).resolve("churn@production")


def test_a_snapshot_that_swaps_another_version_is_not_a_stage_matter(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    _forge_snapshot(store, {2: Registry(store).version("churn", 1).artifact})
    assert Registry(store).resolve("churn@production").version == 1


def test_protecting_a_stage_countersigns_its_past(tmp_path: Path) -> None:
    store = MemoryStore()
    registry = Registry(store, actor="ana")
    for n in (1, 2):
        registry.register("churn", f"v{n}".encode())
        registry.transition("churn", n, "staging")
        registry.transition("churn", n, "production")  # v2 displaces v1
    registry.register("fraud", b"v1")
    assert store.list("stages/") == []
    registry.set_lifecycle(
        Lifecycle.default().evolve(protected={"production"}), reason="production is protected"
    )
    assert len(store.list("stages/production/churn/")) == 2
    assert Registry(store).resolve("churn@production").version == 2
    registry.rollback("churn", "production")
    assert Registry(store).resolve("churn@production").version == 1


def test_a_countersign_left_by_a_writer_that_lost_its_race_is_ignored(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    head = Registry(store).model("churn").head
    # One at the number a tag will take, one at the number the promotion will take.
    for seq, digit in ((head + 1, "0"), (head + 2, "1")):
        stale = f"stages/production/churn/{seq:012d}-{digit * 64}.json"
        store.create(stale, b'{"kind": "stage.countersign"}')
    registry = Registry(store, actor="lee")
    registry.set_tag("churn", "after", "stale")  # takes seq head + 1: not a stage change
    registry.transition("churn", 2, "production")
    assert len(_signs(store)) == 4  # the first promotion's, two stale ones, this promotion's
    assert Registry(store).resolve("churn@production").version == 2


def test_verify_lists_an_unsigned_change_of_a_protected_stage(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    assert Registry(store).verify().ok
    _forge_promotion(store, 2)
    report = Registry(store).verify()
    (problem,) = report.problems
    assert problem.kind == "unsigned" and "production" in problem.detail
    assert problem.key == "models/churn/log/000000000006.json"  # 2 x 2 events, 1 promotion


def test_verify_reports_a_damaged_governance_log(yard: Path) -> None:
    store = LocalStore(yard, durable=False)
    store.write("governance/log/000000000002.json", b"{not json")
    report = Registry(store).verify()
    assert not report.ok
    assert [p.kind for p in report.governance] == ["governance"]
    assert "governance/log/000000000002.json" in report.governance[0].key
