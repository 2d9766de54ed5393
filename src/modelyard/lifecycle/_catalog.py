"""Guards by name: the built-ins, guards registered in this process, and entry-point plugins.

A stored lifecycle keeps each guard as a :class:`GuardSpec` (name and parameters). Turning a spec
back into a guard looks the name up in three places, in order: the built-in guards, factories
registered with :func:`register_guard`, and entry points in the group ``modelyard.guards`` (read
only when a name is not known yet, so importing modelyard never imports a plugin). A name that
none of them knows becomes a :class:`MissingGuard`, which refuses every transition that needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from modelyard.errors import InputError, LifecycleDefinitionError
from modelyard.lifecycle._approvals import require_approvals
from modelyard.lifecycle._guard import Guard, GuardContext, GuardResult, guard_name
from modelyard.lifecycle._guards import drift_clean, metric_at_least, metric_at_most, require_tags
from modelyard.lifecycle._monitoring_guard import monitoring_clean
from modelyard.lifecycle._roles import require_role
from modelyard.lifecycle._spec import GuardSpec, check_guard_name
from modelyard.lifecycle._values import thaw_json

__all__ = [
    "ENTRY_POINT_GROUP",
    "GuardFactory",
    "MissingGuard",
    "RegisteredGuard",
    "guard",
    "guard_from_spec",
    "register_guard",
    "spec_of",
]

ENTRY_POINT_GROUP = "modelyard.guards"

GuardFactory = Callable[..., Guard]


def _tags(keys: list[str] | tuple[str, ...] = (), values: Mapping[str, str] | None = None) -> Guard:
    if isinstance(keys, str):
        raise InputError(f"keys must be a list of tag keys, not the string {keys!r}")
    return require_tags(*keys, **dict(values or {}))


def _approvals(
    n: int,
    roles: list[str] | None = None,
    max_age_seconds: float | None = None,
    exclude_requester: bool = False,
) -> Guard:
    if not isinstance(exclude_requester, bool):
        raise InputError(f"exclude_requester must be a bool, got {exclude_requester!r}")
    if max_age_seconds is not None and (
        isinstance(max_age_seconds, bool) or not isinstance(max_age_seconds, (int, float))
    ):
        raise InputError(f"max_age_seconds must be a number, got {max_age_seconds!r}")
    max_age = None if max_age_seconds is None else timedelta(seconds=max_age_seconds)
    return require_approvals(n, roles=roles, max_age=max_age, exclude_requester=exclude_requester)


def _monitoring(max_age_seconds: float | None = None, **params: Any) -> Guard:
    if max_age_seconds is not None and (
        isinstance(max_age_seconds, bool) or not isinstance(max_age_seconds, (int, float))
    ):
        raise InputError(f"max_age_seconds must be a number, got {max_age_seconds!r}")
    max_age = None if max_age_seconds is None else timedelta(seconds=max_age_seconds)
    return monitoring_clean(max_age=max_age, **params)


def _roles(roles: list[str]) -> Guard:
    if isinstance(roles, str):
        raise InputError(f"roles must be a list of role names, not the string {roles!r}")
    return require_role(*roles)


# Factories that take exactly the parameters each built-in's ``spec`` stores.
_BUILTINS: Mapping[str, GuardFactory] = MappingProxyType(
    {
        "metric_at_least": metric_at_least,
        "metric_at_most": metric_at_most,
        "require_tags": _tags,
        "require_approvals": _approvals,
        "drift_clean": drift_clean,
        "monitoring_clean": _monitoring,
        "require_role": _roles,
    }
)
_registered: dict[str, GuardFactory] = {}
_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class RegisteredGuard:
    """A guard built by :func:`guard` from a registered factory, carrying the spec it was built
    from so that a lifecycle holding it can be stored. Equal when the specs are equal."""

    spec: GuardSpec
    guard: Guard

    @property
    def name(self) -> str:
        return guard_name(self.guard)

    @property
    def context_evidence(self) -> Mapping[str, str] | None:
        """What the wrapped guard reads from attached evidence, if it says."""
        reads = getattr(self.guard, "context_evidence", None)
        return reads if isinstance(reads, Mapping) else None

    def __call__(self, ctx: GuardContext) -> GuardResult:
        return self.guard(ctx)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RegisteredGuard):
            return self.spec == other.spec
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.spec)

    def __reduce__(self) -> tuple[Any, ...]:
        # Crossing into another process goes by name, like a stored lifecycle: the factory there
        # rebuilds it, and a process without the factory gets a MissingGuard (fail closed).
        return (guard_from_spec, (self.spec,))


@dataclass(frozen=True)
class MissingGuard:
    """A stored guard whose code this process does not have. It refuses every transition.

    A transition that needs it is refused with a reason naming the guard and how to make its code
    available; it is never skipped. Its :attr:`spec` is kept exactly as stored, so a lifecycle
    read and stored again by this process keeps the guard for processes that have its code.

    >>> from modelyard.lifecycle import GuardContext, guard_from_spec
    >>> missing = guard_from_spec(GuardSpec("acme.fairness", {"max_gap": 0.05}))
    >>> missing.name
    'acme.fairness'
    >>> result = missing(GuardContext.for_test())
    >>> result.ok, result.reason
    (False, "guard 'acme.fairness' is not available in this process (no built-in, registered or \
entry-point guard has that name); install the package that provides it (entry point \
'acme.fairness' in the group 'modelyard.guards') or call register_guard('acme.fairness', factory) \
before this transition")
    >>> missing.spec.to_dict()
    {'name': 'acme.fairness', 'params': {'max_gap': 0.05}}
    """

    spec: GuardSpec
    problem: str = field(
        default="no built-in, registered or entry-point guard has that name", compare=False
    )

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, ctx: GuardContext) -> GuardResult:
        name = self.spec.name
        return GuardResult(
            False,
            f"guard {name!r} is not available in this process ({self.problem}); install the "
            f"package that provides it (entry point {name!r} in the group {ENTRY_POINT_GROUP!r}) "
            f"or call register_guard({name!r}, factory) before this transition",
            {"missing": name, "params": thaw_json(self.spec.params), "problem": self.problem},
            guard=name,
        )


def register_guard(name: str, factory: GuardFactory, *, replace: bool = False) -> None:
    """Register ``factory(**params) -> Guard`` under ``name``, so :func:`guard` can build it and
    stored lifecycles naming it can be read back with it.

    ``name`` is a dotted label such as ``"acme.min_rows"`` (a dot is required: single words are
    kept for built-in guards, whose names are reserved). Registering another factory under a name
    that is taken raises :class:`~modelyard.errors.InputError` unless ``replace=True``;
    registering the same factory again does nothing. Safe to call from several threads.

    Every process that decides transitions needing the guard must register it too (or install a
    package that declares it as an entry point in the group ``modelyard.guards``); one that does
    not refuses those transitions.

    >>> from modelyard.lifecycle import GuardResult, as_guard, guard
    >>> def min_rows(rows):
    ...     def check(ctx):
    ...         seen = int(ctx.version.tags.get("rows", "0"))
    ...         if seen >= rows:
    ...             return GuardResult.passed(f"{seen} rows >= {rows}")
    ...         return GuardResult.failed(f"{seen} rows < {rows}; train on more data")
    ...     return as_guard(check, name=f"rows >= {rows}")
    >>> register_guard("acme.min_rows", min_rows)
    >>> g = guard("acme.min_rows", rows=1000)
    >>> g.name, g.spec.to_dict()
    ('rows >= 1000', {'name': 'acme.min_rows', 'params': {'rows': 1000}})
    """
    check_guard_name(name)
    if "." not in name:
        reserved = " (a built-in guard)" if name in _BUILTINS else ""
        raise InputError(
            f"custom guard names are dotted, such as 'acme.{name}'; {name!r} is reserved{reserved}",
            what="guard name",
        )
    if not callable(factory):
        raise InputError(f"a guard factory must be callable, got {factory!r}")
    with _lock:
        existing = _registered.get(name)
        if existing is not None and existing is not factory and not replace:
            raise InputError(
                f"a guard named {name!r} is already registered ({existing!r}); pass replace=True "
                "to replace it",
                what="guard name",
            )
        _registered[name] = factory


def _lookup(name: str) -> GuardFactory | None:
    """The factory for ``name``: a built-in, a registered one, or an entry point (loaded here, at
    most once). ``None`` if nothing provides it; a plugin that fails to load raises
    ``_PluginLoadFailed``."""
    builtin = _BUILTINS.get(name)
    if builtin is not None:
        return builtin
    with _lock:
        known = _registered.get(name)
    if known is not None:
        return known
    from importlib.metadata import entry_points

    found = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
    if not found:
        return None
    try:
        loaded = found[0].load()
    except Exception as exc:
        raise _PluginLoadFailed(
            f"its entry point {found[0].value!r} failed to load: {exc!r}"
        ) from exc
    if not callable(loaded):
        raise _PluginLoadFailed(f"its entry point {found[0].value!r} is not callable")
    with _lock:
        return _registered.setdefault(name, loaded)


class _PluginLoadFailed(Exception):
    pass


def _build(name: str, factory: GuardFactory, params: Mapping[str, Any]) -> Guard:
    try:
        # Factories get plain lists and dicts, as a caller of guard() would pass them.
        built = factory(**thaw_json(params))
    except TypeError as exc:
        raise LifecycleDefinitionError(
            f"guard {name!r} does not take the parameters {thaw_json(params)!r}: {exc}",
            problem="bad guard",
            guard=name,
        ) from None
    except InputError as exc:
        raise LifecycleDefinitionError(
            f"guard {name!r} with parameters {thaw_json(params)!r}: {exc}",
            problem="bad guard",
            guard=name,
        ) from None
    if not callable(built):
        raise LifecycleDefinitionError(
            f"the factory of guard {name!r} returned {built!r}, which is not a guard",
            problem="bad guard",
            guard=name,
        )
    return built


def guard(name: str, /, **params: Any) -> Guard:
    """Build the guard registered as ``name`` with ``params`` (JSON-able values only).

    ``name`` is a built-in guard (``metric_at_least``, ``metric_at_most``, ``require_tags``,
    ``require_approvals``, ``drift_clean``, ``monitoring_clean``, ``require_role``, with the
    parameters their ``spec`` shows) or a name given to :func:`register_guard` or declared as an
    entry point in the group ``modelyard.guards``. The guard carries its :class:`GuardSpec`, so a
    lifecycle holding it can be stored. An unknown name or parameters the guard does not take raise
    :class:`~modelyard.errors.LifecycleDefinitionError`.

    >>> guard("metric_at_least", metric="auc", threshold=0.8).name
    'auc >= 0.8'
    >>> guard("require_approvals", n=2, roles=["qa"], exclude_requester=True).spec.params["roles"]
    ('qa',)
    """
    spec = GuardSpec(name, params)
    try:
        factory = _lookup(name)
    except _PluginLoadFailed as exc:
        raise LifecycleDefinitionError(
            f"guard {name!r} cannot be built: {exc}; reinstall the package that provides it",
            problem="unknown guard",
            guard=name,
        ) from None
    if factory is None:
        raise LifecycleDefinitionError(
            f"there is no guard named {name!r}; built-in guards: {', '.join(sorted(_BUILTINS))}; "
            f"register a custom one with register_guard({name!r}, factory) or an entry point in "
            f"the group {ENTRY_POINT_GROUP!r}",
            problem="unknown guard",
            guard=name,
        )
    built = _build(name, factory, spec.params)
    if name in _BUILTINS:
        return built  # built-ins carry their own spec
    return RegisteredGuard(spec, built)


def guard_from_spec(spec: GuardSpec | Mapping[str, Any]) -> Guard:
    """Rebuild a guard from its stored form (a :class:`GuardSpec` or its ``to_dict()``).

    Built-in guards with parameters they do not take raise
    :class:`~modelyard.errors.LifecycleDefinitionError` (the stored data is damaged). A custom
    guard whose code is not available here (not registered, no entry point, a plugin that fails to
    load, or a factory that refuses the stored parameters) becomes a :class:`MissingGuard`, which
    refuses every transition that needs it and keeps the spec unchanged.

    >>> guard_from_spec({"name": "metric_at_most", "params": {"metric": "mae", "threshold": 3}})
    MetricGuard(metric='mae', threshold=3.0, direction='at_most')
    """
    if not isinstance(spec, GuardSpec):
        spec = GuardSpec.from_dict(spec)
    if spec.name in _BUILTINS:
        return guard(spec.name, **spec.params)
    try:
        factory = _lookup(spec.name)
    except _PluginLoadFailed as exc:
        return MissingGuard(spec, str(exc))
    if factory is None:
        return MissingGuard(spec)
    try:
        return RegisteredGuard(spec, _build(spec.name, factory, spec.params))
    except Exception as exc:  # a plugin's bug must not make the lifecycle unreadable
        return MissingGuard(spec, f"its factory failed on the stored parameters: {exc}")


def spec_of(guard: object) -> GuardSpec | None:
    """The stored form of ``guard``, or ``None`` if it has none."""
    spec = getattr(guard, "spec", None)
    return spec if isinstance(spec, GuardSpec) else None
