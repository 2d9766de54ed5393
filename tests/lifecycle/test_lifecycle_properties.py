"""Property tests: random valid lifecycles and random request sequences keep the invariants.

Whatever the lifecycle and whatever is requested, applying the decisions never leaves two versions
in an exclusive state, and every change is one the definition allows: a declared transition for a
request, the declared displacement state for a displaced holder, an exclusive state for a rollback.
Acceptance is checked against a naive re-statement of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import LifecycleDefinitionError, TransitionRejected
from modelyard.lifecycle import (
    Lifecycle,
    ModelStatus,
    StateChange,
    Transition,
    TransitionRequest,
    VersionStatus,
    decide,
    decide_rollback,
    metric_at_least,
)

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)
THRESHOLDS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Spec:
    """A lifecycle as plain data, so the test can check decisions without trusting Lifecycle."""

    states: tuple[str, ...]
    initial: str
    edges: dict[tuple[str, str], float | None] = field(hash=False)  # edge -> metric threshold
    exclusive: dict[str, str] = field(hash=False)

    def build(self) -> Lifecycle:
        transitions = [
            Transition(a, b, [metric_at_least("m", t)] if t is not None else [])
            for (a, b), t in self.edges.items()
        ]
        return Lifecycle(self.states, self.initial, transitions, self.exclusive)


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    n = draw(st.integers(min_value=1, max_value=6))
    names = draw(st.permutations([f"s{i}" for i in range(n)]))
    initial = names[0]
    # A random tree rooted at the initial state makes every state reachable; extra edges on top
    # add cycles, demotions and shortcuts.
    edges: set[tuple[str, str]] = {
        (names[draw(st.integers(0, i - 1))], names[i]) for i in range(1, n)
    }
    pairs = st.tuples(st.sampled_from(names), st.sampled_from(names))
    edges |= {(a, b) for a, b in draw(st.sets(pairs, max_size=2 * n)) if a != b}
    ordered = draw(st.permutations(sorted(edges)))
    guarded = {e: draw(st.sampled_from((None, *THRESHOLDS))) for e in ordered}
    exclusive_states = draw(st.sets(st.sampled_from(names[1:]))) if n > 1 else set()
    keepers = [s for s in names if s not in exclusive_states]
    exclusive = {s: draw(st.sampled_from(keepers)) for s in sorted(exclusive_states)}
    states = tuple(draw(st.permutations(names)))
    return Spec(states, initial, guarded, exclusive)


# An operation is ("register", metric), ("request", version pick, state pick, follow an edge?)
# or ("rollback", exclusive-state pick); picks are reduced modulo what exists at that point. Most
# requests follow a declared edge, so sequences get deep into the graph; the rest pick any state.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.sampled_from((0.0, 0.3, 0.6, 0.9))),
        st.tuples(
            st.just("request"),
            st.integers(0, 50),
            st.integers(0, 50),
            st.sampled_from((True, True, True, False)),
        ),
        st.tuples(st.just("rollback"), st.integers(0, 50)),
    ),
    min_size=10,
    max_size=60,
)


def check_invariants(spec: Spec, status: ModelStatus) -> None:
    for state in spec.exclusive:
        assert len(status.holders(state)) <= 1, f"two holders of {state}: {status}"
    assert all(v.state in spec.states for v in status.versions.values())


def check_change(spec: Spec, change: StateChange) -> None:
    if change.cause == "requested":
        assert (change.source, change.target) in spec.edges
    elif change.cause == "displaced":
        assert spec.exclusive[change.source] == change.target
    else:
        assert change.target in spec.exclusive


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(spec=specs(), ops=operations)
def test_random_requests_keep_the_invariants(spec: Spec, ops: list[tuple[Any, ...]]) -> None:
    lifecycle = spec.build()
    # Start with a few versions so that the first requests already have something to move.
    status = ModelStatus.of("m", [VersionStatus(i, spec.initial, {"m": i / 4}) for i in (1, 2, 3)])
    history: list[StateChange] = []
    tenure: dict[str, list[int]] = {state: [] for state in spec.exclusive}
    when = AT
    for op in ops:
        when += timedelta(minutes=1)
        if op[0] == "register":
            number = len(status.versions) + 1
            status = status.with_version(VersionStatus(number, spec.initial, {"m": op[1]}))
            continue
        if op[0] == "request":
            if not status.versions:
                continue
            version = status.versions[int(op[1]) % len(status.versions) + 1]
            allowed = [b for a, b in spec.edges if a == version.state]
            choices = allowed if op[3] and allowed else spec.states
            target = choices[int(op[2]) % len(choices)]
            edge = (version.state, target)
            threshold = spec.edges.get(edge)
            expected_ok = edge in spec.edges and (
                threshold is None or version.metrics["m"] >= threshold
            )
            try:
                decision = decide(
                    lifecycle, status, TransitionRequest(version.version, target, "ana", when)
                )
            except TransitionRejected:
                assert not expected_ok
                continue
            assert expected_ok
            assert decision.changes[0] == StateChange(
                version.version, version.state, target, "requested"
            )
            expected_displaced = (
                [v for v in status.holders(target) if v != version.version]
                if target in spec.exclusive
                else []
            )
            assert [c.version for c in decision.displaced] == expected_displaced
            if target in spec.exclusive:
                tenure[target].append(version.version)
        else:
            if not spec.exclusive:
                continue
            state = sorted(spec.exclusive)[int(op[1]) % len(spec.exclusive)]
            # The test's own record of who entered the state, newest last; a rollback restores
            # the newest earlier holder and ends the tenures after it.
            current = set(status.holders(state))
            candidates = [v for v in reversed(tenure[state]) if v not in current]
            try:
                decision = decide_rollback(lifecycle, status, state, history, actor="lee", at=when)
            except TransitionRejected:
                assert not candidates
                continue
            restored = decision.primary
            assert restored.cause == "rollback"
            assert candidates
            assert restored.version == candidates[0]
            while tenure[state][-1] != restored.version:
                tenure[state].pop()
        for change in decision.changes:
            check_change(spec, change)
        status = status.apply(decision.changes)
        history.extend(decision.changes)
        check_invariants(spec, status)


def outcome(lifecycle: Lifecycle, status: ModelStatus, req: TransitionRequest) -> object:
    try:
        return decide(lifecycle, status, req)
    except TransitionRejected as exc:
        return exc.results


@settings(max_examples=100, deadline=None)
@given(spec=specs(), metric=st.sampled_from((0.0, 0.5, 1.0)))
def test_decide_is_deterministic_and_pure(spec: Spec, metric: float) -> None:
    lifecycle = spec.build()
    versions = [VersionStatus(i + 1, s, {"m": metric}) for i, s in enumerate(spec.states)]
    status = ModelStatus.of("m", versions)
    for version in versions:
        for target in lifecycle.allowed_targets(version.state):
            req = TransitionRequest(version.version, target, "ana", AT)
            assert outcome(lifecycle, status, req) == outcome(lifecycle, status, req)
    assert status == ModelStatus.of("m", versions)


def reachable_by_closure(states: list[str], edges: set[tuple[str, str]], start: str) -> set[str]:
    """Reachability by repeated relational composition (Warshall), independent of the BFS."""
    reach = {(a, b) for a, b in edges} | {(s, s) for s in states}
    for k in states:
        reach |= {(i, j) for i in states for j in states if (i, k) in reach and (k, j) in reach}
    return {b for a, b in reach if a == start}


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 5),
    raw_edges=st.sets(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=10),
)
def test_unreachable_states_are_refused_exactly(n: int, raw_edges: set[tuple[int, int]]) -> None:
    states = [f"s{i}" for i in range(n)]
    edges = {(f"s{a}", f"s{b}") for a, b in raw_edges if a < n and b < n and a != b}
    unreachable = set(states) - reachable_by_closure(states, edges, "s0")
    transitions = [Transition(a, b) for a, b in sorted(edges)]
    if unreachable:
        with pytest.raises(LifecycleDefinitionError) as info:
            Lifecycle(states, "s0", transitions)
        assert info.value.problem == "unreachable state"
        assert set(info.value.states) == unreachable
    else:
        lifecycle = Lifecycle(states, "s0", transitions)
        assert {t.edge for t in lifecycle.transitions} == edges
