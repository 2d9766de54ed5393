"""The yard's governance events: stored lifecycles, role membership, approvals of changes.

Governance events form one chained log per yard (``governance/log/<seq>.json``, see
``_layout.py``), stored as canonical JSON::

    {"schema_version": 1, "kind": "role.granted", "seq": 2, "at": "2026-01-05T09:00:00+00:00",
     "actor": "ana", "reason": "release manager", "data": {"role": "release", "member": "lee"},
     "yard": "5b0e...", "prev": "sha256:..."}

``yard`` is a random id fixed by the first event, ``prev`` the sha256 of the stored bytes of event
``seq - 1`` (null for event 1): a copied, edited, removed or reordered event breaks the chain, as
in the model logs (``_chain.py``). The kinds:

* ``lifecycle.set``: ``{"model": name or null (the yard's default), "before": lifecycle or null,
  "after": lifecycle or null (null: the model follows the default again), "change": change id,
  "results": [guard results of the change's ``amend`` guards]}``; lifecycles in their stored form
  (:meth:`~modelyard.lifecycle.Lifecycle.to_dict`);
* ``role.granted`` and ``role.revoked``: ``{"role": role, "member": actor}``;
* ``change.approved``: ``{"change": change id, "role": role or null, "comment": text}``, an
  approval of a proposed lifecycle change, counted by the ``amend`` guards of the lifecycle in
  force.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import InputError, IntegrityError
from modelyard.lifecycle import GuardResult, Lifecycle
from modelyard.registry._fields import (
    Malformed,
    get_digest,
    get_int,
    get_list,
    get_mapping,
    get_opt_str,
    get_str,
    get_time,
)
from modelyard.registry._state import EMPTY, frozen

__all__ = [
    "GOVERNANCE_KINDS",
    "GovernanceEntry",
    "GOVERNANCE_SCHEMA_VERSION",
    "GovernanceEvent",
    "change_id",
    "parse_governance_event",
]

#: The newest governance event format this modelyard reads and writes.
GOVERNANCE_SCHEMA_VERSION = 1

GOVERNANCE_KINDS = ("lifecycle.set", "role.granted", "role.revoked", "change.approved")


@dataclass(frozen=True, kw_only=True)
class GovernanceEvent:
    """One change to the yard's governance. ``seq``, ``yard`` and ``prev`` are filled in by the
    log when the event is appended; events read back carry what was stored."""

    kind: str
    at: datetime
    actor: str
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    seq: int = 0
    yard: str = ""
    prev: str | None = None
    schema_version: int = GOVERNANCE_SCHEMA_VERSION
    #: Parsed forms of ``data["before"]`` and ``data["after"]`` (lifecycle.set only).
    lifecycles: tuple[Lifecycle | None, Lifecycle | None] = (None, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "data": dict(self.data),
            "yard": self.yard,
            "prev": self.prev,
        }

    def sealed(self, *, seq: int, yard: str, prev: str | None) -> GovernanceEvent:
        return replace(self, seq=seq, yard=yard, prev=prev)

    @property
    def model(self) -> str | None:
        """The model a lifecycle event is about (None: the yard's default, or not a lifecycle)."""
        value = self.data.get("model")
        return value if isinstance(value, str) else None


def change_id(model: str | None, lifecycle: Lifecycle | None) -> str:
    """The id under which a change of ``model``'s lifecycle (None: the yard default) to
    ``lifecycle`` (None: back to the default) is approved: the same change always has the same id.

    >>> change_id(None, Lifecycle.default())[:7]
    'change-'
    """
    spec = lifecycle.to_dict() if lifecycle is not None else None
    digest = digest_bytes(canonical_json({"model": model, "lifecycle": spec}))
    return "change-" + digest.removeprefix("sha256:")[:16]


def parse_governance_event(raw: bytes, key: str) -> GovernanceEvent:
    """The governance event stored as ``raw`` under ``key``; :class:`IntegrityError` naming
    ``key`` if the bytes are not one this modelyard can read."""
    try:
        doc = json.loads(raw)
    except ValueError:
        raise _damaged(key, "is not valid JSON (truncated or damaged)") from None
    if not isinstance(doc, dict):
        raise _damaged(key, f"holds a JSON {type(doc).__name__}, not a governance event")
    schema = doc.get("schema_version")
    if (
        isinstance(schema, int)
        and not isinstance(schema, bool)
        and schema > GOVERNANCE_SCHEMA_VERSION
    ):
        raise IntegrityError(
            f"{key} was written by a newer modelyard (governance schema_version {schema}; this "
            f"version reads up to {GOVERNANCE_SCHEMA_VERSION}): upgrade modelyard to write to "
            "this yard",
            key=key,
            schema_version=schema,
            problem="newer",
        )
    if schema != GOVERNANCE_SCHEMA_VERSION or isinstance(schema, bool):
        raise _damaged(key, f"is not a governance event (schema_version {schema!r})")
    kind = doc.get("kind")
    if kind not in GOVERNANCE_KINDS:
        raise _damaged(key, f"has an unknown kind {kind!r} (known: {', '.join(GOVERNANCE_KINDS)})")
    try:
        if "prev" not in doc:
            raise Malformed("the field 'prev' is missing")
        data = get_mapping(doc, "data")
        parsed, lifecycles = _parse_data(kind, data)
        return GovernanceEvent(
            kind=kind,
            at=get_time(doc, "at"),
            actor=get_str(doc, "actor"),
            reason=get_str(doc, "reason", default=""),
            data=frozen(parsed),
            seq=get_int(doc, "seq", minimum=1),
            yard=get_str(doc, "yard"),
            prev=get_digest(doc, "prev"),
            lifecycles=lifecycles,
        )
    except Malformed as exc:
        raise _damaged(key, f"is not a valid {kind!r} event: {exc}") from None


def _parse_data(
    kind: str, data: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[Lifecycle | None, Lifecycle | None]]:
    if kind == "lifecycle.set":
        model = get_opt_str(data, "model")
        before, after = _lifecycle(data, "before"), _lifecycle(data, "after")
        if after is None and model is None:
            raise Malformed("the yard's default lifecycle cannot be removed")
        results = [_result(item) for item in get_list(data, "results", optional=True)]
        parsed = {
            "model": model,
            "before": data.get("before"),
            "after": data.get("after"),
            "change": get_str(data, "change"),
            "results": [r.to_dict() for r in results],
        }
        return parsed, (before, after)
    if kind in ("role.granted", "role.revoked"):
        return {"role": get_str(data, "role"), "member": get_str(data, "member")}, (None, None)
    return {
        "change": get_str(data, "change"),
        "role": get_opt_str(data, "role"),
        "comment": get_str(data, "comment", default=""),
    }, (None, None)


def _lifecycle(data: Mapping[str, Any], field_name: str) -> Lifecycle | None:
    value = data.get(field_name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Malformed(f"{field_name!r} must be a stored lifecycle (a JSON object)")
    try:
        return Lifecycle.from_dict(value)
    except InputError as exc:
        raise Malformed(f"{field_name!r} is not a lifecycle this modelyard reads ({exc})") from None


def _result(value: Any) -> GuardResult:
    if not isinstance(value, dict):
        raise Malformed("a guard result must be a JSON object")
    try:
        return GuardResult.from_dict(value)
    except InputError as exc:
        raise Malformed(f"a guard result does not parse ({exc})") from None


def _damaged(key: str, what: str) -> IntegrityError:
    return IntegrityError(
        f"{key} {what}; the yard's governance log was edited or damaged. registry.verify() "
        "lists every problem",
        key=key,
        problem="event",
    )


@dataclass(frozen=True)
class GovernanceEntry:
    """One committed change of the yard's governance, as :meth:`Registry.governance_history
    <modelyard.registry.Registry.governance_history>` returns it.

    ``kind`` is ``"lifecycle.set"``, ``"role.granted"``, ``"role.revoked"`` or
    ``"change.approved"``; ``model`` the model a lifecycle change is about (None: the yard's
    default, or not a lifecycle change); ``data`` the stored fields: for a lifecycle change the
    definitions ``before`` and ``after`` (as :meth:`~modelyard.lifecycle.Lifecycle.to_dict`
    stores them), its ``change`` id and the ``results`` of the guards it passed.
    """

    seq: int
    at: datetime
    kind: str
    actor: str
    reason: str
    model: str | None
    data: Mapping[str, Any]

    @classmethod
    def of(cls, event: GovernanceEvent) -> GovernanceEntry:
        return cls(
            seq=event.seq,
            at=event.at,
            kind=event.kind,
            actor=event.actor,
            reason=event.reason,
            model=event.model,
            data=event.data,
        )
