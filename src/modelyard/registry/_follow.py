"""Aliases that follow a stage: where they point after a transition or rollback.

An alias bound to an exclusive stage (``set_alias("churn", "champion", follow="production")``)
equals the stage's holder at all times. It cannot lag behind in a separate event, because a reader
between the two events would see the alias and the stage disagree; so every transition and
rollback carries the alias moves it causes, and applying the event moves the aliases with the
stage. The writer computes the moves with :func:`alias_moves` and records them (so that the history
shows them); the fold computes them again and refuses an event whose record disagrees, so a
following alias cannot drift from its stage even in a log written by hand.

When the stage has no holder (its holder moved out and nobody came in) the alias points at
nothing: it is absent from ``aliases()`` and resolving it raises ``NotFoundError``, but the binding
stays and the alias comes back with the next version that enters the stage. Pointing at the last
holder instead would serve a version that is no longer in the stage, which is what following is
meant to rule out.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelyard.lifecycle import StateChange
from modelyard.registry._records import AliasMove
from modelyard.registry._state import ModelState

__all__ = ["alias_moves", "follow_target"]


def follow_target(
    holders: tuple[int, ...], current: int | None, entered: Iterable[int] = ()
) -> int | None:
    """The version an alias following a stage with ``holders`` points at.

    An exclusive stage has at most one holder. Several are possible only in a yard whose lifecycle
    stopped declaring the stage exclusive; the alias then stays where it is if that version is
    still in the stage, or goes to the version that entered last, so the result is still one
    version of the stage.

    >>> follow_target((3,), 2), follow_target((), 2), follow_target((2, 4), 2, entered=[4])
    (3, None, 4)
    """
    if len(holders) <= 1:
        return holders[0] if holders else None
    last_in = [number for number in entered if number in holders]
    if last_in:
        return last_in[-1]
    return current if current in holders else holders[-1]


def alias_moves(state: ModelState, changes: Iterable[StateChange]) -> tuple[AliasMove, ...]:
    """The moves of following aliases that ``changes`` cause in ``state``, by alias name."""
    if not state.follows:
        return ()
    changes = tuple(changes)
    stage_of = {n: v.state for n, v in state.versions.items() if not v.deleted}
    for change in changes:
        stage_of[change.version] = change.target
    moves = []
    for alias, stage in sorted(state.follows.items()):
        holders = tuple(sorted(n for n, s in stage_of.items() if s == stage))
        entered = [c.version for c in changes if c.target == stage]
        current = state.aliases.get(alias)
        target = follow_target(holders, current, entered)
        if target != current:
            moves.append(AliasMove(alias, current, target))
    return tuple(moves)
