"""Rollback: restore the previous holder of an exclusive state, found from the history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from modelyard.errors import InputError, TransitionRejected
from modelyard.lifecycle._changes import Decision, StateChange
from modelyard.lifecycle._definition import Lifecycle
from modelyard.lifecycle._status import ModelStatus
from modelyard.lifecycle._values import require_aware, require_text, require_version

__all__ = ["decide_rollback", "holder_stack"]


def holder_stack(state: str, history: Iterable[StateChange]) -> tuple[int, ...]:
    """The versions that held ``state``, oldest first, with rolled-back holders removed.

    Every change into ``state`` pushes its version. A rollback into ``state`` pops holders until the
    restored version is on top, so repeated rollbacks walk further back in time instead of
    flipping between the last two holders.

    >>> h = [StateChange(1, "staging", "production"), StateChange(2, "staging", "production"),
    ...      StateChange(3, "staging", "production")]
    >>> holder_stack("production", h)
    (1, 2, 3)
    >>> holder_stack("production", [*h, StateChange(2, "archived", "production", "rollback")])
    (1, 2)
    """
    stack: list[int] = []
    for change in history:
        if not isinstance(change, StateChange):
            raise InputError(f"history must hold StateChange objects, got {change!r}")
        if change.target != state:
            continue
        if change.cause == "rollback":
            while stack and stack[-1] != change.version:
                stack.pop()
            if not stack:
                stack.append(change.version)
        elif not stack or stack[-1] != change.version:
            stack.append(change.version)
    return tuple(stack)


def decide_rollback(
    lifecycle: Lifecycle,
    status: ModelStatus,
    state: str,
    history: Sequence[StateChange],
    *,
    actor: str,
    at: datetime,
    reason: str = "",
    version: int | None = None,
) -> Decision:
    """Decide a rollback of exclusive ``state`` to its previous holder.

    ``history`` is every :class:`StateChange` committed for the model, oldest first. The previous
    holder is the most recent earlier holder of ``state`` (see :func:`holder_stack`) that is not the
    current holder and still exists; pass ``version`` to pick an older previous holder explicitly.

    The decision moves the restored version into ``state`` (cause ``"rollback"``, first) and the
    current holder, if any, to the displacement state (cause ``"displaced"``). Rollbacks skip the
    transition table and the guards on purpose: a rollback returns to a state the model was already
    in and is the lever pulled during an incident, when an expired approval or a missing drift
    report must not block it. ``actor``, ``at`` and ``reason`` are validated; record them with the
    decision. ``results`` is empty.

    Raises :class:`~modelyard.errors.InputError` if ``state`` is not exclusive (``InvalidNameError``
    if it is not a state), and :class:`~modelyard.errors.TransitionRejected` if there is no previous
    holder to restore.

    >>> from datetime import datetime, timezone
    >>> from modelyard.lifecycle import Lifecycle, ModelStatus, VersionStatus
    >>> status = ModelStatus.of("churn", [VersionStatus(1, "archived"),
    ...                                   VersionStatus(2, "production")])
    >>> history = [StateChange(1, "staging", "production"),
    ...            StateChange(2, "staging", "production"),
    ...            StateChange(1, "production", "archived", "displaced")]
    >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> d = decide_rollback(Lifecycle.default(), status, "production", history, actor="lee", at=at)
    >>> [(c.version, c.source, c.target, c.cause) for c in d.changes]
    [(1, 'archived', 'production', 'rollback'), (2, 'production', 'archived', 'displaced')]
    """
    lifecycle.require_state(state)
    require_text(actor, what="actor")
    require_aware(at, what="rollback time")
    if not isinstance(reason, str):
        raise InputError(f"reason must be a string, got {reason!r}")
    if version is not None:
        require_version(version)
    displaced_to = lifecycle.displacement(state)
    if displaced_to is None:
        exclusive = ", ".join(lifecycle.exclusive) or "none in this lifecycle"
        raise InputError(
            f"rollback restores the previous holder of an exclusive state; {state!r} is not "
            f"exclusive (exclusive states: {exclusive}); request a transition instead",
            state=state,
        )
    current = status.holders(state)
    stack = holder_stack(state, history)
    candidates = [v for v in reversed(stack) if v not in current and v in status.versions]
    if version is not None:
        if version not in candidates:
            raise TransitionRejected(
                f"version {version!r} of {status.name!r} is not a previous holder of {state!r} "
                f"that can be restored; previous holders: "
                f"{', '.join(map(str, candidates)) or 'none'}",
                version=version,
                source=None,
                target=state,
                results=(),
            )
        restored = version
    elif candidates:
        restored = candidates[0]
    else:
        holder = f"version {current[0]}" if current else "no version"
        raise TransitionRejected(
            f"nothing to roll back to: {holder} of {status.name!r} holds {state!r}, and the "
            "history shows no earlier holder to restore",
            version=None,
            source=None,
            target=state,
            results=(),
        )
    source = status.versions[restored].state
    changes = [StateChange(restored, source, state, "rollback")]
    changes.extend(StateChange(v, state, displaced_to, "displaced") for v in current)
    return Decision(tuple(changes), ())
