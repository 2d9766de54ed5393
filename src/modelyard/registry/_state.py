"""A model's state as the fold of its event log, and the events that change it.

The fold is pure: ``apply(state, event)`` returns a new state and never mutates the old one, so a
state can be cached and shared between threads while a writer derives the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from modelyard.errors import IntegrityError
from modelyard.lifecycle import Approval, StateChange
from modelyard.registry._records import ModelVersion

__all__ = ["EVENT_KINDS", "ModelState", "apply", "state_from_json", "state_to_json"]

EVENT_KINDS = (
    "version.registered",
    "version.deleted",
    "version.described",
    "model.described",
    "alias.set",
    "alias.deleted",
    "tag.set",
    "tag.deleted",
    "approval.recorded",
    "transition",
    "rollback",
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping)) if mapping else _EMPTY


@dataclass(frozen=True)
class ModelState:
    """Everything the registry knows about one model after folding its log up to ``head``."""

    name: str
    head: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    versions: Mapping[int, ModelVersion] = field(default_factory=lambda: MappingProxyType({}))
    aliases: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    approvals: tuple[Approval, ...] = ()
    changes: tuple[StateChange, ...] = ()
    max_version: int = 0

    @property
    def latest(self) -> int | None:
        """The highest version that is not deleted."""
        for number in range(self.max_version, 0, -1):
            record = self.versions.get(number)
            if record is not None and not record.deleted:
                return number
        return None

    def all_aliases(self) -> dict[str, int]:
        """User aliases plus the automatic ``latest``."""
        aliases = dict(self.aliases)
        latest = self.latest
        if latest is not None:
            aliases["latest"] = latest
        return aliases

    def record(self, version: ModelVersion) -> ModelVersion:
        """``version`` with its current aliases filled in."""
        names = tuple(sorted(a for a, v in self.all_aliases().items() if v == version.version))
        return replace(version, aliases=names) if names else version


def apply(state: ModelState, event: Mapping[str, Any]) -> ModelState:
    """Fold one event into ``state``; raise :class:`IntegrityError` on an event out of order."""
    seq = event["seq"]
    if seq != state.head + 1:
        raise IntegrityError(
            f"event {seq} of model {state.name!r} follows event {state.head}; the log is damaged",
            model=state.name,
            seq=seq,
        )
    kind = event["kind"]
    data = event["data"]
    at = datetime.fromisoformat(event["at"])
    changes: dict[str, Any] = {"head": seq, "updated_at": at}
    if state.created_at is None:
        changes["created_at"] = at
    if kind == "version.registered":
        number = data["version"]
        versions = dict(state.versions)
        versions[number] = _version(
            state.name, data, created_at=at, created_by=event["actor"], deleted=False
        )
        changes["versions"] = MappingProxyType(versions)
        changes["max_version"] = max(state.max_version, number)
    elif kind == "version.deleted":
        changes["versions"] = _update(state, data["version"], deleted=True)
    elif kind == "version.described":
        changes["versions"] = _update(state, data["version"], description=data["description"])
    elif kind == "model.described":
        changes["description"] = data["description"]
    elif kind in ("alias.set", "alias.deleted"):
        aliases = dict(state.aliases)
        if kind == "alias.set":
            aliases[data["alias"]] = data["version"]
        else:
            aliases.pop(data["alias"], None)
        changes["aliases"] = MappingProxyType(aliases)
    elif kind in ("tag.set", "tag.deleted"):
        number = data.get("version")
        current = state.tags if number is None else state.versions[number].tags
        tags = dict(current)
        if kind == "tag.set":
            tags[data["key"]] = data["value"]
        else:
            tags.pop(data["key"], None)
        if number is None:
            changes["tags"] = _frozen(tags)
        else:
            changes["versions"] = _update(state, number, tags=_frozen(tags))
    elif kind == "approval.recorded":
        changes["approvals"] = (*state.approvals, Approval.from_dict(data["approval"]))
    elif kind in ("transition", "rollback"):
        moved = tuple(StateChange.from_dict(item) for item in data["changes"])
        versions = dict(state.versions)
        for change in moved:
            versions[change.version] = replace(versions[change.version], state=change.target)
        changes["versions"] = MappingProxyType(versions)
        changes["changes"] = state.changes + moved
    else:
        raise IntegrityError(
            f"event {seq} of model {state.name!r} has unknown kind {kind!r}; it was written by a "
            "newer modelyard, or the log is damaged",
            model=state.name,
            seq=seq,
        )
    return replace(state, **changes)


def _update(state: ModelState, number: int, **fields: Any) -> Mapping[int, ModelVersion]:
    versions = dict(state.versions)
    versions[number] = replace(versions[number], **fields)
    return MappingProxyType(versions)


# -- snapshots ---------------------------------------------------------------------------------


def state_to_json(state: ModelState) -> dict[str, Any]:
    """A JSON-able form of ``state``, written as a snapshot of the fold."""
    return {
        "schema_version": 1,
        "name": state.name,
        "head": state.head,
        "created_at": state.created_at.isoformat() if state.created_at else None,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
        "description": state.description,
        "tags": dict(state.tags),
        # The model's name and the aliases are stored once for the model, not per version.
        "versions": [
            {k: value for k, value in v.to_dict().items() if k not in ("name", "aliases")}
            for v in state.versions.values()
        ],
        "aliases": dict(state.aliases),
        "approvals": [a.to_dict() for a in state.approvals],
        "changes": [c.to_dict() for c in state.changes],
        "max_version": state.max_version,
    }


def state_from_json(data: Mapping[str, Any]) -> ModelState:
    """Rebuild a state from :func:`state_to_json` output."""
    name = data["name"]
    versions = {
        item["version"]: _version(
            name,
            item,
            created_at=_time(item["created_at"]),
            created_by=item["created_by"],
            deleted=item["deleted"],
        )
        for item in data["versions"]
    }
    return ModelState(
        name=name,
        head=data["head"],
        created_at=_time(data["created_at"]),
        updated_at=_time(data["updated_at"]),
        description=data["description"],
        tags=_frozen(data["tags"]),
        versions=MappingProxyType(versions),
        aliases=MappingProxyType(dict(data["aliases"])),
        approvals=tuple(Approval.from_dict(a) for a in data["approvals"]),
        changes=tuple(StateChange.from_dict(c) for c in data["changes"]),
        max_version=data["max_version"],
    )


def _version(
    name: str,
    item: Mapping[str, Any],
    *,
    created_at: datetime | None,
    created_by: str,
    deleted: bool,
) -> ModelVersion:
    """A version record from a registration event's data or a snapshot entry."""
    return ModelVersion(
        name=name,
        version=item["version"],
        artifact=item["artifact"],
        state=item["state"],
        metrics=_frozen(item.get("metrics")),
        params=_frozen(item.get("params")),
        tags=_frozen(item.get("tags")),
        description=item.get("description", ""),
        lineage=tuple(item.get("lineage", ())),
        created_at=created_at,
        created_by=created_by,
        deleted=deleted,
    )


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
