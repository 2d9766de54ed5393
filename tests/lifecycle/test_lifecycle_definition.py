"""Lifecycle definitions: every validation rule, the default lifecycle, and immutability."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest

from modelyard.errors import InputError, InvalidNameError, LifecycleDefinitionError
from modelyard.lifecycle import (
    Lifecycle,
    Transition,
    metric_at_least,
    require_approvals,
)

T = Transition

# (id, kwargs, expected problem code, text the message must contain)
INVALID_DEFINITIONS = [
    (
        "unknown target state",
        {"states": ["a", "b"], "initial": "a", "transitions": [T("a", "b"), T("b", "c")]},
        "unknown state",
        "unknown state 'c'",
    ),
    (
        "unknown source state",
        {"states": ["a", "b"], "initial": "a", "transitions": [T("a", "b"), T("x", "b")]},
        "unknown state",
        "unknown state 'x'",
    ),
    (
        "unknown exclusive state",
        {
            "states": ["a", "b"],
            "initial": "a",
            "transitions": [T("a", "b")],
            "exclusive": {"z": "a"},
        },
        "unknown state",
        "exclusive state 'z' is not a state",
    ),
    (
        "one unreachable state",
        {"states": ["a", "b", "c"], "initial": "a", "transitions": [T("a", "b"), T("c", "a")]},
        "unreachable state",
        "unreachable state 'c'",
    ),
    (
        "several unreachable states",
        {"states": ["a", "b", "c", "d"], "initial": "a", "transitions": [T("c", "d")]},
        "unreachable state",
        "unreachable states 'b', 'c', 'd'",
    ),
    (
        "reachable only from an unreachable state",
        {
            "states": ["a", "b", "c"],
            "initial": "a",
            "transitions": [T("b", "c"), T("c", "b"), T("b", "a")],
        },
        "unreachable state",
        "unreachable states 'b', 'c'",
    ),
    (
        "initial state not among the states",
        {"states": ["a", "b"], "initial": "start", "transitions": [T("a", "b")]},
        "missing initial state",
        "initial state 'start' is not one of the states",
    ),
    (
        "empty initial state",
        {"states": ["a", "b"], "initial": "", "transitions": [T("a", "b")]},
        "missing initial state",
        "needs an initial state",
    ),
    (
        "duplicate transition",
        {
            "states": ["a", "b"],
            "initial": "a",
            "transitions": [T("a", "b"), T("a", "b", approvals=1)],
        },
        "duplicate transition",
        "duplicate transition 'a' -> 'b'",
    ),
    (
        "displacement state is not a state",
        {
            "states": ["a", "b"],
            "initial": "a",
            "transitions": [T("a", "b")],
            "exclusive": {"b": "retired"},
        },
        "unknown displacement state",
        "'retired', which is not a state",
    ),
    (
        "displacement into the exclusive state itself",
        {
            "states": ["a", "b"],
            "initial": "a",
            "transitions": [T("a", "b")],
            "exclusive": {"b": "b"},
        },
        "bad displacement state",
        "to itself",
    ),
    (
        "displacement into another exclusive state",
        {
            "states": ["a", "b", "c"],
            "initial": "a",
            "transitions": [T("a", "b"), T("a", "c")],
            "exclusive": {"b": "c", "c": "a"},
        },
        "bad displacement state",
        "exclusive too",
    ),
    (
        "exclusive initial state",
        {
            "states": ["a", "b"],
            "initial": "a",
            "transitions": [T("a", "b")],
            "exclusive": {"a": "b"},
        },
        "exclusive initial state",
        "initial state 'a' cannot be exclusive",
    ),
    (
        "no states",
        {"states": [], "initial": "a", "transitions": []},
        "no states",
        "at least one state",
    ),
    (
        "duplicate state",
        {"states": ["a", "b", "a"], "initial": "a", "transitions": [T("a", "b")]},
        "duplicate state",
        "'a' is listed twice",
    ),
    (
        "state name with a slash",
        {"states": ["a", "b/c"], "initial": "a", "transitions": []},
        "bad name",
        "invalid state 'b/c'",
    ),
    (
        "states given as one string",
        {"states": "ab", "initial": "a", "transitions": []},
        "bad states",
        "not the string 'ab'",
    ),
    (
        "transition that is not a Transition",
        {"states": ["a", "b"], "initial": "a", "transitions": [("a", "b")]},
        "bad transition",
        "must be Transition objects",
    ),
    (
        "exclusive that is not a mapping",
        {"states": ["a", "b"], "initial": "a", "transitions": [T("a", "b")], "exclusive": ["b"]},
        "bad exclusive",
        "exclusive must map",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "problem", "text"),
    [case[1:] for case in INVALID_DEFINITIONS],
    ids=[case[0] for case in INVALID_DEFINITIONS],
)
def test_invalid_definition_is_refused_naming_the_problem(
    kwargs: dict[str, object], problem: str, text: str
) -> None:
    with pytest.raises(LifecycleDefinitionError) as info:
        Lifecycle(**kwargs)  # type: ignore[arg-type]
    assert info.value.problem == problem
    assert text in str(info.value)
    assert isinstance(info.value, ValueError)


INVALID_TRANSITIONS = [
    ("self transition", lambda: T("a", "a"), "self transition"),
    ("bad source name", lambda: T("a b", "c"), "bad name"),
    ("negative approvals", lambda: T("a", "b", approvals=-1), "bad approvals"),
    ("bool approvals", lambda: T("a", "b", approvals=True), "bad approvals"),
    ("non-callable guard", lambda: T("a", "b", guards=[42]), "bad guard"),
    ("guards as a string", lambda: T("a", "b", guards="auc"), "bad guard"),
]


@pytest.mark.parametrize(
    ("build", "problem"),
    [case[1:] for case in INVALID_TRANSITIONS],
    ids=[case[0] for case in INVALID_TRANSITIONS],
)
def test_invalid_transition_is_refused(build: object, problem: str) -> None:
    with pytest.raises(LifecycleDefinitionError) as info:
        build()  # type: ignore[operator]
    assert info.value.problem == problem


def test_default_lifecycle_shape() -> None:
    lc = Lifecycle.default()
    assert lc.states == ("development", "staging", "production", "archived")
    assert lc.initial == "development"
    assert dict(lc.exclusive) == {"production": "archived"}
    edges = {t.edge for t in lc.transitions}
    # The promotion path, the demotions back, and archiving from every live state.
    assert {
        ("development", "staging"),
        ("staging", "production"),
        ("production", "archived"),
        ("production", "staging"),
        ("staging", "development"),
    } <= edges
    assert lc.allowed_targets("production") == ("staging", "archived")
    assert lc.allowed_targets("development") == ("staging", "archived")
    assert lc.transition("development", "production") is None
    assert all(not t.all_guards for t in lc.transitions)


def test_single_state_lifecycle_is_valid() -> None:
    lc = Lifecycle(["only"], "only", [])
    assert lc.allowed_targets("only") == ()


def test_a_dead_end_state_is_allowed() -> None:
    lc = Lifecycle(["a", "b"], "a", [T("a", "b")])
    assert lc.allowed_targets("b") == ()


def test_unknown_state_lookups_name_the_states() -> None:
    lc = Lifecycle.default()
    with pytest.raises(InvalidNameError) as info:
        lc.allowed_targets("prod")
    assert info.value.available == list(lc.states)
    assert "development, staging, production, archived" in str(info.value)
    assert lc.displacement("staging") is None
    assert lc.displacement("production") == "archived"


def test_approvals_shorthand_adds_the_approval_guard_last() -> None:
    guard = metric_at_least("auc", 0.8)
    t = T("a", "b", [guard], approvals=2)
    assert t.guards == (guard,)
    assert [g.name for g in t.all_guards] == ["auc >= 0.8", "2 approvals"]
    assert t.all_guards[1] == require_approvals(2)


def test_with_guards_returns_a_new_lifecycle() -> None:
    lc = Lifecycle.default()
    guarded = lc.with_guards(
        "staging", "production", require_approvals(1, max_age=timedelta(days=1)), approvals=2
    )
    assert lc.transition("staging", "production") == T("staging", "production")
    changed = guarded.transition("staging", "production")
    assert changed is not None
    assert changed.approvals == 2
    assert changed.label() == "1 approval within 1 day, 2 approvals"
    assert guarded != lc
    with pytest.raises(
        LifecycleDefinitionError, match="no transition 'development' -> 'production'"
    ):
        lc.with_guards("development", "production", metric_at_least("auc", 0.5))


def test_lifecycles_compare_hash_and_pickle_by_value() -> None:
    a, b = Lifecycle.default(), Lifecycle.default()
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert pickle.loads(pickle.dumps(a)) == a
    assert a != Lifecycle(["x"], "x", [])
    assert "exclusive={'production': 'archived'}" in repr(a)


def test_lifecycle_is_read_only() -> None:
    lc = Lifecycle.default()
    with pytest.raises(TypeError):
        lc.exclusive["staging"] = "archived"  # type: ignore[index]
    with pytest.raises(AttributeError):
        lc.initial = "staging"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        lc.extra = 1  # type: ignore[attr-defined]
    transition = lc.transitions[0]
    with pytest.raises(AttributeError):
        transition.target = "production"  # type: ignore[misc]


def test_inputs_are_copied_not_shared() -> None:
    states = ["a", "b"]
    transitions = [T("a", "b")]
    exclusive = {"b": "a"}
    lc = Lifecycle(states, "a", transitions, exclusive)
    states.append("c")
    transitions.clear()
    exclusive["zzz"] = "a"
    assert lc.states == ("a", "b")
    assert len(lc.transitions) == 1
    assert dict(lc.exclusive) == {"b": "a"}


def test_definition_errors_are_input_errors() -> None:
    assert issubclass(LifecycleDefinitionError, InputError)


MERMAID_DEFAULT = """\
stateDiagram-v2
    direction LR
    [*] --> development
    development --> staging
    development --> archived
    staging --> production
    staging --> development
    staging --> archived
    production --> staging
    production --> archived
    archived --> development
    note right of production : exclusive, a displaced holder moves to archived
    classDef exclusive stroke-width:3px
    class production exclusive"""


def test_mermaid_of_the_default_lifecycle() -> None:
    assert Lifecycle.default().to_mermaid() == MERMAID_DEFAULT


def test_mermaid_labels_guards_and_strips_unsafe_characters() -> None:
    from modelyard.lifecycle import GuardResult, as_guard

    odd = as_guard(lambda ctx: GuardResult.passed("ok"), name="a:b;c#d")
    lc = Lifecycle(["a", "b"], "a", [T("a", "b", [odd], approvals=3)])
    lines = lc.to_mermaid().splitlines()
    assert lines[-1] == "    a --> b : a b c d, 3 approvals"
    assert sum(line.count(":") for line in lines) == 1
