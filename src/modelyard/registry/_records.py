"""The records the registry returns: immutable, thread-safe values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from modelyard._internal.reprs import brief
from modelyard._internal.text import one_line
from modelyard.artifacts import CodeRecord
from modelyard.lifecycle import GuardResult, StateChange
from modelyard.registry._provenance import Provenance

__all__ = [
    "AliasMove",
    "Evidence",
    "FeedEvent",
    "FeedPage",
    "HistoryEntry",
    "ModelSnapshot",
    "ModelVersion",
    "RegisteredModel",
    "RegistryEvent",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class AliasMove:
    """A following alias moved by a transition or rollback, in the same event.

    ``previous`` and ``version`` are the versions it pointed at before and after (None: the stage
    it follows had no holder, so the alias pointed at nothing).

    >>> AliasMove("champion", 2, 3).to_dict()
    {'alias': 'champion', 'previous': 2, 'version': 3}
    """

    alias: str
    previous: int | None
    version: int | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, as stored in the event."""
        return {"alias": self.alias, "previous": self.previous, "version": self.version}

    def __str__(self) -> str:
        def show(number: int | None) -> str:
            return "none" if number is None else f"v{number}"

        return f"{self.alias} {show(self.previous)} -> {show(self.version)}"


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, as of the moment it was read.

    ``aliases`` lists the aliases that point at it (``latest`` included), ``state`` is its
    lifecycle state, ``lineage`` the ids of the artifacts its artifact was made from.
    ``provenance`` says where a version copied from another yard came from (None for a version
    registered here, see :meth:`Registry.copy <modelyard.registry.Registry.copy>`). ``code`` is
    the code that registered it (git commit, dirty state, remote, command line), when it was
    known and recorded; a copy keeps the source version's.
    """

    name: str
    version: int
    artifact: str
    state: str
    aliases: tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    description: str = ""
    lineage: tuple[str, ...] = ()
    created_at: datetime | None = None
    created_by: str = ""
    deleted: bool = False
    provenance: Provenance | None = None
    code: CodeRecord | None = None

    @property
    def ref(self) -> str:
        """The reference string that loads this version: ``"name/3"``."""
        return f"{self.name}/{self.version}"

    def __repr__(self) -> str:
        extra = f", aliases={list(self.aliases)}" if self.aliases else ""
        extra += ", deleted=True" if self.deleted else ""
        return (
            f"ModelVersion({self.ref!r}, state={self.state!r}{extra}, "
            f"artifact={self.artifact[:19]!r}, metrics={dict(self.metrics)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "name": self.name,
            "version": self.version,
            "artifact": self.artifact,
            "state": self.state,
            "aliases": list(self.aliases),
            "metrics": dict(self.metrics),
            "params": dict(self.params),
            "tags": dict(self.tags),
            "description": self.description,
            "lineage": list(self.lineage),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "created_by": self.created_by,
            "deleted": self.deleted,
            "provenance": self.provenance.to_dict() if self.provenance else None,
            "code": self.code.to_dict() if self.code else None,
        }


@dataclass(frozen=True)
class Evidence:
    """An artifact attached to a model version as evidence (see :meth:`Registry.attach`).

    ``kind`` says what it is (``"drift-report"``, ``"evaluation"``, ``"dataset"``, ...),
    ``artifact`` is the artifact's id, ``actor`` and ``at`` who attached it and when, ``note`` why,
    and ``seq`` the number of the event in the model's log that recorded it.
    """

    model: str
    version: int
    kind: str
    artifact: str
    actor: str
    at: datetime
    note: str = ""
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "model": self.model,
            "version": self.version,
            "kind": self.kind,
            "artifact": self.artifact,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "note": self.note,
            "seq": self.seq,
        }

    def __repr__(self) -> str:
        return brief(self, "model", "version", "kind", "artifact", "actor", "at")


@dataclass(frozen=True)
class RegisteredModel:
    """A named model: its description, tags, aliases and version count.

    ``aliases`` maps every alias that points at a version now (``latest`` and following aliases
    included) to that version; ``follows`` maps each alias bound to a stage to that stage, whether
    or not the stage has a holder now.
    """

    name: str
    description: str
    tags: Mapping[str, str]
    aliases: Mapping[str, int]
    latest_version: int | None
    version_count: int
    created_at: datetime
    updated_at: datetime
    head: int  # sequence number of the last event in the model's log
    follows: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def __repr__(self) -> str:
        return brief(self, "name", "latest_version", "version_count", "aliases", "tags")


@dataclass(frozen=True)
class ModelSnapshot:
    """A model as it stood at a past moment (see :meth:`Registry.state_at`)."""

    name: str
    at: datetime
    versions: tuple[ModelVersion, ...]
    aliases: Mapping[str, int]
    follows: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def holders(self, state: str) -> tuple[int, ...]:
        """The versions that were in ``state`` at that moment."""
        return tuple(v.version for v in self.versions if v.state == state and not v.deleted)

    def state_of(self, version: int) -> str | None:
        """The state ``version`` was in, or None if it did not exist yet."""
        for record in self.versions:
            if record.version == version:
                return record.state
        return None


@dataclass(frozen=True)
class HistoryEntry:
    """One committed event of a model's log, as an audit record.

    ``kind`` is the event type (``"version.registered"``, ``"version.copied"``, ``"alias.set"``,
    ``"transition"``, ``"rollback"``, ``"approval.recorded"``, ...). For transitions, ``changes``
    holds every state change (displacements included, as ``source -> target``) and ``results``
    every guard's result; ``alias_moves`` the following aliases the transition or rollback moved
    with its stage; ``code`` the code that registered a version (registrations only, when
    recorded).
    """

    seq: int
    at: datetime
    kind: str
    actor: str
    reason: str
    version: int | None
    changes: tuple[StateChange, ...] = ()
    results: tuple[GuardResult, ...] = ()
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    alias_moves: tuple[AliasMove, ...] = ()
    code: CodeRecord | None = None

    @property
    def source(self) -> str | None:
        """The state the version left (transitions only)."""
        return self.changes[0].source if self.changes else None

    @property
    def target(self) -> str | None:
        """The state the version entered (transitions only)."""
        return self.changes[0].target if self.changes else None

    def __str__(self) -> str:
        # One entry, one line: a reason may span lines and an actor written by an older version
        # may hold anything, so the line is printed with newlines and other controls escaped, and
        # no stored text can pass for another entry.
        when = self.at.strftime("%Y-%m-%d %H:%M:%S")
        what = self.kind
        if self.changes:
            what = "; ".join(f"v{c.version} {c.source} -> {c.target}" for c in self.changes)
            what += "".join(f"; alias {move}" for move in self.alias_moves)
        elif self.version is not None:
            what = f"{self.kind} v{self.version}"
        if self.code is not None:
            what += f" from {self.code.summary()}"
        detail = f" ({self.reason})" if self.reason else ""
        return one_line(f"#{self.seq} {when} {self.actor}: {what}{detail}")

    def __repr__(self) -> str:
        return brief(self, "seq", "kind", "version", "actor", "at", "reason")


@dataclass(frozen=True)
class RegistryEvent:
    """What a registry listener receives after an event is committed."""

    model: str
    seq: int
    kind: str
    at: datetime
    actor: str
    reason: str
    data: Mapping[str, Any]

    def __repr__(self) -> str:
        return brief(self, "model", "seq", "kind", "actor", "at")


@dataclass(frozen=True, repr=False)
class FeedEvent(RegistryEvent):
    """An event read from the yard's feed, with the cursor that resumes after it."""

    cursor: str


@dataclass(frozen=True)
class FeedPage:
    """Events read from the feed in order, and the cursor that resumes after the last of them
    (after all of them when ``events`` is empty)."""

    events: tuple[FeedEvent, ...]
    cursor: str

    def __iter__(self) -> Iterator[FeedEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return brief(self, "cursor", events=len(self.events))
