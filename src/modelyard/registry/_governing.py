"""Governance a registry enforces: the stored lifecycle in force, roles, approved changes.

Every write of a :class:`~modelyard.registry.Registry` asks :meth:`Governance.for_write` for the
lifecycle of the model first. That reads the yard's governance log (one failed read when nothing
changed), stores the lifecycle in use if the yard has none yet (so an existing yard migrates at
its first write, with no step), and refuses a registry whose code was given another lifecycle
than the stored one. Changing the stored lifecycle or the roles is itself a governed, audited
change (:meth:`set_lifecycle`, :meth:`grant_role`): once the yard has an ``admin``, only admins
may make it, and the ``amend`` guards of the lifecycle in force (approvals, roles) must pass.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modelyard._internal.actors import check_actor
from modelyard._internal.canonical import canonical_json
from modelyard._internal.clock import Clock
from modelyard._internal.names import validate_name
from modelyard._internal.retry import RetryPolicy
from modelyard.errors import (
    ConcurrentModificationError,
    InputError,
    KeyExistsError,
    LifecycleMismatchError,
    NotAuthorizedError,
    TransitionRejected,
)
from modelyard.lifecycle import (
    GuardContext,
    Lifecycle,
    ModelStatus,
    Transition,
    TransitionRequest,
    VersionStatus,
    evaluate_guards,
)
from modelyard.registry._countersign import changed, sign
from modelyard.registry._governance import ADMIN_ROLE, GovernanceLog, GovernanceState
from modelyard.registry._governance_events import GovernanceEntry, GovernanceEvent, change_id
from modelyard.registry._log import EventLog
from modelyard.registry._validate import check_label, check_text

__all__ = ["Governance", "require_approver_role"]

CodeLifecycle = Lifecycle | Callable[[str], Lifecycle] | None

#: The pseudo state a lifecycle change moves from, in the guard context of its amend guards.
_IN_FORCE = "in-force"


class Governance:
    """The yard's governance as one registry object sees and changes it (thread-safe)."""

    def __init__(
        self,
        log: GovernanceLog,
        models: EventLog,
        *,
        code: CodeLifecycle,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
        self.log = log
        self.models = models
        self.code = code
        self.clock = clock
        self.retry = retry
        self._specs: dict[int, tuple[Lifecycle, bytes]] = {}

    # -- what is in force ------------------------------------------------------------------------

    def in_force(self, model: str | None, *, fresh: bool = True) -> Lifecycle:
        """The stored lifecycle of ``model`` (None: the default); before the yard has one, the
        one its first write will store."""
        state = self.log.state() if fresh else (self.log.cached() or self.log.state())
        stored = state.lifecycle_for(model)
        if stored is not None:
            return stored.lifecycle
        return self._code_lifecycle(model) or Lifecycle.default()

    def protected(self, model: str) -> frozenset[str]:
        """The protected stages of ``model``'s stored lifecycle (read when events are read).

        Reads of many models in a row (a search, a feed) read the governance log at most once a
        second; every write reads it afresh."""
        stored = self.log.state(max_age=1.0).lifecycle_for(model)
        return stored.lifecycle.protected if stored is not None else frozenset()

    def for_write(self, model: str, actor: str) -> tuple[Lifecycle, GovernanceState]:
        """The lifecycle every write to ``model`` obeys, and the governance it was read from.

        Stores the lifecycle in use if the yard has none for ``model``; raises
        :class:`LifecycleMismatchError` if this registry's code gave another one."""
        state = self.log.state()
        stored = state.lifecycle_for(model)
        mine = self._code_lifecycle(model)
        if stored is None:
            lifecycle = mine or Lifecycle.default()
            # One lifecycle in code governs the whole yard; a function of the model name, each
            # model it is asked about.
            scope = model if callable(self.code) and not isinstance(self.code, Lifecycle) else None
            self._spec(lifecycle)  # refuses a lifecycle that cannot be stored, before writing
            state, _ = self._commit_lifecycle(
                lifecycle,
                scope,
                actor,
                "stored at the yard's first write: the lifecycle in use",
                first=True,
            )
            stored = state.lifecycle_for(model)
            assert stored is not None  # ours, or one another writer stored first
        if mine is not None and self._spec(mine) != stored.spec:
            raise _mismatch(model, stored, mine)
        return stored.lifecycle, state

    # -- changing the lifecycle -------------------------------------------------------------------

    def set_lifecycle(
        self, lifecycle: Lifecycle | None, model: str | None, actor: str, reason: str
    ) -> GovernanceEntry:
        if lifecycle is not None and not isinstance(lifecycle, Lifecycle):
            raise InputError(f"set_lifecycle needs a Lifecycle (or None), got {lifecycle!r}")
        if model is not None:
            validate_name(model, kind="model name")
        elif lifecycle is None:
            raise InputError("the yard's default lifecycle can be replaced, not removed")
        if lifecycle is not None:
            self._spec(lifecycle)  # refuses a lifecycle that cannot be stored
        state, event = self._commit_lifecycle(lifecycle, model, actor, reason, first=False)
        if event is not None:
            return GovernanceEntry.of(event)
        # Already in force: the event that stored it.
        stored = state.lifecycles[model]
        return GovernanceEntry.of(self.log.events()[stored.seq - 1])

    def approve(
        self,
        lifecycle: Lifecycle | None,
        model: str | None,
        actor: str,
        role: str | None,
        comment: str,
    ) -> GovernanceEntry:
        if model is not None:
            validate_name(model, kind="model name")
        if role is not None:
            check_label(role, what="role")
        comment = check_text(comment, what="comment")
        change = change_id(model, lifecycle)

        def build(state: GovernanceState) -> GovernanceEvent:
            if role is not None:
                require_approver_role(state, actor, role, "approve a lifecycle change")
            return GovernanceEvent(
                kind="change.approved",
                at=self.clock.now(),
                actor=actor,
                reason=comment,
                data={"change": change, "role": role, "comment": comment},
            )

        _, event = self._commit(build)
        assert event is not None  # an approval is always recorded
        return GovernanceEntry.of(event)

    def _commit_lifecycle(
        self,
        lifecycle: Lifecycle | None,
        model: str | None,
        actor: str,
        reason: str,
        *,
        first: bool,
    ) -> tuple[GovernanceState, GovernanceEvent | None]:
        """Store ``lifecycle`` for ``model``; the event written, or None if it is in force."""
        after = lifecycle.to_dict() if lifecycle is not None else None
        change = change_id(model, lifecycle)
        newly: frozenset[str] = frozenset()

        def build(state: GovernanceState) -> GovernanceEvent | None:
            nonlocal newly
            current = state.lifecycles.get(model)
            if first and state.lifecycle_for(model) is not None:
                return None  # another writer stored one first: for_write checks it against ours
            if current is not None and after is not None and current.spec == canonical_json(after):
                return None  # already in force: nothing to record
            if current is None and after is None:
                raise InputError(
                    f"model {model!r} has no lifecycle of its own to remove; the yard's default "
                    "governs it already"
                )
            at = self.clock.now()
            results: tuple[Any, ...] = ()
            if not first:
                self._require_admin(state, actor, "change a lifecycle")
                results = self._amend(state, model, change, actor, at, reason)
            if model is not None and lifecycle is not None:
                self._check_states(model, lifecycle)
            before = state.lifecycle_for(model)
            old = before.lifecycle.protected if before is not None else frozenset()
            new = lifecycle.protected if lifecycle is not None else self._default_protected(state)
            newly = new - old
            # Changes of who holds a newly protected stage are countersigned before the rule is
            # stored (so readers never see an unsigned one) and again after (for the events
            # written in between).
            self._adopt(state, model, newly)
            return GovernanceEvent(
                kind="lifecycle.set",
                at=at,
                actor=actor,
                reason=reason,
                data={
                    "model": model,
                    "before": current.lifecycle.to_dict() if current is not None else None,
                    "after": after,
                    "change": change,
                    "results": [r.to_dict() for r in results],
                },
            )

        state, event = self._commit(build)
        if event is not None and newly:
            self._adopt(state, model, newly)
        return state, event

    def _amend(
        self,
        state: GovernanceState,
        model: str | None,
        change: str,
        actor: str,
        at: Any,
        reason: str,
    ) -> tuple[Any, ...]:
        """Run the ``amend`` guards of the lifecycle in force on this change; raise if any fails."""
        stored = state.lifecycle_for(model)
        if stored is None or not stored.lifecycle.amend:
            return ()
        version = VersionStatus(1, _IN_FORCE)
        subject = model or "yard"
        status = ModelStatus(subject, {1: version}, state.approvals.get(change, ()))
        request = TransitionRequest(1, change, actor, at, reason)
        edge = Transition(_IN_FORCE, change, stored.lifecycle.amend)
        ctx = GuardContext(subject, status, request, version, edge, roles=state.role_book())
        results = evaluate_guards(ctx)
        failed = [r for r in results if not r.ok]
        if failed:
            what = f"model {model!r}'s lifecycle" if model else "the yard's default lifecycle"
            reasons = "; ".join(f"[{r.guard}] {r.reason}" for r in failed)
            raise TransitionRejected(
                f"changing {what} ({change}) needs what its amend guards ask: {reasons}. "
                f"Approvals of this change are recorded with registry.approve_lifecycle(...)",
                version=None,
                source=_IN_FORCE,
                target=change,
                results=results,
            )
        return results

    # -- roles ----------------------------------------------------------------------------------

    def grant(self, role: str, member: str, actor: str, reason: str) -> GovernanceEntry | None:
        return self._role("role.granted", role, member, actor, reason)

    def revoke(self, role: str, member: str, actor: str, reason: str) -> GovernanceEntry | None:
        return self._role("role.revoked", role, member, actor, reason)

    def _role(
        self, kind: str, role: str, member: str, actor: str, reason: str
    ) -> GovernanceEntry | None:
        check_label(role, what="role")
        member = check_actor(member, what="role member")
        reason = check_text(reason, what="reason")

        def build(state: GovernanceState) -> GovernanceEvent | None:
            self._require_admin(state, actor, "change roles")
            held = state.holds(member, role)
            if held == (kind == "role.granted"):
                return None  # nothing to change
            if kind == "role.revoked" and role == ADMIN_ROLE and len(state.admins) == 1:
                raise InputError(
                    f"{member!r} is the yard's last admin; grant {ADMIN_ROLE!r} to someone else "
                    "first (a yard without admins lets anyone change its governance)"
                )
            return GovernanceEvent(
                kind=kind,
                at=self.clock.now(),
                actor=actor,
                reason=reason,
                data={"role": role, "member": member},
            )

        _, event = self._commit(build)
        return GovernanceEntry.of(event) if event is not None else None

    def roles(self) -> dict[str, list[str]]:
        state = self.log.state()
        return {role: sorted(members.values()) for role, members in sorted(state.roles.items())}

    def history(self, kinds: Iterable[str] | None) -> list[GovernanceEntry]:
        wanted = set(kinds) if kinds is not None else None
        return [
            GovernanceEntry.of(e) for e in self.log.events() if wanted is None or e.kind in wanted
        ]

    # -- internals ------------------------------------------------------------------------------

    def _commit(
        self, build: Callable[[GovernanceState], GovernanceEvent | None]
    ) -> tuple[GovernanceState, GovernanceEvent | None]:
        for delay in itertools.chain(self.retry.delays(), [None]):
            state = self.log.state()
            event = build(state)
            if event is None:
                return state, None
            try:
                return self.log.append(state, event)
            except KeyExistsError:
                if delay is None:
                    break
                time.sleep(delay)
        raise ConcurrentModificationError(
            f"gave up writing to the yard's governance log after {self.retry.attempts} "
            "attempts: other writers kept changing it; retry later"
        )

    def _require_admin(self, state: GovernanceState, actor: str, what: str) -> None:
        if state.admins and not state.holds(actor, ADMIN_ROLE):
            raise _not_member(actor, ADMIN_ROLE, state, what)

    def _check_states(self, model: str, lifecycle: Lifecycle) -> None:
        current = self.models.state(model)
        stranded = sorted(
            {v.state for v in current.versions.values() if not v.deleted} - set(lifecycle.states)
        )
        if stranded:
            raise InputError(
                f"model {model!r} has versions in {', '.join(map(repr, stranded))}, which the "
                f"new lifecycle does not define (states: {', '.join(lifecycle.states)}); move "
                "them to a state both define first"
            )

    def _default_protected(self, state: GovernanceState) -> frozenset[str]:
        default = state.lifecycle_for(None)
        return default.lifecycle.protected if default is not None else frozenset()

    def _adopt(self, state: GovernanceState, model: str | None, stages: frozenset[str]) -> None:
        """Countersign every past change of who holds ``stages`` in the models this lifecycle
        change governs: the whole log of each (a one-off cost when a stage becomes protected)."""
        if not stages:
            return
        if model is not None:
            names = [model]
        else:
            names = [n for n in self.models.names() if n not in state.lifecycles]
        for name in names:
            for before, after, digest in self.models.replay(name):
                for stage in changed(before, after, stages):
                    sign(self.models.store, after, stage, after.head, digest)

    def _code_lifecycle(self, model: str | None) -> Lifecycle | None:
        if self.code is None:
            return None
        if isinstance(self.code, Lifecycle):
            return self.code
        if model is None:
            return None
        lifecycle = self.code(model)
        if not isinstance(lifecycle, Lifecycle):
            raise InputError(
                f"the registry's lifecycle function returned {lifecycle!r} for {model!r}, "
                "not a Lifecycle"
            )
        return lifecycle

    def _spec(self, lifecycle: Lifecycle) -> bytes:
        cached = self._specs.get(id(lifecycle))
        if cached is not None and cached[0] is lifecycle:
            return cached[1]
        spec = canonical_json(lifecycle.to_dict())
        if len(self._specs) > 64:
            self._specs.clear()
        self._specs[id(lifecycle)] = (lifecycle, spec)
        return spec


def require_approver_role(state: GovernanceState, actor: str, role: str, what: str) -> None:
    """Refuse an approval given as ``role`` by an actor who does not hold it, once the yard
    uses roles (before its first grant, a claimed role is taken as given)."""
    if state.uses_roles and not state.holds(actor, role):
        raise _not_member(actor, role, state, f"{what} as {role!r}")


def _not_member(actor: str, role: str, state: GovernanceState, what: str) -> NotAuthorizedError:
    members = sorted(state.roles.get(role, {}).values())
    return NotAuthorizedError(
        f"{actor!r} cannot {what}: they do not hold the role {role!r} in this yard (members: "
        f"{', '.join(members) or 'none'}). An admin grants it with registry.grant_role(...)",
        actor=actor,
        role=role,
        members=members,
    )


def _mismatch(model: str, stored: Any, mine: Lifecycle) -> LifecycleMismatchError:
    difference = _difference(stored.lifecycle.to_dict(), mine.to_dict())
    when = stored.at.isoformat(timespec="seconds")
    why = f": {stored.reason!r}" if stored.reason else ""
    return LifecycleMismatchError(
        f"model {model!r} is governed by the lifecycle stored in this yard (set by "
        f"{stored.actor} at {when}{why}), and this registry was opened with a different one "
        f"({difference}). Open the registry without lifecycle= to use the stored one, or change "
        "the stored one with registry.set_lifecycle(lifecycle, model=..., reason=...)",
        model=model,
        difference=difference,
    )


def _difference(stored: Mapping[str, Any], mine: Mapping[str, Any]) -> str:
    for field in ("states", "initial", "exclusive", "protected", "amend"):
        if stored.get(field) != mine.get(field):
            return f"{field}: stored {stored.get(field)!r}, yours {mine.get(field)!r}"
    edges = {(t["source"], t["target"]): t for t in stored.get("transitions", [])}
    ours = {(t["source"], t["target"]): t for t in mine.get("transitions", [])}
    for edge in sorted(set(edges) | set(ours)):
        if edges.get(edge) != ours.get(edge):
            if edge not in ours:
                return f"yours has no transition {edge[0]} -> {edge[1]}"
            if edge not in edges:
                return f"the stored one has no transition {edge[0]} -> {edge[1]}"
            return f"transition {edge[0]} -> {edge[1]} differs"
    return "their stored forms differ"
