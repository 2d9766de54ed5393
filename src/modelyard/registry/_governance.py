"""The yard's governance log, folded: which lifecycle governs each model, who holds which role.

One chained log per yard (``governance/log/``; event format in ``_governance_events.py``). It is
short (it changes when people change the rules, not when models change), so a cold read lists
it, which finds a hole of any length, and reads it whole; a cached state costs one failed read of
the next event. Writers read it before every write: that is what makes the stored lifecycle the
one every writer enforces, whatever it was opened with.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from modelyard._internal.actors import actor_key
from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import IntegrityError, KeyExistsError, NotFoundError
from modelyard.lifecycle import Approval, Lifecycle
from modelyard.registry._chain import hole_error
from modelyard.registry._governance_events import GovernanceEvent, parse_governance_event
from modelyard.registry._layout import GOVERNANCE_LOG, governance_key, seq_of
from modelyard.storage import Store

__all__ = ["ADMIN_ROLE", "GovernanceLog", "GovernanceState", "StoredLifecycle"]

#: Once somebody holds this role, only its members may change roles and lifecycles.
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class StoredLifecycle:
    """A lifecycle as stored: the definition, its canonical bytes, and who set it, when, why."""

    lifecycle: Lifecycle
    spec: bytes
    seq: int
    at: datetime
    actor: str
    reason: str


@dataclass(frozen=True)
class GovernanceState:
    """The fold of the governance log up to ``head``."""

    head: int = 0
    head_digest: str | None = None
    yard_id: str | None = None
    updated_at: datetime | None = None
    #: Model name -> its own lifecycle; the key None holds the yard's default.
    lifecycles: Mapping[str | None, StoredLifecycle] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: Role -> {actor key: the actor as first granted}.
    roles: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    #: Whether any role was ever granted: until then, roles claimed by approvers are taken as
    #: given (what yards written before roles were stored relied on).
    uses_roles: bool = False
    #: Change id -> approvals of that change (as lifecycle approvals of "version 1").
    approvals: Mapping[str, tuple[Approval, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def lifecycle_for(self, model: str | None) -> StoredLifecycle | None:
        """The stored lifecycle in force for ``model`` (None: the default), or None."""
        if model is not None and model in self.lifecycles:
            return self.lifecycles[model]
        return self.lifecycles.get(None)

    def role_book(self) -> Mapping[str, frozenset[str]] | None:
        """Role -> actor keys of its members, or None while the yard has never used roles."""
        if not self.uses_roles:
            return None
        return MappingProxyType({role: frozenset(m) for role, m in self.roles.items()})

    def holds(self, actor: str, role: str) -> bool:
        return actor_key(actor) in self.roles.get(role, {})

    @property
    def admins(self) -> Mapping[str, str]:
        return self.roles.get(ADMIN_ROLE, MappingProxyType({}))

    def apply(self, event: GovernanceEvent, key: str, digest: str | None) -> GovernanceState:
        """Fold ``event`` in; :class:`IntegrityError` naming ``key`` if it cannot follow."""
        if event.seq != self.head + 1:
            raise _refuse(key, f"it is numbered {event.seq} but follows {self.head}", "order")
        if self.yard_id is not None and event.yard != self.yard_id:
            raise _refuse(key, "it belongs to the governance log of another yard", "foreign")
        if event.prev != self.head_digest:
            raise _refuse(
                key, "its predecessor's digest differs: an event before it was edited", "chain"
            )
        changes: dict[str, Any] = {}
        data = event.data
        if event.kind == "lifecycle.set":
            changes["lifecycles"] = self._set_lifecycle(event, key)
        elif event.kind in ("role.granted", "role.revoked"):
            changes["roles"] = self._change_role(event, key)
            changes["uses_roles"] = True
        else:
            change = str(data["change"])
            approval = Approval(1, change, event.actor, event.at, role=data.get("role"))
            approvals = dict(self.approvals)
            approvals[change] = (*approvals.get(change, ()), approval)
            changes["approvals"] = MappingProxyType(approvals)
        return replace(
            self,
            head=event.seq,
            head_digest=digest,
            yard_id=event.yard,
            updated_at=event.at,
            **changes,
        )

    def _set_lifecycle(
        self, event: GovernanceEvent, key: str
    ) -> Mapping[str | None, StoredLifecycle]:
        scope = event.model
        before, after = event.lifecycles
        current = self.lifecycles.get(scope)
        current_spec = current.spec if current is not None else None
        stated = canonical_json(before.to_dict()) if before is not None else None
        if stated != current_spec:
            raise _refuse(key, "the lifecycle it replaces is not the one in force", "event")
        lifecycles = dict(self.lifecycles)
        if after is None:
            lifecycles.pop(scope, None)
        else:
            lifecycles[scope] = StoredLifecycle(
                after,
                canonical_json(after.to_dict()),
                event.seq,
                event.at,
                event.actor,
                event.reason,
            )
        return MappingProxyType(lifecycles)

    def _change_role(self, event: GovernanceEvent, key: str) -> Mapping[str, Mapping[str, str]]:
        role, member = str(event.data["role"]), str(event.data["member"])
        members = dict(self.roles.get(role, {}))
        person = actor_key(member)
        if event.kind == "role.granted":
            members.setdefault(person, member)
        elif members.pop(person, None) is None:
            why = f"it revokes role {role!r} from {member!r}, who does not hold it"
            raise _refuse(key, why, "event")
        roles = dict(self.roles)
        if members:
            roles[role] = MappingProxyType(members)
        else:
            roles.pop(role, None)
        return MappingProxyType(roles)


class GovernanceLog:
    """Reads and appends the yard's governance log; caches its fold (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cached: GovernanceState | None = None
        self._checked = 0.0  # time.monotonic() of the last read of the store
        self._lock = threading.Lock()

    def state(self, *, max_age: float = 0.0) -> GovernanceState:
        """The current governance state (one failed read when cached and unchanged).

        ``max_age`` lets a reader use the cached state if it was read from the store that many
        seconds ago or less (writers always pass 0)."""
        with self._lock:
            cached = self._cached
            if cached is not None and time.monotonic() - self._checked <= max_age:
                return cached
        if cached is None:
            state = self._read_on(GovernanceState())
            self._check_end(state)
        else:
            state = self._read_on(cached)
            if state.head > cached.head:
                self._check_end(state)
        self._remember(state)
        return state

    def cached(self) -> GovernanceState | None:
        """The last state this object saw, without asking the store whether it is current."""
        with self._lock:
            return self._cached

    def events(self) -> list[GovernanceEvent]:
        """Every governance event, oldest first, checked along the chain."""
        events: list[GovernanceEvent] = []
        state = self._read_on(GovernanceState(), events)
        self._check_end(state)
        return events

    def append(
        self, state: GovernanceState, event: GovernanceEvent
    ) -> tuple[GovernanceState, GovernanceEvent]:
        """Create event ``state.head + 1``; return the new state and the event as stored.
        :class:`KeyExistsError` if another writer got there first (re-read and decide again)."""
        seq = state.head + 1
        yard = state.yard_id or secrets.token_hex(16)
        sealed = event.sealed(seq=seq, yard=yard, prev=state.head_digest)
        raw = canonical_json(sealed.to_json())
        key = governance_key(seq)
        # The sealed event goes through the reader's parser and fold, so nothing is written that
        # every reader would then refuse.
        stored = parse_governance_event(raw, key)
        new_state = state.apply(stored, key, digest_bytes(raw))
        later = governance_key(seq + 1)
        if self.store.exists(later):
            if self.store.exists(key):
                raise KeyExistsError(f"key {key!r} already exists", key=key)
            raise hole_error(key, later)
        self.store.create(key, raw)
        self._remember(new_state)
        return new_state, stored

    def _read_on(
        self, state: GovernanceState, sink: list[GovernanceEvent] | None = None
    ) -> GovernanceState:
        while True:
            key = governance_key(state.head + 1)
            try:
                raw = self.store.read(key)
            except NotFoundError:
                return state
            event = parse_governance_event(raw, key)
            state = state.apply(event, key, digest_bytes(raw))
            if sink is not None:
                sink.append(event)

    def _check_end(self, state: GovernanceState) -> None:
        """A listing finds a hole of any length after ``state.head``."""
        seqs = {seq_of(key, GOVERNANCE_LOG) for key in self.store.list(GOVERNANCE_LOG)}
        later = sorted(s for s in seqs if s is not None and s > state.head)
        # Event head + 1 written since we read it is a new event, not a hole.
        if later and later[0] != state.head + 1:
            raise hole_error(governance_key(state.head + 1), governance_key(later[0]))

    def _remember(self, state: GovernanceState) -> None:
        with self._lock:
            self._checked = time.monotonic()
            if self._cached is None or state.head > self._cached.head:
                self._cached = state


def _refuse(key: str, why: str, problem: str) -> IntegrityError:
    return IntegrityError(
        f"{key} cannot follow the yard's governance log: {why}. The log was edited or "
        "damaged; registry.verify() lists every problem",
        key=key,
        problem=problem,
    )
