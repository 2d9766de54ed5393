"""Reading manifests and name entries: the catalog the other parts of the store consult."""

from __future__ import annotations

from modelyard._internal.collector import collector_paused
from modelyard._internal.hashing import digest_bytes
from modelyard.artifacts._layout import (
    MANIFESTS,
    digest_of_key,
    manifest_key,
    name_prefix,
    parse_name_entry,
)
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._refs import ArtifactRef
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.storage import Store

__all__ = ["list_artifact_ids", "name_entries", "read_manifest", "ref_of"]


def ref_of(artifact_id: str, manifest: Manifest) -> ArtifactRef:
    return ArtifactRef(
        id=artifact_id,
        name=manifest.name,
        digest=manifest.digest,
        size=manifest.size,
        media_type=manifest.media_type,
    )


#: Manifests of this many bytes or more (a folder of some hundreds of files) are parsed with the
#: garbage collector paused.
_PAUSE_FROM = 64 * 1024


def read_manifest(store: Store, artifact_id: str) -> Manifest:
    """The manifest of ``artifact_id``, after checking its bytes hash to the id."""
    try:
        data = store.read(manifest_key(artifact_id))
    except NotFoundError:
        raise NotFoundError(f"no artifact {artifact_id} in this store", id=artifact_id) from None
    actual = digest_bytes(data)
    if actual != artifact_id:
        raise IntegrityError(
            f"the manifest of artifact {artifact_id} is corrupt: its bytes hash to {actual}. Run "
            "ArtifactStore.verify() to list every damaged artifact",
            ref=artifact_id,
        )
    # A folder's manifest holds an entry per file (see collector.py); below this size the pause
    # would cost more than it saves (2 µs against 6 µs for a parse of a file's manifest).
    try:
        with collector_paused(len(data) >= _PAUSE_FROM):
            return Manifest.model_validate_json(data)
    except ValueError as exc:
        raise IntegrityError(
            f"the manifest of artifact {artifact_id} does not parse ({exc})", ref=artifact_id
        ) from exc


def list_artifact_ids(store: Store) -> list[str]:
    ids = []
    for key in store.list(MANIFESTS):
        artifact_id = digest_of_key(key)
        if artifact_id is not None:
            ids.append(artifact_id)
    return ids


def name_entries(store: Store, name: str) -> list[tuple[str, str, str]]:
    """``(key, stamp, artifact id)`` of every version of ``name``, newest first."""
    found = []
    for key in store.list(name_prefix(name)):
        parsed = parse_name_entry(key)
        if parsed is not None and parsed[0] == name:
            found.append((key, parsed[1], parsed[2]))
    found.sort(key=lambda item: (item[1], item[2]), reverse=True)
    return found
