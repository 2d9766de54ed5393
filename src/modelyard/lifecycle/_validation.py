"""Checks that a lifecycle definition is a usable state machine, run once when it is built."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from modelyard._internal.names import validate_name
from modelyard.errors import InvalidNameError, LifecycleDefinitionError
from modelyard.lifecycle._definition import Transition
from modelyard.lifecycle._guard import Guard

__all__ = ["CheckedDefinition", "check_amend", "check_protected", "validate_definition"]


@dataclass(frozen=True)
class CheckedDefinition:
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    exclusive: dict[str, str]


def _fail(message: str, problem: str, **context: object) -> LifecycleDefinitionError:
    return LifecycleDefinitionError(message, problem=problem, **context)


def _check_states(states: Iterable[str]) -> tuple[str, ...]:
    if isinstance(states, str):
        raise _fail(
            f"states must be a collection of state names, not the string {states!r}",
            "bad states",
        )
    checked = tuple(states)
    if not checked:
        raise _fail("a lifecycle needs at least one state", "no states")
    seen: set[str] = set()
    for state in checked:
        try:
            validate_name(state, kind="state")
        except InvalidNameError as exc:
            raise _fail(str(exc), "bad name", state=state) from None
        if state in seen:
            raise _fail(f"state {state!r} is listed twice", "duplicate state", state=state)
        seen.add(state)
    return checked


def _check_transitions(
    transitions: Iterable[Transition], states: tuple[str, ...]
) -> tuple[Transition, ...]:
    checked = tuple(transitions)
    known = set(states)
    seen: set[tuple[str, str]] = set()
    for transition in checked:
        if not isinstance(transition, Transition):
            raise _fail(
                f"transitions must be Transition objects, got {transition!r}", "bad transition"
            )
        for state in transition.edge:
            if state not in known:
                raise _fail(
                    f"transition {transition.source!r} -> {transition.target!r} uses the unknown "
                    f"state {state!r}; states: {', '.join(states)}",
                    "unknown state",
                    state=state,
                )
        if transition.edge in seen:
            raise _fail(
                f"duplicate transition {transition.source!r} -> {transition.target!r}; merge their "
                "guards into one Transition",
                "duplicate transition",
                edge=transition.edge,
            )
        seen.add(transition.edge)
    return checked


def _check_exclusive(
    exclusive: Mapping[str, str], states: tuple[str, ...], initial: str
) -> dict[str, str]:
    if not isinstance(exclusive, Mapping):
        raise _fail(
            f"exclusive must map each exclusive state to its displacement state, got {exclusive!r}",
            "bad exclusive",
        )
    checked = dict(exclusive)
    known = set(states)
    for state, displaced_to in checked.items():
        if state not in known:
            raise _fail(
                f"exclusive state {state!r} is not a state; states: {', '.join(states)}",
                "unknown state",
                state=state,
            )
        if displaced_to not in known:
            raise _fail(
                f"exclusive state {state!r} sends its displaced holder to {displaced_to!r}, which "
                f"is not a state; states: {', '.join(states)}",
                "unknown displacement state",
                state=state,
                displacement=displaced_to,
            )
        if displaced_to == state:
            raise _fail(
                f"exclusive state {state!r} cannot send its displaced holder to itself",
                "bad displacement state",
                state=state,
            )
        if displaced_to in checked:
            # Displacing into another exclusive state would itself need a displacement, and the
            # cascade could end in a cycle; one level keeps "at most one holder" easy to see.
            raise _fail(
                f"exclusive state {state!r} sends its displaced holder to {displaced_to!r}, which "
                "is exclusive too; pick a non-exclusive state",
                "bad displacement state",
                state=state,
                displacement=displaced_to,
            )
    if initial in checked:
        raise _fail(
            f"the initial state {initial!r} cannot be exclusive: every new version starts there",
            "exclusive initial state",
            state=initial,
        )
    return checked


def _reachable(initial: str, transitions: tuple[Transition, ...]) -> set[str]:
    successors: dict[str, list[str]] = {}
    for transition in transitions:
        successors.setdefault(transition.source, []).append(transition.target)
    reached = {initial}
    frontier = [initial]
    while frontier:
        for target in successors.get(frontier.pop(), ()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    return reached


def validate_definition(
    states: Iterable[str],
    initial: str,
    transitions: Iterable[Transition],
    exclusive: Mapping[str, str],
) -> CheckedDefinition:
    """Check a definition; raise ``LifecycleDefinitionError`` naming the first problem found."""
    checked_states = _check_states(states)
    if not isinstance(initial, str) or not initial:
        raise _fail("a lifecycle needs an initial state; pass initial=...", "missing initial state")
    if initial not in checked_states:
        raise _fail(
            f"the initial state {initial!r} is not one of the states: {', '.join(checked_states)}",
            "missing initial state",
            state=initial,
        )
    checked_transitions = _check_transitions(transitions, checked_states)
    checked_exclusive = _check_exclusive(exclusive, checked_states, initial)
    reached = _reachable(initial, checked_transitions)
    unreachable = [s for s in checked_states if s not in reached]
    if unreachable:
        names = ", ".join(repr(s) for s in unreachable)
        noun = "state" if len(unreachable) == 1 else "states"
        raise _fail(
            f"unreachable {noun} {names}: no chain of transitions leads there from the initial "
            f"state {initial!r}; add a transition or remove the {noun}",
            "unreachable state",
            states=unreachable,
        )
    return CheckedDefinition(checked_states, initial, checked_transitions, checked_exclusive)


def check_protected(protected: Iterable[str], states: tuple[str, ...]) -> frozenset[str]:
    """The protected states as a frozenset; each must be a state of the lifecycle."""
    if isinstance(protected, str) or not isinstance(protected, Iterable):
        raise _fail(
            f"protected must be a collection of state names, got {protected!r}", "bad protected"
        )
    checked = tuple(protected)
    for state in checked:
        if state not in states:
            raise _fail(
                f"protected state {state!r} is not a state; states: {', '.join(states)}",
                "unknown state",
                state=state,
            )
    return frozenset(checked)


def check_amend(amend: Sequence[Guard]) -> tuple[Guard, ...]:
    """The guards a change of the stored lifecycle must pass, as a tuple of callables."""
    if isinstance(amend, (str, bytes)) or not isinstance(amend, Iterable):
        raise _fail(f"amend must be a sequence of guards, got {amend!r}", "bad guard")
    checked = tuple(amend)
    for guard in checked:
        if not callable(guard):
            raise _fail(f"amend guard {guard!r} is not callable", "bad guard")
    return checked
