"""The stored form of a lifecycle: a canonical JSON-able dict, read back without running code.

Only guard factories registered by name (built-ins, :func:`register_guard`, entry points in the
group ``modelyard.guards``) run when a stored lifecycle is read; nothing else the data names does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelyard.errors import InputError, IntegrityError, LifecycleDefinitionError
from modelyard.lifecycle._catalog import guard_from_spec, spec_of
from modelyard.lifecycle._definition import Lifecycle, Transition
from modelyard.lifecycle._guard import Guard, guard_name
from modelyard.lifecycle._spec import GuardSpec

__all__ = ["LIFECYCLE_SCHEMA", "lifecycle_from_dict", "lifecycle_to_dict"]

#: The version of the stored lifecycle format this modelyard writes and the newest it reads.
LIFECYCLE_SCHEMA = 1

_KEYS = {"schema_version", "states", "initial", "transitions", "exclusive", "protected", "amend"}
_TRANSITION_KEYS = {"source", "target", "guards", "approvals"}


def _spec(guard: Guard, where: str) -> dict[str, Any]:
    spec = spec_of(guard)
    if spec is not None:
        return spec.to_dict()
    name = guard_name(guard)
    raise LifecycleDefinitionError(
        f"guard {name!r} of {where} has no stored form (it is a plain function or an object "
        "without a 'spec'), so this lifecycle cannot be stored; register its factory under a "
        "dotted name with register_guard('yourorg.some_check', factory) (or an entry point in the "
        "group 'modelyard.guards') and build the guard with guard('yourorg.some_check', **params)",
        problem="unstorable guard",
        guard=name,
    )


def lifecycle_to_dict(lifecycle: Lifecycle) -> dict[str, Any]:
    """See :meth:`Lifecycle.to_dict`."""
    return {
        "schema_version": LIFECYCLE_SCHEMA,
        "states": list(lifecycle.states),
        "initial": lifecycle.initial,
        "transitions": [
            {
                "source": t.source,
                "target": t.target,
                "guards": [_spec(g, f"{t.source!r} -> {t.target!r}") for g in t.guards],
                "approvals": t.approvals,
            }
            for t in lifecycle.transitions
        ],
        "exclusive": dict(sorted(lifecycle.exclusive.items())),
        "protected": sorted(lifecycle.protected),
        "amend": [_spec(g, "the lifecycle's amend guards") for g in lifecycle.amend],
    }


def _bad(message: str, **context: Any) -> LifecycleDefinitionError:
    return LifecycleDefinitionError(
        f"stored lifecycle: {message}", problem="malformed stored lifecycle", **context
    )


def _list(value: object, what: str) -> Sequence[Any]:
    if not isinstance(value, (list, tuple)):
        raise _bad(f"{what} must be a list, got {type(value).__name__}", what=what)
    return value


def _guards(value: object, what: str) -> list[Guard]:
    guards = []
    for number, item in enumerate(_list(value, what)):
        try:
            spec = GuardSpec.from_dict(item)
        except InputError as exc:
            raise _bad(f"{what}[{number}]: {exc}", what=what) from None
        guards.append(guard_from_spec(spec))
    return guards


def _transition(item: object, number: int) -> Transition:
    what = f"transitions[{number}]"
    if not isinstance(item, Mapping):
        raise _bad(f"{what} must be a mapping, got {type(item).__name__}", what=what)
    missing = sorted({"source", "target"} - set(item))
    unknown = sorted(set(item) - _TRANSITION_KEYS)
    if missing or unknown:
        raise _bad(
            f"{what} needs 'source' and 'target' and may have 'guards' and 'approvals'; "
            + (f"missing {missing}" if missing else f"unknown keys {unknown}"),
            what=what,
        )
    guards = _guards(item.get("guards", []), f"{what}.guards")
    return Transition(item["source"], item["target"], guards, item.get("approvals", 0))


def lifecycle_from_dict(data: Mapping[str, Any]) -> Lifecycle:
    """See :meth:`Lifecycle.from_dict`."""
    if not isinstance(data, Mapping):
        raise _bad(f"expected a mapping, got {type(data).__name__}")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _bad(
            f"'schema_version' must be an integer >= 1, got {version!r}", what="schema_version"
        )
    if version > LIFECYCLE_SCHEMA:
        raise IntegrityError(
            f"the stored lifecycle was written by a newer modelyard (lifecycle format {version}; "
            f"this version reads format {LIFECYCLE_SCHEMA}): upgrade modelyard to read it",
            problem="newer schema",
            schema_version=version,
        )
    missing = sorted({"states", "initial", "transitions"} - set(data))
    if missing:
        raise _bad(f"missing keys {missing}; got keys {sorted(data)}", what=missing[0])
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _bad(f"unknown keys {unknown}; known keys: {sorted(_KEYS)}", what=unknown[0])
    exclusive = data.get("exclusive", {})
    if not isinstance(exclusive, Mapping):
        raise _bad(f"'exclusive' must be a mapping, got {type(exclusive).__name__}")
    return Lifecycle(
        _list(data["states"], "states"),
        data["initial"],
        [_transition(item, n) for n, item in enumerate(_list(data["transitions"], "transitions"))],
        exclusive,
        protected=_list(data.get("protected", []), "protected"),
        amend=_guards(data.get("amend", []), "amend"),
    )
