"""The guard protocol: a check on a transition that says why it passed or failed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from modelyard._internal.actors import actor_key
from modelyard.errors import InputError
from modelyard.lifecycle._values import FrozenMap, freeze_json, thaw_json

if TYPE_CHECKING:
    from modelyard.lifecycle._definition import Transition
    from modelyard.lifecycle._status import (
        Approval,
        ModelStatus,
        TransitionRequest,
        VersionStatus,
    )

__all__ = [
    "FunctionGuard",
    "Guard",
    "GuardContext",
    "GuardResult",
    "as_guard",
    "freeze_roles",
    "guard_name",
]


@dataclass(frozen=True)
class GuardResult:
    """The verdict of one guard: whether it passed, why, and the facts it looked at.

    ``details`` must be JSON-able (it is frozen into tuples and read-only mappings), because the
    registry stores every guard result in the model's history. ``guard`` is the name of the guard
    that produced the result; :func:`~modelyard.lifecycle.decide` fills it in when a guard leaves it
    empty.

    >>> r = GuardResult(False, "auc = 0.71 < 0.8", {"value": 0.71}, guard="auc >= 0.8")
    >>> r.to_dict()
    {'ok': False, 'reason': 'auc = 0.71 < 0.8', 'details': {'value': 0.71}, 'guard': 'auc >= 0.8'}
    >>> GuardResult.from_dict(r.to_dict()) == r
    True
    """

    ok: bool
    reason: str
    details: Mapping[str, Any] = field(default_factory=FrozenMap)
    guard: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.ok, bool):
            raise InputError(f"GuardResult.ok must be a bool, got {self.ok!r}", what="ok")
        if not isinstance(self.reason, str):
            raise InputError(f"GuardResult.reason must be a str, got {self.reason!r}")
        if not isinstance(self.guard, str):
            raise InputError(f"GuardResult.guard must be a str, got {self.guard!r}")
        if not isinstance(self.details, Mapping):
            raise InputError(f"GuardResult.details must be a mapping, got {self.details!r}")
        object.__setattr__(self, "details", freeze_json(self.details, what="details"))

    @classmethod
    def passed(cls, reason: str, details: Mapping[str, Any] | None = None) -> GuardResult:
        """A passing result. ``GuardResult.passed("tagged")`` reads better in a custom guard."""
        return cls(True, reason, details or {})

    @classmethod
    def failed(cls, reason: str, details: Mapping[str, Any] | None = None) -> GuardResult:
        """A failing result; ``reason`` should say what must change for the guard to pass."""
        return cls(False, reason, details or {})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (plain dicts and lists) that :meth:`from_dict` turns back."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "details": thaw_json(self.details),
            "guard": self.guard,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardResult:
        """Rebuild a result from :meth:`to_dict` output (unknown keys are ignored)."""
        try:
            return cls(
                ok=data["ok"],
                reason=data["reason"],
                details=data.get("details") or {},
                guard=data.get("guard", ""),
            )
        except KeyError as exc:
            raise InputError(
                f"a guard result needs the key {exc.args[0]!r}; got keys {sorted(data)}"
            ) from None


@dataclass(frozen=True)
class GuardContext:
    """Everything a guard may look at: the model, the request, the version and the transition.

    Guards are pure: they read this context and return a :class:`GuardResult`. The current time is
    ``request.at`` (also :attr:`at`), so a decision can be replayed.

    ``roles`` is the role book in force when the request is decided: role name -> the
    :func:`~modelyard.lifecycle.actor_key` of each member (keys are applied again here, so plain
    names work too). ``None`` means no role book is known: guards that need roles then fail closed.
    """

    model: str
    status: ModelStatus
    request: TransitionRequest
    version: VersionStatus
    transition: Transition
    roles: Mapping[str, frozenset[str]] | None = None

    def __post_init__(self) -> None:
        if self.roles is not None:
            object.__setattr__(self, "roles", freeze_roles(self.roles))

    @property
    def source(self) -> str:
        """The state the version is in now."""
        return self.version.state

    @property
    def target(self) -> str:
        """The state the version is asked to move to."""
        return self.request.target

    @property
    def at(self) -> datetime:
        """When the transition is requested (the time guards judge expiry against)."""
        return self.request.at

    @classmethod
    def for_test(
        cls,
        *,
        version: int = 1,
        state: str = "staging",
        target: str = "production",
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
        approvals: Sequence[Approval] = (),
        actor: str = "tester",
        at: datetime | None = None,
        request_context: Mapping[str, Any] | None = None,
        model: str = "model",
        roles: Mapping[str, Collection[str]] | None = None,
    ) -> GuardContext:
        """A context with defaults for everything not given, for trying and testing guards.

        ``at`` defaults to 2025-01-01T00:00Z so results do not depend on the clock. ``roles`` is a
        role book (role name -> members); the default ``None`` means no role book is known.

        >>> ctx = GuardContext.for_test(metrics={"auc": 0.9})
        >>> ctx.source, ctx.target, ctx.version.metrics["auc"]
        ('staging', 'production', 0.9)
        """
        from modelyard.lifecycle._definition import Transition
        from modelyard.lifecycle._status import ModelStatus, TransitionRequest, VersionStatus

        when = at if at is not None else datetime(2025, 1, 1, tzinfo=timezone.utc)
        current = VersionStatus(version, state, metrics or {}, tags or {})
        return cls(
            model=model,
            status=ModelStatus(model, {version: current}, approvals),
            request=TransitionRequest(version, target, actor, when, context=request_context or {}),
            version=current,
            transition=Transition(state, target),
            roles=None if roles is None else freeze_roles(roles),
        )

    @property
    def approvals(self) -> tuple[Approval, ...]:
        """The recorded approvals for exactly this version and target state."""
        return tuple(
            a
            for a in self.status.approvals
            if a.version == self.version.version and a.target == self.request.target
        )


@runtime_checkable
class Guard(Protocol):
    """A check on a transition.

    A guard has a ``name`` (shown in rejections, the history and diagrams) and is called with a
    :class:`GuardContext`; it returns a :class:`GuardResult` with a reason, never a bare bool, so a
    refused transition always says why. Guards must not do IO or depend on anything but the context:
    the same context must give the same result.

    A guard that judges evidence attached to the version may say so with a ``context_evidence``
    mapping (context key -> evidence kind, as :func:`~modelyard.lifecycle.drift_clean` has): the
    registry then puts the latest attachment of that kind under the key when the request's
    context has nothing there, so the guard itself still only reads its context.

    A guard that can be stored in a yard has a ``spec`` (a :class:`~modelyard.lifecycle.GuardSpec`:
    its registered name and parameters). Every built-in guard has one, and so has every guard built
    by :func:`~modelyard.lifecycle.guard` from a factory given to
    :func:`~modelyard.lifecycle.register_guard`.
    """

    @property
    def name(self) -> str:
        """A short human-readable name, such as ``"auc >= 0.8"``."""
        ...

    def __call__(self, ctx: GuardContext) -> GuardResult: ...


@dataclass(frozen=True)
class FunctionGuard:
    """A guard made from a plain function by :func:`as_guard`."""

    name: str
    function: Callable[[GuardContext], GuardResult]

    def __call__(self, ctx: GuardContext) -> GuardResult:
        return self.function(ctx)


def as_guard(
    function: Callable[[GuardContext], GuardResult], *, name: str | None = None
) -> FunctionGuard:
    """Turn a function of a :class:`GuardContext` into a named :class:`Guard`.

    >>> def owner_set(ctx):
    ...     if "owner" in ctx.status.model_tags:
    ...         return GuardResult.passed("the model has an owner")
    ...     return GuardResult.failed("set the model tag 'owner' first")
    >>> as_guard(owner_set).name
    'owner_set'
    """
    if not callable(function):
        raise InputError(f"a guard must be callable, got {function!r}")
    label = name if name is not None else getattr(function, "__name__", type(function).__name__)
    if not isinstance(label, str) or not label:
        raise InputError(f"a guard name must be a non-empty string, got {label!r}")
    return FunctionGuard(label, function)


def guard_name(guard: object) -> str:
    """The name of a guard: its ``name`` attribute, else its ``__name__``, else its type's name."""
    name = getattr(guard, "name", None)
    if isinstance(name, str) and name:
        return name
    fallback = getattr(guard, "__name__", None)
    return fallback if isinstance(fallback, str) else type(guard).__name__


def freeze_roles(roles: Mapping[str, Collection[str]]) -> FrozenMap[str, frozenset[str]]:
    """An immutable role book: role name -> frozenset of member actor keys."""
    if isinstance(roles, FrozenMap) and all(isinstance(m, frozenset) for m in roles.values()):
        return roles
    if not isinstance(roles, Mapping):
        raise InputError(
            f"roles must map each role name to its members, got {type(roles).__name__}",
            what="roles",
        )
    book: dict[str, frozenset[str]] = {}
    for role, members in roles.items():
        if (
            not isinstance(role, str)
            or isinstance(members, str)
            or not isinstance(members, Collection)
        ):
            raise InputError(
                f"roles must map a role name to a collection of actors, got {role!r}: {members!r}",
                what="roles",
            )
        book[role] = frozenset(actor_key(member) for member in members)
    return FrozenMap(book)
