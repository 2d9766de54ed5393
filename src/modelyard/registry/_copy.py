"""Promotion across yards: a version, its artifact and its lineage copied into another registry.

**What moves.** The version's artifact and all its ancestors, by content hash
(:meth:`ArtifactStore.transfer <modelyard.artifacts.ArtifactStore.transfer>`): the artifact has the
same id in both yards and only what the destination lacks is written. The destination then records
a ``version.copied`` event: a registration (same reference guard, so gc there keeps the artifact)
that also carries a :class:`Provenance`, with the source's metrics, params, tags and description.
The new version starts in the destination lifecycle's initial state: promotion there goes through
that yard's own guards and approvals.

**Once only.** Whether the destination model already holds a copy of the source version is read
from its log (the provenance of its versions), never from anything kept by the copying process:
so a second copy is a no-op that says so, in any process. Two processes copying at once both
transfer (content-addressed writes of the same bytes), then race on the destination's log: the
loser re-folds, finds the winner's copy while deciding again, and returns it. Exactly one version
is registered.

**The event is written while the transfer's lease is held**, so a gc in the destination cannot
collect the copied artifacts (whose ``created_at`` is old, so no grace period protects them)
between the transfer and the registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelyard._internal.names import validate_name
from modelyard.artifacts import CopyReport
from modelyard.errors import InputError
from modelyard.registry._events import VersionCopied
from modelyard.registry._provenance import Provenance, location_of
from modelyard.registry._records import ModelVersion
from modelyard.registry._state import ModelState
from modelyard.registry._validate import check_text

if TYPE_CHECKING:
    from modelyard.registry._registry import Registry

__all__ = ["CopyResult", "copy_version"]


@dataclass(frozen=True)
class CopyResult:
    """What :meth:`Registry.copy <modelyard.registry.Registry.copy>` did.

    Attributes:
        version: the version in the destination (new, or the copy made earlier).
        created: True if this call registered it; False if the destination model already held a
            copy of the source version, and nothing was registered.
        transfer: what the artifact copy wrote (None when the copy was found before any
            transfer: then nothing at all was written).
    """

    version: ModelVersion
    created: bool
    transfer: CopyReport | None = None

    def __str__(self) -> str:
        source = self.version.provenance
        origin = source.ref if source is not None else "?"
        if not self.created:
            return f"{origin} was already copied as {self.version.ref}; nothing was copied"
        moved = self.transfer
        detail = f" ({moved.blobs} blobs, {moved.bytes} bytes moved)" if moved else ""
        return f"{origin} copied as {self.version.ref}{detail}"


class _AlreadyCopied(Exception):
    """Raised while deciding the event, when the destination's fold already holds the copy."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def _copy_in(state: ModelState, provenance: Provenance) -> int | None:
    for number, record in sorted(state.versions.items()):
        source = record.provenance
        if source is not None and not record.deleted and source.same_source(provenance):
            return number
    return None


def copy_version(
    source: Registry,
    ref: str,
    dest: Registry,
    *,
    name: str | None,
    actor: str | None,
    reason: str,
) -> CopyResult:
    """See :meth:`Registry.copy <modelyard.registry.Registry.copy>`."""
    where = location_of(source.store)
    same = where == location_of(dest.store) and where != "memory://"
    if dest.store is source.store or same:
        raise InputError(
            f"copy sends a version to another yard, and {ref!r} would be copied into its own "
            "store; to give it another name here, register its artifact under that name"
        )
    if name is not None:
        validate_name(name, kind="model name")
    who, reason = source._actor(actor), check_text(reason, what="reason")
    dest._require_writable()
    record = source.resolve(ref)
    if record.deleted:
        raise InputError(
            f"{record.ref} is deleted; only a live version can be copied to another yard",
            name=record.name,
            version=record.version,
        )
    target = name if name is not None else record.name
    provenance = Provenance(
        location=where,
        model=record.name,
        model_id=source._existing(record.name).model_id,
        version=record.version,
        artifact=record.artifact,
    )
    # A fresh fold (a listing): a copy made by another process must be seen.
    found = _copy_in(dest._write_state(target), provenance)
    if found is not None:
        return CopyResult(dest.version(target, found), created=False)
    governed = dest._governed(target, who)
    initial = governed[0].initial

    with source.artifacts.transfer(dest.artifacts, record.artifact) as moved:
        guard = dest.artifacts.reference_guard(record.artifact)

        def build(state: ModelState) -> VersionCopied:
            earlier = _copy_in(state, provenance)
            if earlier is not None:
                raise _AlreadyCopied(earlier)
            return VersionCopied(
                at=dest._now(state),
                actor=who,
                reason=reason,
                version=state.max_version + 1,
                artifact=record.artifact,
                state=initial,
                metrics=dict(record.metrics),
                params=dict(record.params),
                tags=dict(record.tags),
                description=record.description,
                lineage=tuple(guard.manifest.parents),
                provenance=provenance,
                code=record.code,
            )

        try:
            with guard:
                state, event = dest._commit(target, build, governed=governed)
        except _AlreadyCopied as exc:
            return CopyResult(dest.version(target, exc.version), created=False, transfer=moved)
    return CopyResult(dest._version(state, event.version), created=True, transfer=moved)
