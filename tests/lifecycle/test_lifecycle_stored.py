"""A lifecycle's stored form: round trips, a canonical form, versions, and refusals that explain."""

from __future__ import annotations

import json
import pickle
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard._internal.canonical import canonical_json
from modelyard.errors import InputError, IntegrityError, LifecycleDefinitionError
from modelyard.lifecycle import (
    LIFECYCLE_SCHEMA,
    GuardContext,
    GuardResult,
    GuardSpec,
    Lifecycle,
    Transition,
    as_guard,
    drift_clean,
    guard_from_spec,
    metric_at_least,
    metric_at_most,
    require_approvals,
    require_role,
    require_tags,
)

BUILT_INS = [
    metric_at_least("auc", 0.8),
    metric_at_least("auc", 1),
    metric_at_most("latency_ms", 50),
    require_tags("owner"),
    require_tags("owner", "team", validated="yes", reviewed=""),
    require_approvals(1),
    require_approvals(2, roles={"qa", "risk"}, max_age=timedelta(days=7), exclude_requester=True),
    require_approvals(3, max_age=timedelta(seconds=90.5)),
    drift_clean(),
    drift_clean("report", evidence=None),
    require_role("release"),
    require_role("release", "admin"),
]


def governed() -> Lifecycle:
    return (
        Lifecycle.default()
        .with_guards("development", "staging", *BUILT_INS[:4])
        .with_guards("staging", "production", *BUILT_INS[4:], approvals=1)
        .evolve(
            protected={"production", "archived"},
            amend=[require_role("admin"), require_approvals(2, roles={"admin"})],
        )
    )


@pytest.mark.parametrize("guard", BUILT_INS, ids=lambda g: g.name)
def test_every_built_in_guard_round_trips_through_json(guard: Any) -> None:
    stored = json.loads(json.dumps(guard.spec.to_dict()))
    rebuilt = guard_from_spec(stored)
    assert rebuilt == guard
    assert rebuilt.name == guard.name
    assert rebuilt.spec == guard.spec
    ctx = GuardContext.for_test(
        metrics={"auc": 0.9, "latency_ms": 12}, tags={"owner": "ana"}, roles={}
    )
    assert rebuilt(ctx) == guard(ctx)


def test_a_governed_default_lifecycle_round_trips_with_protected_and_amend() -> None:
    lc = governed()
    stored = lc.to_dict()
    back = Lifecycle.from_dict(json.loads(json.dumps(stored)))
    assert back == lc
    assert hash(back) == hash(lc)
    assert back.to_dict() == stored
    assert back.protected == frozenset({"production", "archived"})
    assert [g.name for g in back.amend] == ["role admin", "2 approvals by admin"]
    assert stored["schema_version"] == LIFECYCLE_SCHEMA
    assert stored["protected"] == ["archived", "production"]
    assert pickle.loads(pickle.dumps(lc)) == lc


def test_the_stored_form_is_canonical() -> None:
    # Built in two different orders (sets, dict insertion), equal lifecycles store the same bytes.
    one = Lifecycle(
        ["a", "b", "c"],
        "a",
        [Transition("a", "b", [require_approvals(2, roles=["x", "y"])]), Transition("b", "c")],
        exclusive={"b": "a", "c": "a"},
        protected=["c", "b"],
    )
    two = Lifecycle(
        ("a", "b", "c"),
        "a",
        (Transition("a", "b", [require_approvals(2, roles={"y", "x"})]), Transition("b", "c")),
        exclusive={"c": "a", "b": "a"},
        protected={"b", "c"},
    )
    assert one == two
    assert canonical_json(one.to_dict()) == canonical_json(two.to_dict())
    assert list(one.to_dict()["exclusive"]) == ["b", "c"]
    assert one.to_dict() == one.to_dict()


@st.composite
def lifecycles(draw: st.DrawFn) -> Lifecycle:
    n = draw(st.integers(min_value=1, max_value=5))
    names = [f"s{i}" for i in range(n)]
    edges = {(names[draw(st.integers(0, i - 1))], names[i]) for i in range(1, n)}
    guards = st.lists(st.sampled_from(BUILT_INS), max_size=3, unique_by=lambda g: g.spec)
    transitions = [
        Transition(a, b, draw(guards), draw(st.integers(0, 3))) for a, b in sorted(edges)
    ]
    held = draw(st.sets(st.sampled_from(names[1:]))) if n > 1 else set()
    exclusive = {state: names[0] for state in held}
    protected = draw(st.sets(st.sampled_from(names)))
    return Lifecycle(
        names, names[0], transitions, exclusive, protected=protected, amend=draw(guards)
    )


@settings(max_examples=60, deadline=None)
@given(lifecycles())
def test_any_lifecycle_of_built_in_guards_round_trips(lc: Lifecycle) -> None:
    stored = lc.to_dict()
    back = Lifecycle.from_dict(json.loads(canonical_json(stored)))
    assert back == lc
    assert canonical_json(back.to_dict()) == canonical_json(stored)


