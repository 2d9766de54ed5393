"""What a decision produces, and what listeners hear after it is committed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from modelyard._internal.names import validate_name
from modelyard.errors import InputError
from modelyard.lifecycle._guard import GuardResult
from modelyard.lifecycle._values import require_aware, require_text, require_version

__all__ = [
    "CAUSES",
    "Cause",
    "CommittedTransition",
    "Decision",
    "StateChange",
    "TransitionListener",
    "notify",
]

Cause = Literal["requested", "displaced", "rollback"]

#: Why a version changed state: a request, the displacement of an exclusive state's holder, or a
#: rollback that restored a previous holder.
CAUSES: tuple[str, ...] = ("requested", "displaced", "rollback")


@dataclass(frozen=True)
class StateChange:
    """One version moving from ``source`` to ``target``, and why (``cause``, one of :data:`CAUSES`).

    >>> c = StateChange(2, "production", "archived", "displaced")
    >>> c.to_dict()
    {'version': 2, 'source': 'production', 'target': 'archived', 'cause': 'displaced'}
    >>> StateChange.from_dict(c.to_dict()) == c
    True
    """

    version: int
    source: str
    target: str
    cause: Cause = "requested"

    def __post_init__(self) -> None:
        require_version(self.version)
        validate_name(self.source, kind="state")
        validate_name(self.target, kind="state")
        if self.source == self.target:
            raise InputError(
                f"a state change must change the state; version {self.version} would stay in "
                f"{self.source!r}"
            )
        if self.cause not in CAUSES:
            raise InputError(f"cause must be one of {', '.join(CAUSES)}; got {self.cause!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_dict` turns back."""
        return {
            "version": self.version,
            "source": self.source,
            "target": self.target,
            "cause": self.cause,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StateChange:
        """Rebuild a change from :meth:`to_dict` output."""
        return cls(data["version"], data["source"], data["target"], data.get("cause", "requested"))


@dataclass(frozen=True)
class Decision:
    """The outcome of an accepted request: the changes to commit together, and the guard results.

    Commit all of ``changes`` atomically (one registry event): the requested change comes first,
    followed by the displacement of the previous holder of an exclusive target state, if any.

    >>> d = Decision((StateChange(2, "staging", "production"),
    ...               StateChange(1, "production", "archived", "displaced")))
    >>> d.primary.version, [c.version for c in d.displaced]
    (2, [1])
    """

    changes: tuple[StateChange, ...]
    results: tuple[GuardResult, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(self.changes))
        object.__setattr__(self, "results", tuple(self.results))
        if not self.changes:
            raise InputError("a decision must contain at least one state change")

    @property
    def primary(self) -> StateChange:
        """The change that was asked for (or, for a rollback, the restoring change)."""
        return next((c for c in self.changes if c.cause != "displaced"), self.changes[0])

    @property
    def displaced(self) -> tuple[StateChange, ...]:
        """The changes that move a displaced holder out of an exclusive state."""
        return tuple(c for c in self.changes if c.cause == "displaced")


@dataclass(frozen=True)
class CommittedTransition:
    """What a :class:`TransitionListener` is told after the registry has committed a decision.

    >>> from datetime import datetime, timezone
    >>> event = CommittedTransition("churn", (StateChange(2, "staging", "production"),), "lee",
    ...                             "reviewed", datetime(2025, 1, 1, tzinfo=timezone.utc))
    >>> event.to_dict()["changes"]
    [{'version': 2, 'source': 'staging', 'target': 'production', 'cause': 'requested'}]
    """

    model: str
    changes: tuple[StateChange, ...]
    actor: str
    reason: str
    at: datetime
    results: tuple[GuardResult, ...] = ()

    def __post_init__(self) -> None:
        validate_name(self.model, kind="model name")
        object.__setattr__(self, "changes", tuple(self.changes))
        object.__setattr__(self, "results", tuple(self.results))
        require_text(self.actor, what="actor")
        require_aware(self.at, what="commit time")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, for webhooks and logs."""
        return {
            "model": self.model,
            "changes": [c.to_dict() for c in self.changes],
            "actor": self.actor,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CommittedTransition:
        """Rebuild an event from :meth:`to_dict` output."""
        at = data["at"]
        return cls(
            model=data["model"],
            changes=tuple(StateChange.from_dict(c) for c in data["changes"]),
            actor=data["actor"],
            reason=data.get("reason", ""),
            at=datetime.fromisoformat(at) if isinstance(at, str) else at,
            results=tuple(GuardResult.from_dict(r) for r in data.get("results", ())),
        )


@runtime_checkable
class TransitionListener(Protocol):
    """A hook called after a transition is committed, never before; its return value is ignored.

    A listener cannot veto a change (use a guard for that). Plain functions satisfy the protocol.
    """

    def __call__(self, event: CommittedTransition) -> None: ...


def notify(
    listeners: Iterable[TransitionListener], event: CommittedTransition
) -> tuple[Exception, ...]:
    """Call every listener with ``event``; return the exceptions they raised, in order.

    One failing listener does not stop the others: the change is already committed, so the caller
    decides how to report failures (log them, warn, re-raise the first).

    >>> seen = []
    >>> def boom(event):
    ...     raise RuntimeError("hook down")
    >>> from datetime import datetime, timezone
    >>> event = CommittedTransition("churn", (StateChange(1, "development", "staging"),), "ana",
    ...                             "", datetime(2025, 1, 1, tzinfo=timezone.utc))
    >>> notify([boom, seen.append], event), len(seen)
    ((RuntimeError('hook down'),), 1)
    """
    errors = (_call(listener, event) for listener in listeners)
    return tuple(error for error in errors if error is not None)


def _call(listener: TransitionListener, event: CommittedTransition) -> Exception | None:
    try:
        listener(event)
    except Exception as exc:  # a hook's failure must not hide the others' notifications
        return exc
    return None
