"""Property test: whatever is done to a model, a bound alias equals its stage's holder.

Random sequences of registrations, transitions (allowed or not), rollbacks, alias binds, plain
alias sets and deletes run against a registry on a memory store, under the default lifecycle,
under one with two exclusive stages, and under that one with both stages protected. After every
step: no exclusive stage has two holders, every alias the model says follows a stage points at
that stage's holder (or at nothing when it is empty), which aliases are bound matches a plain
re-statement of the rules, and a new registry object that folds the log from the store (through
snapshots) sees the same.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from modelyard.errors import InputError, NotFoundError, TransitionRejected
from modelyard.lifecycle import Lifecycle, Transition
from modelyard.registry import Registry
from modelyard.storage import MemoryStore

SHADOWED = Lifecycle(
    ("development", "staging", "shadow", "production", "archived"),
    "development",
    [
        Transition("development", "staging"),
        Transition("staging", "shadow"),
        Transition("staging", "production"),
        Transition("shadow", "production"),
        Transition("shadow", "staging"),
        Transition("production", "staging"),
        Transition("production", "archived"),
        Transition("archived", "development"),
    ],
    {"production": "archived", "shadow": "staging"},
)
# The same, with both exclusive stages protected: every change of their holders is countersigned,
# and every read (the fresh registry object's included) checks the countersigns.
PROTECTED = SHADOWED.evolve(protected={"production", "shadow"})
ALIASES = ("champion", "canary")

operations = st.lists(
    st.one_of(
        st.just(("register",)),
        # Mostly along a declared edge, so that sequences get deep into the graph.
        *[
            st.tuples(
                st.just("transition"),
                st.integers(0, 20),
                st.integers(0, 20),
                st.sampled_from((True, True, True, False)),
            )
        ]
        * 4,
        st.tuples(st.just("rollback"), st.integers(0, 20)),
        st.tuples(st.just("follow"), st.sampled_from(ALIASES), st.integers(0, 20)),
        st.tuples(st.just("pin"), st.sampled_from(ALIASES), st.integers(0, 20)),
        st.tuples(st.just("delete"), st.sampled_from(ALIASES)),
    ),
    min_size=3,
    max_size=40,
)


def _check(registry: Registry, lifecycle: Lifecycle, bound: dict[str, str]) -> None:
    model = registry.model("churn")
    versions = registry.versions("churn")
    aliases = registry.aliases("churn")
    assert dict(model.follows) == bound
    for stage in lifecycle.exclusive:
        assert len([v for v in versions if v.state == stage]) <= 1, (stage, versions)
    for alias, stage in bound.items():
        holders = [v.version for v in versions if v.state == stage]
        assert aliases.get(alias) == (holders[0] if holders else None), (alias, stage, versions)
        if holders:
            assert registry.resolve(f"churn@{alias}") == registry.resolve(f"churn@{stage}")
            assert alias in registry.version("churn", holders[0]).aliases


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(lifecycle=st.sampled_from((Lifecycle.default(), SHADOWED, PROTECTED)), ops=operations)
def test_a_bound_alias_always_equals_its_stage_holder(
    lifecycle: Lifecycle, ops: list[tuple[Any, ...]]
) -> None:
    store = MemoryStore()
    registry = Registry(store, lifecycle=lifecycle, actor="ana", snapshot_every=5)
    for number in range(1, 4):
        registry.register("churn", f"v{number}".encode())
    exclusive = sorted(lifecycle.exclusive)
    # Start with v1 in production and an alias following it, so that most sequences move a
    # following alias; ops unbind and rebind it.
    registry.transition("churn", 1, "staging")
    registry.transition("churn", 1, "production")
    registry.set_alias("churn", "champion", follow=exclusive[0])
    bound = {"champion": exclusive[0]}
    count = 3
    for op in ops:
        kind = op[0]
        try:
            if kind == "register":
                registry.register("churn", f"v{count + 1}".encode())
                count += 1
            elif kind == "transition":
                version = op[1] % count + 1
                targets = lifecycle.states
                if op[3]:
                    targets = lifecycle.allowed_targets(registry.version("churn", version).state)
                registry.transition("churn", version, targets[op[2] % len(targets)])
            elif kind == "rollback":
                registry.rollback("churn", exclusive[op[1] % len(exclusive)])
            elif kind == "follow":
                stage = exclusive[op[2] % len(exclusive)]
                registry.set_alias("churn", op[1], follow=stage)
                bound[op[1]] = stage
            elif kind == "pin":
                registry.set_alias("churn", op[1], op[2] % count + 1)
                bound.pop(op[1], None)
            else:
                registry.delete_alias("churn", op[1])
                bound.pop(op[1], None)
        except (TransitionRejected, NotFoundError, InputError):
            pass  # refused: nothing was written, and the invariants must still hold
        _check(registry, lifecycle, bound)
    moves = sum(len(entry.alias_moves) for entry in registry.history("churn"))
    fresh = Registry(store, lifecycle=lifecycle, actor="ana")
    _check(fresh, lifecycle, bound)
    assert fresh.aliases("churn") == registry.aliases("churn")
    assert fresh.verify().ok
    event(f"following aliases moved: {'some' if moves else 'none'}")
