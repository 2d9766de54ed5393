"""Snapshots: a cache of a model's fold that must agree with the chain.

Every ``snapshot_every`` events a writer stores the fold of events 1..s as
``models/<name>/snapshots/<s>.json`` so that a reader folds at most that many events. A snapshot is
only a cache, and a store's writer can edit or plant one, so it is used only if event ``s`` of the
log records the sha256 of its exact bytes. The writer computes that digest on the events after
which a snapshot is due (it serialises the fold for the snapshot anyway), so the cost per event
stays flat. A snapshot that does not match (edited, planted past the log's end, truncated, a
stray file, a newer format) is skipped with a :class:`SnapshotWarning`, and the fold is rebuilt
from an older snapshot or from the events. Snapshots written before the chain existed (schema 1)
cannot be checked and are skipped silently: the first writer after an upgrade stores a checked
one.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import NotFoundError
from modelyard.lifecycle import Approval, StateChange
from modelyard.registry._chain import check_identity
from modelyard.registry._events import parse_event
from modelyard.registry._fields import (
    Malformed,
    build,
    get_code,
    get_int,
    get_list,
    get_mapping,
    get_str,
    get_str_map,
    get_time,
)
from modelyard.registry._layout import log_key, seq_of, snapshot_prefix
from modelyard.registry._provenance import Provenance
from modelyard.registry._records import Evidence, ModelVersion
from modelyard.registry._state import ModelState, frozen
from modelyard.storage import Store

__all__ = [
    "SNAPSHOT_SCHEMA_VERSION",
    "Legacy",
    "PastEnd",
    "SnapshotWarning",
    "checked_snapshot",
    "decode_snapshot",
    "encode_snapshot",
    "load_snapshot",
    "snapshot_problem",
]

#: The newest snapshot format. Schema 2 is checked against the chain; schema 3 adds ``follows``
#: (aliases bound to a stage) and ``evidence``, and is written only for a model that has either,
#: so that the release before (which reads schema 2 and knows neither) keeps its cache for other
#: models, and for these skips the snapshot and meets the events themselves, which it refuses,
#: rather than fold a state that lacks them (its gc would then delete evidence artifacts).
#: Schema 1 snapshots predate the chain and are never used.
#: Schema 4 adds the versions' ``code`` and is written only for a model where a version has one,
#: for the same reason.
SNAPSHOT_SCHEMA_VERSION = 4
_CHAINED_SNAPSHOT = 2
_FOLLOWS_SNAPSHOT = 3


_NUMBER = (int, float)


class SnapshotWarning(UserWarning):
    """A model's snapshot was skipped because it does not match the model's log.

    Snapshots are a cache, so nothing is lost: the state is rebuilt from the events. The warning
    names the file; a snapshot that was edited or planted is worth investigating (who can write to
    the store?). ``registry.verify()`` lists every such file.
    """


def encode_snapshot(state: ModelState) -> bytes:
    """The stored bytes of a snapshot of ``state`` (canonical JSON: one byte string per fold)."""
    newer = bool(state.follows or state.evidence)
    coded = any(v.code is not None for v in state.versions.values())
    schema = SNAPSHOT_SCHEMA_VERSION if coded else _FOLLOWS_SNAPSHOT if newer else _CHAINED_SNAPSHOT
    doc: dict[str, Any] = {"schema_version": schema}
    if state.follows:
        doc["follows"] = dict(state.follows)
    return canonical_json(
        {
            **doc,
            "name": state.name,
            "model_id": state.model_id,
            "head": state.head,
            "created_at": state.created_at.isoformat() if state.created_at else None,
            "updated_at": state.updated_at.isoformat() if state.updated_at else None,
            "description": state.description,
            "tags": dict(state.tags),
            # The model's name and the aliases are stored once for the model, not per version;
            # provenance only for copied versions (other snapshots keep their earlier bytes).
            "versions": [
                {
                    k: value
                    for k, value in v.to_dict().items()
                    if k not in ("name", "aliases")
                    and (k not in ("provenance", "code") or value is not None)
                }
                for v in state.versions.values()
            ],
            "aliases": dict(state.aliases),
            "approvals": [a.to_dict() for a in state.approvals],
            "changes": [c.to_dict() for c in state.changes],
            "max_version": state.max_version,
            # Only when there is some, so a model without evidence is stored as before.
            **({"evidence": [_evidence_item(e) for e in state.evidence]} if state.evidence else {}),
        }
    )


def _evidence_item(evidence: Evidence) -> dict[str, Any]:
    return {k: v for k, v in evidence.to_dict().items() if k != "model"}


def _evidence(item: Any, name: str) -> Evidence:
    if not isinstance(item, dict):
        raise Malformed("an evidence entry is not an object")
    return Evidence(
        model=name,
        version=get_int(item, "version", minimum=1),
        kind=get_str(item, "kind"),
        artifact=get_str(item, "artifact"),
        actor=get_str(item, "actor"),
        at=get_time(item, "at"),
        note=get_str(item, "note"),
        seq=get_int(item, "seq", minimum=1),
    )


def decode_snapshot(doc: Mapping[str, Any], name: str) -> ModelState:
    """The state a schema-2 or -3 snapshot of model ``name`` holds; :class:`Malformed` if it does
    not (following aliases and evidence are only in schema 3)."""
    if get_str(doc, "name") != name:
        raise Malformed(f"it is a snapshot of model {doc['name']!r}")
    schema = doc.get("schema_version")
    if schema == _FOLLOWS_SNAPSHOT and not ("evidence" in doc or "follows" in doc):
        raise Malformed("a schema 3 snapshot has following aliases or evidence")
    if schema == _CHAINED_SNAPSHOT and ("evidence" in doc or "follows" in doc):
        raise Malformed("following aliases and evidence belong in a schema 3 or 4 snapshot")
    versions = {v.version: v for v in (_version(item, name) for item in get_list(doc, "versions"))}
    if (schema == SNAPSHOT_SCHEMA_VERSION) != any(v.code is not None for v in versions.values()):
        raise Malformed("code records belong in a schema 4 snapshot, and only there")
    aliases = get_mapping(doc, "aliases")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in aliases.values()):
        raise Malformed("'aliases' must map names to version numbers")
    follows = get_str_map(doc, "follows") if "follows" in doc else {}
    return ModelState(
        name=name,
        follows=frozen(follows),
        head=get_int(doc, "head", minimum=1),
        created_at=_time(doc, "created_at"),
        updated_at=_time(doc, "updated_at"),
        description=get_str(doc, "description"),
        tags=frozen(get_str_map(doc, "tags")),
        versions=MappingProxyType(versions),
        aliases=MappingProxyType(dict(aliases)),
        approvals=tuple(
            build(Approval.from_dict, a, "approval") for a in get_list(doc, "approvals")
        ),
        changes=tuple(build(StateChange.from_dict, c, "change") for c in get_list(doc, "changes")),
        max_version=get_int(doc, "max_version"),
        evidence=tuple(_evidence(item, name) for item in get_list(doc, "evidence", optional=True)),
        model_id=get_str(doc, "model_id"),
    )


def _version(item: Any, name: str) -> ModelVersion:
    # A cold read runs this for every version, so the checks are plain type tests in one place.
    try:
        number, artifact, state = item["version"], item["artifact"], item["state"]
        description, created_by, deleted = item["description"], item["created_by"], item["deleted"]
        metrics, params = item.get("metrics") or {}, item.get("params") or {}
        tags, lineage = item.get("tags") or {}, item.get("lineage") or []
    except (KeyError, TypeError, AttributeError):
        raise Malformed("a version entry lacks a field") from None
    if not (
        type(number) is int
        and number > 0
        and type(artifact) is str
        and type(state) is str
        and type(description) is str
        and type(created_by) is str
        and type(deleted) is bool
        and type(metrics) is dict
        and type(params) is dict
        and type(tags) is dict
        and type(lineage) is list
        and (not metrics or all(type(v) in _NUMBER and math.isfinite(v) for v in metrics.values()))
        and (not tags or all(type(v) is str for v in tags.values()))
        and (not lineage or all(type(v) is str for v in lineage))
    ):
        raise Malformed(f"the entry of version {number!r} has a field of the wrong type")
    return ModelVersion(
        name=name,
        version=number,
        artifact=artifact,
        state=state,
        metrics=frozen(metrics),
        params=frozen(params),
        tags=frozen(tags),
        description=description,
        lineage=tuple(lineage),
        created_at=_time(item, "created_at"),
        created_by=created_by,
        deleted=deleted,
        provenance=_provenance(item.get("provenance")),
        code=get_code(item),
    )


def _provenance(value: Any) -> Provenance | None:
    # Snapshots written before copies existed have no such field: None, as for a registration.
    if value is None:
        return None
    result: Provenance = build(Provenance.from_dict, value, "provenance")
    return result


def _time(data: Mapping[str, Any], field: str) -> datetime | None:
    text = data.get(field)
    if text is None:
        return None
    if not isinstance(text, str):
        raise Malformed(f"{field!r} must be an ISO 8601 time")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"{field!r} must be an ISO 8601 time, got {text!r}") from None


class PastEnd(Exception):
    """The snapshot names an event the log does not have."""


class Legacy(Exception):
    """The snapshot predates the chain, so nothing can check it."""


def load_snapshot(store: Store, name: str) -> tuple[ModelState, int]:
    """The newest snapshot of ``name`` that matches its chain, as a state (the empty state if
    none does), and the highest number of a snapshot that lies past the log's end (0 if none):
    a sign that events were removed, or that the snapshot was planted."""
    prefix = snapshot_prefix(name)
    past_end = 0
    for key in reversed(store.list(prefix)):
        seq = seq_of(key, prefix)
        if seq is None or seq == 0:
            _warn(f"{key} is not a snapshot (a stray file in the snapshots folder)")
            continue
        try:
            state = checked_snapshot(store, name, key, seq)
        except PastEnd:
            _warn(f"{key} lies past the end of the log (there is no event {seq})")
            past_end = max(past_end, seq)
            continue
        except Legacy:
            continue  # it predates the chain: nothing can check it, and nothing is wrong
        if state is not None:
            return state, past_end
    return ModelState(name), past_end


def checked_snapshot(store: Store, name: str, key: str, seq: int) -> ModelState | None:
    """The state snapshot ``key`` holds if it matches event ``seq``; None (with a warning) if not.

    Raises :class:`PastEnd` if the log has no event ``seq``, :class:`Legacy` for a schema-1
    snapshot, and :class:`~modelyard.errors.IntegrityError` if event ``seq`` itself is damaged
    (then the log is).
    """
    try:
        raw = store.read(key)
    except NotFoundError:
        return None  # removed since it was listed
    problem = snapshot_problem(store, name, key, seq, raw)
    if isinstance(problem, str):
        _warn(problem)
        return None
    return problem


def snapshot_problem(store: Store, name: str, key: str, seq: int, raw: bytes) -> ModelState | str:
    """The state in snapshot ``raw`` if it matches the chain, else what is wrong with it."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return f"{key} is not valid JSON (truncated or damaged)"
    schema = doc.get("schema_version") if isinstance(doc, dict) else None
    if schema == 1:
        raise Legacy
    if isinstance(schema, int) and schema > SNAPSHOT_SCHEMA_VERSION:
        return f"{key} was written by a newer modelyard (schema_version {schema})"
    if schema not in (
        _CHAINED_SNAPSHOT,
        _FOLLOWS_SNAPSHOT,
        SNAPSHOT_SCHEMA_VERSION,
    ) or not isinstance(doc, dict):
        return f"{key} is not a snapshot"
    event_key = log_key(name, seq)
    try:
        event_raw = store.read(event_key)
    except NotFoundError:
        raise PastEnd from None
    event = parse_event(event_raw, event_key)
    check_identity(name, None, event, event_key)
    if event.snapshot is None or event.snapshot != digest_bytes(raw):
        return f"{key} does not match {event_key}, which records another snapshot digest"
    try:
        state = decode_snapshot(doc, name)
    except Malformed as exc:
        return f"{key} does not parse: {exc}"
    if state.head != seq or event.model is None or state.model_id != event.model.id:
        return f"{key} does not hold the fold of {event_key}"
    return replace(state, head_digest=digest_bytes(event_raw))


def _warn(problem: str) -> None:
    warnings.warn(
        f"{problem}; the snapshot is skipped and the model's state rebuilt from its events",
        SnapshotWarning,
        stacklevel=2,
    )