def test_a_newer_schema_is_refused_with_upgrade_advice() -> None:
    stored = governed().to_dict()
    stored["schema_version"] = LIFECYCLE_SCHEMA + 1
    with pytest.raises(IntegrityError, match=r"newer modelyard.*upgrade modelyard") as info:
        Lifecycle.from_dict(stored)
    assert info.value.problem == "newer schema"


def test_data_without_the_optional_keys_is_read() -> None:
    lc = Lifecycle.from_dict(
        {"schema_version": 1, "states": ["a", "b"], "initial": "a",
         "transitions": [{"source": "a", "target": "b"}]}
    )  # fmt: skip
    assert lc == Lifecycle(["a", "b"], "a", [Transition("a", "b")])


def _stored(**changes: Any) -> dict[str, Any]:
    data = Lifecycle(["a", "b"], "a", [Transition("a", "b", [metric_at_least("m", 1)])]).to_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        ([], "expected a mapping"),
        (_stored(schema_version="1"), "'schema_version' must be an integer"),
        (_stored(schema_version=0), "'schema_version' must be an integer"),
        ({"schema_version": 1, "states": ["a"]}, r"missing keys \['initial', 'transitions'\]"),
        (_stored(colour="red"), r"unknown keys \['colour'\]"),
        (_stored(states="ab"), "states must be a list"),
        (_stored(transitions=[["a", "b"]]), r"transitions\[0\] must be a mapping"),
        (_stored(transitions=[{"source": "a"}]), r"transitions\[0\].*missing \['target'\]"),
        (_stored(transitions=[{"source": "a", "target": "b", "when": 1}]), r"unknown keys"),
        (
            _stored(transitions=[{"source": "a", "target": "b", "guards": [{"params": {}}]}]),
            r"transitions\[0\].guards\[0\].*needs the key 'name'",
        ),
        (
            _stored(transitions=[{"source": "a", "target": "b", "guards": [{"name": "a b"}]}]),
            "guard name must be a dotted label",
        ),
        (
            _stored(
                transitions=[
                    {"source": "a", "target": "b", "guards": [{"name": "metric_at_least"}]}
                ]
            ),
            "guard 'metric_at_least' does not take the parameters",
        ),
        (
            _stored(
                transitions=[
                    {
                        "source": "a",
                        "target": "b",
                        "guards": [
                            {"name": "metric_at_least", "params": {"metric": "m", "threshold": "x"}}
                        ],
                    }
                ]
            ),
            "threshold must be a number",
        ),
        (_stored(exclusive=["b"]), "'exclusive' must be a mapping"),
        (_stored(protected=["c"]), "protected state 'c' is not a state"),
        (_stored(amend={"name": "require_role"}), "amend must be a list"),
        (_stored(initial="z"), "initial state 'z' is not one of the states"),
    ],
)
def test_malformed_stored_lifecycles_are_refused_naming_the_problem(
    data: Any, pattern: str
) -> None:
    with pytest.raises(LifecycleDefinitionError, match=pattern):
        Lifecycle.from_dict(data)


def test_a_plain_function_guard_cannot_be_stored_and_the_error_says_how() -> None:
    def owner_set(ctx: GuardContext) -> GuardResult:
        return GuardResult.passed("ok")

    lc = Lifecycle.default().with_guards("staging", "production", as_guard(owner_set))
    with pytest.raises(LifecycleDefinitionError, match="register_guard") as info:
        lc.to_dict()
    assert info.value.problem == "unstorable guard"
    assert info.value.guard == "owner_set"
    assert "'staging' -> 'production'" in str(info.value)
    unstorable_amend = Lifecycle.default().evolve(amend=[as_guard(owner_set)])
    with pytest.raises(LifecycleDefinitionError, match="amend guards"):
        unstorable_amend.to_dict()


def test_protected_and_amend_are_validated_and_kept_by_with_guards() -> None:
    with pytest.raises(LifecycleDefinitionError, match="protected state 'live' is not a state"):
        Lifecycle.default().evolve(protected={"live"})
    with pytest.raises(LifecycleDefinitionError, match="collection of state names"):
        Lifecycle.default().evolve(protected="production")
    with pytest.raises(LifecycleDefinitionError, match="is not callable"):
        Lifecycle.default().evolve(amend=["admin"])  # type: ignore[list-item]
    lc = Lifecycle.default().evolve(protected={"production"}, amend=[require_role("admin")])
    guarded = lc.with_guards("staging", "production", metric_at_least("auc", 0.8))
    assert guarded.protected == lc.protected and guarded.amend == lc.amend
    assert lc != Lifecycle.default()
    assert lc.evolve(protected=(), amend=()) == Lifecycle.default()
    assert "protected=['production'], amend=[role admin]" in repr(lc)
    assert "note left of production : protected" in lc.to_mermaid()
    assert "protected" not in Lifecycle.default().to_mermaid()


def test_a_spec_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(InputError, match="not JSON-able"):
        GuardSpec("acme.check", {"when": object()})
    with pytest.raises(InputError, match="must be a mapping"):
        GuardSpec("acme.check", ["x"])  # type: ignore[arg-type]
    spec = GuardSpec("acme.check", {"limits": [1, 2], "by": {"a": None}})
    assert hash(spec) == hash(GuardSpec("acme.check", {"by": {"a": None}, "limits": (1, 2)}))
