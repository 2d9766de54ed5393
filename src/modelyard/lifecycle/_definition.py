"""Lifecycle definitions: states, an initial state, guarded transitions and exclusive states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from modelyard._internal.names import validate_name
from modelyard.errors import InvalidNameError, LifecycleDefinitionError
from modelyard.lifecycle._guard import Guard, guard_name
from modelyard.lifecycle._values import FrozenMap

__all__ = ["Lifecycle", "Transition"]


@dataclass(frozen=True)
class Transition:
    """An allowed move from ``source`` to ``target``, with the guards that must all pass.

    ``approvals=N`` is shorthand for ``require_approvals(N)``: N distinct actors must have approved
    this version for this target. For roles or expiry, put :func:`~modelyard.lifecycle.
    require_approvals` in ``guards`` instead.

    >>> from modelyard.lifecycle import metric_at_least
    >>> t = Transition("staging", "production", [metric_at_least("auc", 0.8)], approvals=2)
    >>> [g.name for g in t.all_guards]
    ['auc >= 0.8', '2 approvals']
    """

    source: str
    target: str
    guards: Sequence[Guard] = ()
    approvals: int = 0

    def __post_init__(self) -> None:
        try:
            validate_name(self.source, kind="state")
            validate_name(self.target, kind="state")
        except InvalidNameError as exc:
            raise LifecycleDefinitionError(
                f"transition {self.source!r} -> {self.target!r}: {exc}", problem="bad name"
            ) from None
        if self.source == self.target:
            raise LifecycleDefinitionError(
                f"transition {self.source!r} -> {self.target!r} does not change the state; "
                "remove it (a request for the current state is always refused)",
                problem="self transition",
                state=self.source,
            )
        if isinstance(self.guards, (str, bytes)) or not isinstance(self.guards, Iterable):
            raise LifecycleDefinitionError(
                f"guards of {self.source!r} -> {self.target!r} must be a sequence of guards, "
                f"got {self.guards!r}",
                problem="bad guard",
            )
        guards = tuple(self.guards)
        for guard in guards:
            if not callable(guard):
                raise LifecycleDefinitionError(
                    f"guard {guard!r} of {self.source!r} -> {self.target!r} is not callable",
                    problem="bad guard",
                )
        object.__setattr__(self, "guards", guards)
        if isinstance(self.approvals, bool) or not isinstance(self.approvals, int):
            raise LifecycleDefinitionError(
                f"approvals of {self.source!r} -> {self.target!r} must be an int, "
                f"got {self.approvals!r}",
                problem="bad approvals",
            )
        if self.approvals < 0:
            raise LifecycleDefinitionError(
                f"approvals of {self.source!r} -> {self.target!r} must be >= 0, "
                f"got {self.approvals}",
                problem="bad approvals",
            )

    @property
    def edge(self) -> tuple[str, str]:
        """``(source, target)``."""
        return (self.source, self.target)

    @property
    def all_guards(self) -> tuple[Guard, ...]:
        """The guards a request must pass: ``guards``, then the approval guard for ``approvals``."""
        if not self.approvals:
            return tuple(self.guards)
        from modelyard.lifecycle._approvals import require_approvals

        return (*self.guards, require_approvals(self.approvals))

    def label(self) -> str:
        """The guards' names joined by ``", "`` (empty without guards), as drawn in diagrams."""
        return ", ".join(guard_name(g) for g in self.all_guards)


