"""The registry's events: one frozen class per kind, each applying itself to a model's state.

An event is stored as canonical JSON, one file per event (``models/<name>/log/<seq>.json``)::

    {"schema_version": 2, "kind": "alias.set", "seq": 7, "at": "2025-01-02T10:00:00+00:00",
     "actor": "ana", "reason": "", "data": {"alias": "champion", "version": 3, "previous": 2},
     "model": {"name": "churn", "id": "6f1c..."}, "prev": "sha256:...",
     "snapshot": "sha256:..."}

``model`` is the identity of the model the event belongs to, ``prev`` the sha256 of the stored
bytes of event ``seq - 1`` (null for event 1), and ``snapshot`` (only on events after which a
snapshot is written) the sha256 of that snapshot's bytes. Schema 1 is the format written before
the chain existed: the same fields without ``model``, ``prev`` and ``snapshot``. Schema 3 adds
aliases that follow a stage (``alias.set`` and ``alias.deleted`` may name the stage an alias
follows, ``follows``, or stopped following, ``unfollowed``, and a transition or rollback lists the
following aliases it moved, ``aliases``) and the kinds ``evidence.attached`` and
``version.copied``. Schema 4 adds the code that registered a version (``version.registered`` and
``version.copied`` may carry ``code``, see :class:`~modelyard.artifacts.CodeRecord`). Adding a
kind of event is one class here, and raises :data:`SCHEMA_VERSION` (as does any field a reader
must understand), so that a reader that meets a schema newer than its own refuses it with advice
to upgrade, and an unknown kind within a known schema is damage, never guessed at.

Each event is written with the oldest schema that holds what it says (:attr:`Event.needs_schema`:
its class's ``since``, or newer for the fields it carries): a yard that uses no following alias
and no evidence stays readable by the modelyard before them, and a model that does is refused by
it with advice to upgrade, rather than misread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from modelyard.artifacts import CodeRecord
from modelyard.errors import InputError, IntegrityError
from modelyard.lifecycle import Approval, GuardResult, StateChange
from modelyard.registry._fields import (
    Malformed,
    build,
    get_code,
    get_digest,
    get_int,
    get_list,
    get_mapping,
    get_number_map,
    get_opt_int,
    get_opt_str,
    get_str,
    get_str_map,
    get_str_tuple,
    get_time,
)
from modelyard.registry._follow import alias_moves, follow_target
from modelyard.registry._layout import log_key
from modelyard.registry._provenance import Provenance
from modelyard.registry._records import AliasMove, Evidence, ModelVersion
from modelyard.registry._state import ModelState, frozen
from modelyard.registry._validate import check_evidence_kind

__all__ = [
    "CHAINED_SCHEMA_VERSION",
    "CODE_SCHEMA_VERSION",
    "EVENT_TYPES",
    "LEGACY_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "AliasDeleted",
    "AliasSet",
    "ApprovalRecorded",
    "Event",
    "EvidenceAttached",
    "ModelDescribed",
    "ModelIdentity",
    "RolledBack",
    "TagDeleted",
    "TagSet",
    "Transitioned",
    "VersionCopied",
    "VersionDeleted",
    "VersionDescribed",
    "VersionRegistered",
    "parse_event",
]

#: The newest event format this modelyard reads and writes: chained events that may carry
#: following aliases and code records, with the kinds ``evidence.attached`` and ``version.copied``.
SCHEMA_VERSION = 4
#: The first format whose registrations may record the code that ran them.
CODE_SCHEMA_VERSION = 4
#: The first format whose events are chained (they carry ``model`` and ``prev``); what every
#: event that needs nothing newer is written as.
CHAINED_SCHEMA_VERSION = 2
#: Events written before the chain existed; read, never written.
LEGACY_SCHEMA_VERSION = 1

E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class ModelIdentity:
    """Whose log an event belongs to: the model's name as stored and its random id."""

    name: str
    id: str