class Lifecycle:
    """A validated lifecycle: states, an initial state, transitions and exclusive states.

    ``exclusive`` maps each state that at most one version of a model may hold at a time to the
    state its current holder is moved to when another version enters it. The definition is checked
    when it is built; every problem raises :class:`~modelyard.errors.LifecycleDefinitionError`
    naming it (its ``problem`` attribute is a short code such as ``"unreachable state"``).

    ``protected`` names states whose holders may change only through writes that the registry
    countersigns under a store prefix of their own; ``amend`` lists the guards that a change of
    this lifecycle, once stored in a yard, must pass (see :meth:`evolve`). :meth:`to_dict` and
    :meth:`from_dict` give the stored form.

    A lifecycle is immutable and safe to share between threads.

    >>> lc = Lifecycle(["draft", "live"], "draft", [Transition("draft", "live")],
    ...                exclusive={"live": "draft"})
    >>> lc.allowed_targets("draft"), dict(lc.exclusive)
    (('live',), {'live': 'draft'})
    >>> Lifecycle(["draft", "live", "old"], "draft", [Transition("draft", "live")])
    Traceback (most recent call last):
    ...
    modelyard.errors.LifecycleDefinitionError: unreachable state 'old': no chain of transitions ...
    """

    __slots__ = (
        "_amend",
        "_by_edge",
        "_exclusive",
        "_initial",
        "_protected",
        "_states",
        "_transitions",
    )

    def __init__(
        self,
        states: Iterable[str],
        initial: str,
        transitions: Iterable[Transition],
        exclusive: Mapping[str, str] | None = None,
        *,
        protected: Iterable[str] = (),
        amend: Sequence[Guard] = (),
    ) -> None:
        from modelyard.lifecycle._validation import (
            check_amend,
            check_protected,
            validate_definition,
        )

        checked = validate_definition(states, initial, transitions, exclusive or {})
        self._states: tuple[str, ...] = checked.states
        self._initial: str = checked.initial
        self._transitions: tuple[Transition, ...] = checked.transitions
        self._exclusive: FrozenMap[str, str] = FrozenMap(checked.exclusive)
        self._protected: frozenset[str] = check_protected(protected, checked.states)
        self._amend: tuple[Guard, ...] = check_amend(amend)
        self._by_edge: FrozenMap[tuple[str, str], Transition] = FrozenMap(
            {t.edge: t for t in checked.transitions}
        )

    @classmethod
    def default(cls) -> Lifecycle:
        """development -> staging -> production -> archived, with demotion back.

        ``production`` is exclusive: a version promoted to production moves the previous holder to
        ``archived``. There are no guards; add them with :meth:`with_guards`.

        >>> lc = Lifecycle.default()
        >>> lc.states
        ('development', 'staging', 'production', 'archived')
        >>> lc.initial, dict(lc.exclusive)
        ('development', {'production': 'archived'})
        >>> lc.allowed_targets("production")
        ('staging', 'archived')
        """
        return cls(
            states=("development", "staging", "production", "archived"),
            initial="development",
            transitions=(
                Transition("development", "staging"),
                Transition("development", "archived"),
                Transition("staging", "production"),
                Transition("staging", "development"),
                Transition("staging", "archived"),
                Transition("production", "staging"),
                Transition("production", "archived"),
                Transition("archived", "development"),
            ),
            exclusive={"production": "archived"},
        )

    @property
    def states(self) -> tuple[str, ...]:
        """The states, in definition order."""
        return self._states

    @property
    def initial(self) -> str:
        """The state every new version starts in."""
        return self._initial

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """The allowed transitions, in definition order."""
        return self._transitions

    @property
    def exclusive(self) -> Mapping[str, str]:
        """Exclusive state -> the state its displaced holder moves to (read-only)."""
        return self._exclusive

    @property
    def protected(self) -> frozenset[str]:
        """States whose holders may change only through writes the registry countersigns under a
        store prefix of their own (so the store's permissions can guard them too)."""
        return self._protected

    @property
    def amend(self) -> tuple[Guard, ...]:
        """The guards a change of this lifecycle, once stored in a yard, must pass."""
        return self._amend

    def transition(self, source: str, target: str) -> Transition | None:
        """The transition from ``source`` to ``target``, or ``None`` if the definition has none."""
        return self._by_edge.get((source, target))

    def allowed_targets(self, source: str) -> tuple[str, ...]:
        """The states a version in ``source`` may be moved to, in definition order.

        An unknown state raises :class:`~modelyard.errors.InvalidNameError` listing the states.
        """
        self.require_state(source)
        return tuple(t.target for t in self._transitions if t.source == source)

    def require_state(self, state: object) -> str:
        """Return ``state`` if this lifecycle defines it; else raise ``InvalidNameError``."""
        if isinstance(state, str) and state in self._states:
            return state
        raise InvalidNameError(
            f"unknown state {state!r}; this lifecycle's states are {', '.join(self._states)}",
            name=state,
            reason="unknown state",
            available=list(self._states),
        )

    def displacement(self, state: str) -> str | None:
        """Where the holder of exclusive ``state`` goes when displaced (``None``: not exclusive)."""
        return self._exclusive.get(state)

    def with_guards(
        self, source: str, target: str, *guards: Guard, approvals: int | None = None
    ) -> Lifecycle:
        """A copy with ``guards`` added to the ``source -> target`` transition.

        ``approvals``, if given, replaces the transition's approval count.

        >>> from modelyard.lifecycle import metric_at_least
        >>> lc = Lifecycle.default().with_guards(
        ...     "staging", "production", metric_at_least("auc", 0.8), approvals=2)
        >>> lc.transition("staging", "production").label()
        'auc >= 0.8, 2 approvals'
        """
        existing = self.transition(source, target)
        if existing is None:
            raise LifecycleDefinitionError(
                f"there is no transition {source!r} -> {target!r} to guard; transitions from "
                f"{source!r}: {', '.join(self.allowed_targets(source)) or 'none'}",
                problem="unknown transition",
            )
        updated = replace(
            existing,
            guards=(*existing.guards, *guards),
            approvals=existing.approvals if approvals is None else approvals,
        )
        return Lifecycle(
            self._states,
            self._initial,
            [updated if t is existing else t for t in self._transitions],
            self._exclusive,
            protected=self._protected,
            amend=self._amend,
        )

    def evolve(
        self,
        *,
        protected: Iterable[str] | None = None,
        amend: Sequence[Guard] | None = None,
    ) -> Lifecycle:
        """A copy with ``protected`` states and/or ``amend`` guards replaced (``None`` keeps them).

        >>> from modelyard.lifecycle import require_approvals, require_role
        >>> lc = Lifecycle.default().evolve(
        ...     protected={"production"},
        ...     amend=[require_role("admin"), require_approvals(2, roles={"admin"})])
        >>> sorted(lc.protected), [g.name for g in lc.amend]
        (['production'], ['role admin', '2 approvals by admin'])
        >>> lc.evolve(amend=()).amend, lc.evolve(amend=()).protected == lc.protected
        ((), True)
        """
        return Lifecycle(
            self._states,
            self._initial,
            self._transitions,
            self._exclusive,
            protected=self._protected if protected is None else protected,
            amend=self._amend if amend is None else amend,
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form: a canonical JSON-able dict that :meth:`from_dict` turns back.

        The same lifecycle always gives the same dict. Guards are stored by name and parameters
        (their ``spec``); a guard without one (a plain function from
        :func:`~modelyard.lifecycle.as_guard`) cannot be stored and raises
        :class:`~modelyard.errors.LifecycleDefinitionError` (``problem="unstorable guard"``):
        register its factory with :func:`~modelyard.lifecycle.register_guard` and build it with
        :func:`~modelyard.lifecycle.guard`.

        >>> from modelyard.lifecycle import metric_at_least
        >>> lc = Lifecycle(["draft", "live"], "draft",
        ...                [Transition("draft", "live", [metric_at_least("auc", 0.8)])])
        >>> stored = lc.to_dict()
        >>> stored["schema_version"], stored["states"], stored["protected"], stored["amend"]
        (1, ['draft', 'live'], [], [])
        >>> stored["transitions"][0]["guards"]
        [{'name': 'metric_at_least', 'params': {'metric': 'auc', 'threshold': 0.8}}]
        >>> Lifecycle.from_dict(lc.to_dict()) == lc
        True
        """
        from modelyard.lifecycle._stored import lifecycle_to_dict

        return lifecycle_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lifecycle:
        """Rebuild a lifecycle from :meth:`to_dict` output, checking it as the constructor does.

        A ``schema_version`` newer than this modelyard reads (:data:`~modelyard.lifecycle.
        LIFECYCLE_SCHEMA`) raises :class:`~modelyard.errors.IntegrityError` saying to upgrade;
        malformed data raises :class:`~modelyard.errors.LifecycleDefinitionError` naming what is
        wrong. Guards are rebuilt with :func:`~modelyard.lifecycle.guard_from_spec`: no code runs
        but the factories of guards registered by name, and a guard whose code is not available
        here becomes a :class:`~modelyard.lifecycle.MissingGuard` that refuses its transitions.
        """
        from modelyard.lifecycle._stored import lifecycle_from_dict

        return lifecycle_from_dict(data)

    def to_mermaid(self) -> str:
        """The state graph as a Mermaid ``stateDiagram-v2`` (without the code fence).

        Transitions are labelled with their guards; exclusive states get a note naming where their
        displaced holder goes.

        >>> print(Lifecycle(["a", "b"], "a", [Transition("a", "b", approvals=1)]).to_mermaid())
        stateDiagram-v2
            direction LR
            [*] --> a
            a --> b : 1 approval
        """
        from modelyard.lifecycle._mermaid import render_mermaid

        return render_mermaid(self)

    def _key(self) -> tuple[Any, ...]:
        return (
            self._states,
            self._initial,
            self._transitions,
            self._exclusive,
            self._protected,
            self._amend,
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lifecycle):
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        exclusive = f", exclusive={dict(self._exclusive)!r}" if self._exclusive else ""
        protected = f", protected={sorted(self._protected)!r}" if self._protected else ""
        amend = f", amend=[{', '.join(guard_name(g) for g in self._amend)}]" if self._amend else ""
        return (
            f"Lifecycle(states={list(self._states)!r}, initial={self._initial!r}, "
            f"transitions={len(self._transitions)}{exclusive}{protected}{amend})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                self._states,
                self._initial,
                self._transitions,
                dict(self._exclusive),
                sorted(self._protected),
                self._amend,
            ),
        )


def _rebuild(
    states: tuple[str, ...],
    initial: str,
    transitions: tuple[Transition, ...],
    exclusive: dict[str, str],
    protected: list[str],
    amend: tuple[Guard, ...],
) -> Lifecycle:
    return Lifecycle(states, initial, transitions, exclusive, protected=protected, amend=amend)