@dataclass(frozen=True, kw_only=True)
class Event:
    """One change to a model. Subclasses add the fields of their kind.

    ``seq``, ``model`` and ``prev`` are filled in by the log when the event is appended
    (:meth:`sealed`); events read back carry what was stored.
    """

    kind: ClassVar[str] = ""
    #: The first schema that knew this kind; events are written in it, or in the chained schema
    #: if that is newer.
    since: ClassVar[int] = LEGACY_SCHEMA_VERSION

    at: datetime
    actor: str
    reason: str = ""
    seq: int = 0
    model: ModelIdentity | None = None
    prev: str | None = None
    snapshot: str | None = None
    schema_version: int = SCHEMA_VERSION

    # -- what each kind provides -----------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        """The kind's own fields, as stored under ``"data"``."""
        raise NotImplementedError

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The kind's own fields from stored ``data``; :class:`Malformed` if they do not fit."""
        raise NotImplementedError

    def _changes(self, current: ModelState) -> dict[str, Any]:
        """The state fields this event changes; raise :meth:`_refuse` if it cannot apply."""
        raise NotImplementedError

    @property
    def needs_schema(self) -> int:
        """The oldest schema that holds this event's kind and fields (see the module docstring)."""
        return max(self.since, CHAINED_SCHEMA_VERSION)

    # -- shared ----------------------------------------------------------------------------------

    @property
    def chained(self) -> bool:
        """Whether the event carries the model's identity and its predecessor's digest."""
        return self.model is not None

    def apply(self, current: ModelState, *, digest: str | None = None) -> ModelState:
        """Fold this event into ``current``; ``digest`` is the sha256 of its stored bytes.

        Raises :class:`~modelyard.errors.IntegrityError` if the event cannot follow ``current``
        (out of order, a version registered twice, a change to a version that does not exist).
        """
        if self.seq != current.head + 1:
            raise self._refuse(current, f"it is numbered {self.seq} but follows {current.head}")
        changes = self._changes(current)
        changes["head"] = self.seq
        changes["updated_at"] = self.at
        changes["head_digest"] = digest
        if current.created_at is None:
            changes["created_at"] = self.at
        if self.model is not None and current.model_id is None:
            changes["model_id"] = self.model.id
        return replace(current, **changes)

    def sealed(self: E, *, seq: int, model: ModelIdentity, prev: str | None) -> E:
        """This event as the log writes it: numbered and chained to its predecessor."""
        return replace(self, seq=seq, model=model, prev=prev, schema_version=self.needs_schema)

    def to_json(self) -> dict[str, Any]:
        """The JSON form that is stored (see the module docstring)."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "data": self.data(),
        }
        if self.model is not None:
            out["model"] = {"name": self.model.name, "id": self.model.id}
            out["prev"] = self.prev
        if self.snapshot is not None:
            out["snapshot"] = self.snapshot
        return out

    def _refuse(self, current: ModelState, why: str) -> IntegrityError:
        key = log_key(current.name, self.seq)
        return IntegrityError(
            f"{key} cannot follow event {current.head} of model {current.name!r}: {why}. The "
            "log was edited or damaged; registry.verify() lists every problem",
            key=key,
            model=current.name,
            seq=self.seq,
            problem="event",
        )

    def _existing(self, current: ModelState, number: int) -> ModelVersion:
        record = current.versions.get(number)
        if record is None:
            raise self._refuse(current, f"{self.kind} names version {number}, which does not exist")
        return record

    def _versions(self, current: ModelState, number: int, **fields: Any) -> Mapping[int, Any]:
        versions = dict(current.versions)
        versions[number] = replace(self._existing(current, number), **fields)
        return MappingProxyType(versions)


@dataclass(frozen=True, kw_only=True)
class VersionRegistered(Event):
    kind: ClassVar[str] = "version.registered"

    version: int
    artifact: str
    state: str
    metrics: Mapping[str, float]
    params: Mapping[str, Any]
    tags: Mapping[str, str]
    description: str = ""
    lineage: tuple[str, ...] = ()
    code: CodeRecord | None = None

    @property
    def needs_schema(self) -> int:
        base = super().needs_schema
        return base if self.code is None else max(base, CODE_SCHEMA_VERSION)

    def data(self) -> dict[str, Any]:
        out = {
            "version": self.version,
            "artifact": self.artifact,
            "state": self.state,
            "metrics": dict(self.metrics),
            "params": dict(self.params),
            "tags": dict(self.tags),
            "description": self.description,
            "lineage": list(self.lineage),
        }
        if self.code is not None:
            out["code"] = self.code.to_dict()
        return out

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "version": get_int(data, "version", minimum=1),
            "artifact": get_str(data, "artifact"),
            "state": get_str(data, "state"),
            "metrics": get_number_map(data, "metrics"),
            "params": get_mapping(data, "params", optional=True),
            "tags": get_str_map(data, "tags"),
            "description": get_str(data, "description", default=""),
            "lineage": get_str_tuple(data, "lineage"),
            "code": get_code(data),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        number = self.version
        if number in current.versions:
            raise self._refuse(current, f"it registers version {number} again")
        if number != current.max_version + 1:
            raise self._refuse(
                current, f"it registers version {number} after {current.max_version}"
            )
        versions = dict(current.versions)
        versions[number] = ModelVersion(
            name=current.name,
            version=number,
            artifact=self.artifact,
            state=self.state,
            metrics=frozen(self.metrics),
            params=frozen(self.params),
            tags=frozen(self.tags),
            description=self.description,
            lineage=self.lineage,
            created_at=self.at,
            created_by=self.actor,
            code=self.code,
        )
        return {"versions": MappingProxyType(versions), "max_version": number}


@dataclass(frozen=True, kw_only=True)
class VersionCopied(VersionRegistered):
    """A version registered as a copy of a version of another yard; ``provenance`` says which.

    Everything else is a registration (the version pins its artifact for gc the same way).
    """

    kind: ClassVar[str] = "version.copied"
    since: ClassVar[int] = 3

    provenance: Provenance

    def data(self) -> dict[str, Any]:
        return {**super().data(), "provenance": self.provenance.to_dict()}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        provenance = build(Provenance.from_dict, data.get("provenance"), "provenance")
        return {**super().parse_data(data), "provenance": provenance}

    def _changes(self, current: ModelState) -> dict[str, Any]:
        changes = super()._changes(current)
        versions = dict(changes["versions"])
        versions[self.version] = replace(versions[self.version], provenance=self.provenance)
        return {**changes, "versions": MappingProxyType(versions)}


@dataclass(frozen=True, kw_only=True)
class VersionDeleted(Event):
    kind: ClassVar[str] = "version.deleted"

    version: int

    def data(self) -> dict[str, Any]:
        return {"version": self.version}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"version": get_int(data, "version", minimum=1)}

    def _changes(self, current: ModelState) -> dict[str, Any]:
        return {"versions": self._versions(current, self.version, deleted=True)}


@dataclass(frozen=True, kw_only=True)
class VersionDescribed(Event):
    kind: ClassVar[str] = "version.described"

    version: int
    description: str

    def data(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "version": get_int(data, "version", minimum=1),
            "description": get_str(data, "description"),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        versions = self._versions(current, self.version, description=self.description)
        return {"versions": versions}


@dataclass(frozen=True, kw_only=True)
class ModelDescribed(Event):
    kind: ClassVar[str] = "model.described"

    description: str

    def data(self) -> dict[str, Any]:
        return {"description": self.description}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"description": get_str(data, "description")}

    def _changes(self, current: ModelState) -> dict[str, Any]:
        return {"description": self.description}


@dataclass(frozen=True, kw_only=True)
class AliasSet(Event):
    """An alias pointed at a version, or bound to a stage (``follows``) and pointed at its holder.

    ``version`` is None only for an alias bound to a stage that has no holder. ``unfollowed`` is
    the stage a bound alias stopped following when it was pointed at a version by hand.
    """

    kind: ClassVar[str] = "alias.set"

    alias: str
    version: int | None
    previous: int | None = None
    follows: str | None = None
    unfollowed: str | None = None

    @property
    def needs_schema(self) -> int:
        return 3 if self.follows or self.unfollowed else CHAINED_SCHEMA_VERSION

    def data(self) -> dict[str, Any]:
        out = {"alias": self.alias, "version": self.version, "previous": self.previous}
        if self.follows is not None:
            out["follows"] = self.follows
        if self.unfollowed is not None:
            out["unfollowed"] = self.unfollowed
        return out

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        follows = get_opt_str(data, "follows")
        return {
            "alias": get_str(data, "alias"),
            "version": get_opt_int(data, "version")
            if follows
            else get_int(data, "version", minimum=1),
            "previous": get_opt_int(data, "previous"),
            "follows": follows,
            "unfollowed": get_opt_str(data, "unfollowed"),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        aliases, follows = dict(current.aliases), dict(current.follows)
        if self.follows is not None:
            holder = follow_target(current.holders(self.follows), current.aliases.get(self.alias))
            if holder != self.version:
                raise self._refuse(
                    current,
                    f"it points alias {self.alias!r} at version {self.version} to follow "
                    f"{self.follows!r}, whose holder is version {holder}",
                )
            follows[self.alias] = self.follows
        else:
            follows.pop(self.alias, None)
        if self.version is None:
            aliases.pop(self.alias, None)
        else:
            self._existing(current, self.version)
            aliases[self.alias] = self.version
        return {"aliases": MappingProxyType(aliases), "follows": frozen(follows)}


@dataclass(frozen=True, kw_only=True)
class AliasDeleted(Event):
    """An alias removed; ``follows`` is the stage it followed, whose binding went with it."""

    kind: ClassVar[str] = "alias.deleted"

    alias: str
    previous: int | None = None
    follows: str | None = None

    @property
    def needs_schema(self) -> int:
        return 3 if self.follows else CHAINED_SCHEMA_VERSION

    def data(self) -> dict[str, Any]:
        out = {"alias": self.alias, "previous": self.previous}
        if self.follows is not None:
            out["follows"] = self.follows
        return out

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "alias": get_str(data, "alias"),
            "previous": get_opt_int(data, "previous"),
            "follows": get_opt_str(data, "follows"),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        aliases, follows = dict(current.aliases), dict(current.follows)
        aliases.pop(self.alias, None)
        follows.pop(self.alias, None)
        return {"aliases": MappingProxyType(aliases), "follows": frozen(follows)}


@dataclass(frozen=True, kw_only=True)
class TagSet(Event):
    """A tag on the model (``version`` None) or on one version."""

    kind: ClassVar[str] = "tag.set"

    version: int | None
    key: str
    value: str

    def data(self) -> dict[str, Any]:
        return {"version": self.version, "key": self.key, "value": self.value}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "version": get_opt_int(data, "version"),
            "key": get_str(data, "key"),
            "value": get_str(data, "value"),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        return _retag(self, current, self.version, lambda tags: tags.update({self.key: self.value}))


@dataclass(frozen=True, kw_only=True)
class TagDeleted(Event):
    kind: ClassVar[str] = "tag.deleted"

    version: int | None
    key: str

    def data(self) -> dict[str, Any]:
        return {"version": self.version, "key": self.key}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"version": get_opt_int(data, "version"), "key": get_str(data, "key")}

    def _changes(self, current: ModelState) -> dict[str, Any]:
        return _retag(self, current, self.version, lambda tags: tags.pop(self.key, None))


def _retag(event: Event, current: ModelState, number: int | None, edit: Any) -> dict[str, Any]:
    tags = dict(current.tags if number is None else event._existing(current, number).tags)
    edit(tags)
    if number is None:
        return {"tags": frozen(tags)}
    return {"versions": event._versions(current, number, tags=frozen(tags))}


@dataclass(frozen=True, kw_only=True)
class ApprovalRecorded(Event):
    kind: ClassVar[str] = "approval.recorded"

    version: int
    approval: Approval

    def data(self) -> dict[str, Any]:
        return {"version": self.version, "approval": self.approval.to_dict()}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        approval = get_mapping(data, "approval")
        get_time(approval, "at")  # from_dict would accept a naive time
        return {
            "version": get_int(data, "version", minimum=1),
            "approval": build(Approval.from_dict, approval, "approval"),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        self._existing(current, self.approval.version)
        return {"approvals": (*current.approvals, self.approval)}


@dataclass(frozen=True, kw_only=True)
class Transitioned(Event):
    """A transition: every state change it made (displacements included) and the guards' results."""

    kind: ClassVar[str] = "transition"

    version: int
    changes: tuple[StateChange, ...]
    results: tuple[GuardResult, ...] = ()
    alias_moves: tuple[AliasMove, ...] = ()

    @property
    def needs_schema(self) -> int:
        return 3 if self.alias_moves else CHAINED_SCHEMA_VERSION

    def data(self) -> dict[str, Any]:
        out = {
            "version": self.version,
            "changes": [change.to_dict() for change in self.changes],
            "results": [result.to_dict() for result in self.results],
        }
        if self.alias_moves:
            out["aliases"] = [move.to_dict() for move in self.alias_moves]
        return out

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        changes = tuple(
            build(StateChange.from_dict, c, "change") for c in get_list(data, "changes")
        )
        if not changes:
            raise Malformed("'changes' is empty")
        results = get_list(data, "results", optional=True)
        return {
            "version": get_int(data, "version", minimum=1),
            "changes": changes,
            "results": tuple(build(GuardResult.from_dict, r, "guard result") for r in results),
            "alias_moves": tuple(
                build(_alias_move, move, "alias move")
                for move in get_list(data, "aliases", optional=True)
            ),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        versions = dict(current.versions)
        for change in self.changes:
            record = self._existing(current, change.version)
            versions[change.version] = replace(record, state=change.target)
        moves = alias_moves(current, self.changes)
        if moves != self.alias_moves:
            # A following alias equals its stage's holder in every state: an event that moves
            # the stage without its aliases (or moves them elsewhere) cannot apply.
            said = ", ".join(map(str, self.alias_moves)) or "none"
            raise self._refuse(
                current,
                f"it records the alias moves [{said}] but its changes move "
                f"[{', '.join(map(str, moves)) or 'none'}]",
            )
        aliases = dict(current.aliases)
        for move in moves:
            if move.version is None:
                aliases.pop(move.alias, None)
            else:
                aliases[move.alias] = move.version
        return {
            "versions": MappingProxyType(versions),
            "changes": current.changes + self.changes,
            "aliases": MappingProxyType(aliases) if moves else current.aliases,
        }


def _alias_move(doc: Mapping[str, Any]) -> AliasMove:
    previous, version = get_opt_int(doc, "previous"), get_opt_int(doc, "version")
    return AliasMove(get_str(doc, "alias"), previous, version)


@dataclass(frozen=True, kw_only=True)
class RolledBack(Transitioned):
    """A rollback: an exclusive state given back to its previous holder (no guards ran)."""

    kind: ClassVar[str] = "rollback"


@dataclass(frozen=True, kw_only=True)
class EvidenceAttached(Event):
    """An artifact attached to a version as evidence of kind ``evidence``; the note is the reason.

    Stored as ``{"version": 3, "kind": "drift-report", "artifact": "sha256:..."}``.
    """

    kind: ClassVar[str] = "evidence.attached"
    since: ClassVar[int] = 3

    version: int
    evidence: str
    artifact: str

    def data(self) -> dict[str, Any]:
        return {"version": self.version, "kind": self.evidence, "artifact": self.artifact}

    @classmethod
    def parse_data(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        evidence = get_str(data, "kind")
        try:
            check_evidence_kind(evidence)
        except InputError as exc:
            raise Malformed(str(exc)) from None
        return {
            "version": get_int(data, "version", minimum=1),
            "evidence": evidence,
            "artifact": _required_digest(data, "artifact"),
        }

    def _changes(self, current: ModelState) -> dict[str, Any]:
        self._existing(current, self.version)
        record = Evidence(
            model=current.name,
            version=self.version,
            kind=self.evidence,
            artifact=self.artifact,
            actor=self.actor,
            at=self.at,
            note=self.reason,
            seq=self.seq,
        )
        return {"evidence": (*current.evidence, record)}


def _required_digest(data: Mapping[str, Any], field: str) -> str:
    value = get_digest(data, field)
    if value is None:
        raise Malformed(f"the field {field!r} is missing")
    return value


#: Every kind of event, by the name stored in ``"kind"``.
EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType(
    {
        cls.kind: cls
        for cls in (
            VersionRegistered,
            VersionCopied,
            VersionDeleted,
            VersionDescribed,
            ModelDescribed,
            AliasSet,
            AliasDeleted,
            TagSet,
            TagDeleted,
            ApprovalRecorded,
            Transitioned,
            RolledBack,
            EvidenceAttached,
        )
    }
)


def parse_event(raw: bytes, key: str) -> Event:
    """The event stored as ``raw`` under ``key``; :class:`IntegrityError` naming ``key`` if the
    bytes are not an event this modelyard can read."""
    try:
        doc = json.loads(raw)
    except ValueError:
        raise _damaged(key, "is not valid JSON (truncated or damaged)") from None
    if not isinstance(doc, dict):
        raise _damaged(key, f"holds a JSON {type(doc).__name__}, not a registry event")
    schema = doc.get("schema_version")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA_VERSION:
        raise IntegrityError(
            f"{key} was written by a newer modelyard (event schema_version {schema}; this "
            f"version reads up to {SCHEMA_VERSION}): upgrade modelyard to read this model",
            key=key,
            schema_version=schema,
            problem="newer",
        )
    if (
        not isinstance(schema, int)
        or isinstance(schema, bool)
        or not LEGACY_SCHEMA_VERSION <= schema <= SCHEMA_VERSION
    ):
        raise _damaged(key, f"is not a registry event (schema_version {schema!r})")
    kind = doc.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise _damaged(
            key, f"has an unknown event kind {kind!r} (known: {', '.join(sorted(EVENT_TYPES))})"
        )
    if schema < cls.since:
        raise _damaged(key, f"has the kind {kind!r}, which schema_version {schema} does not know")
    try:
        envelope: dict[str, Any] = {
            "seq": get_int(doc, "seq", minimum=1),
            "at": get_time(doc, "at"),
            "actor": get_str(doc, "actor"),
            "reason": get_str(doc, "reason", default=""),
            "schema_version": schema,
        }
        if schema >= CHAINED_SCHEMA_VERSION:
            model = get_mapping(doc, "model")
            envelope["model"] = ModelIdentity(get_str(model, "name"), get_str(model, "id"))
            if "prev" not in doc:
                raise Malformed("the field 'prev' is missing")
            envelope["prev"] = get_digest(doc, "prev")
            envelope["snapshot"] = get_digest(doc, "snapshot")
        event = cls(**envelope, **cls.parse_data(get_mapping(doc, "data")))
        needs = event.needs_schema
        if needs > max(schema, CHAINED_SCHEMA_VERSION):
            # A reader of that schema would ignore the newer fields and fold another state.
            raise Malformed(f"it has fields of schema {needs} in a schema {schema} event")
        return event
    except Malformed as exc:
        raise _damaged(key, f"is not a valid {kind!r} event: {exc}") from None


def _damaged(key: str, what: str) -> IntegrityError:
    return IntegrityError(
        f"{key} {what}; the registry log was edited or damaged. registry.verify() lists every "
        "problem",
        key=key,
        problem="event",
    )
