"""Copying an artifact and everything it was made from into another artifact store.

A copy moves bytes by content hash: the manifests keep their bytes, so an artifact has the same id
in both stores, and only what the destination lacks is written. Everything is read from the source
first and checked there, so a bad reference or a damaged manifest is refused before the
destination is touched.

**Order of writes** (the order of a put, see ``_store.py``): first every missing blob, each one
streamed through a hash and published only if its digest and size match (a tampered blob in the
source raises :class:`~modelyard.errors.IntegrityError` before any manifest exists in the
destination); then lineage hints, then the manifests, parents before children; then the name
entries. A copy killed at any point leaves at most blobs and hints nothing refers to, which gc
removes; never a manifest without its blobs or its parents.

**Against a gc in the destination** a copy holds a put lease there from before its first write to
the end of the ``with`` block of :func:`transfer`, and waits out a gc that was already running,
exactly as a put does (``_leases.py``): a gc either finished before the copy looked at the
destination, or sees the lease and defers its sweep. The block is where a layer above records its
reference to the copy (the registry writes its event there), so a copied artifact that is old by
``created_at`` cannot be collected between the copy and the reference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from modelyard.artifacts._catalog import read_manifest, ref_of
from modelyard.artifacts._layout import (
    LEASES_PUT,
    SIZE_INDEX_MIN,
    blob_key,
    lineage_key,
    manifest_key,
    name_entry,
    size_key,
    stamp,
)
from modelyard.artifacts._leases import Lease
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._pipeline import copy_hashing
from modelyard.artifacts._reading import corrupt, open_blob
from modelyard.artifacts._refs import ArtifactRef
from modelyard.artifacts._targets import open_target
from modelyard.errors import KeyExistsError
from modelyard.storage import Store

if TYPE_CHECKING:
    from modelyard.artifacts._store import ArtifactStore

__all__ = ["CopyReport", "transfer"]


@dataclass(frozen=True)
class CopyReport:
    """What :meth:`ArtifactStore.copy_to <modelyard.artifacts.ArtifactStore.copy_to>` did.

    Attributes:
        ref: the copied artifact (the same id in both stores).
        artifacts: ids of the artifacts whose manifests were written to the destination (the
            artifact and any ancestors it lacked), parents first; empty if it had them all.
        blobs: how many blobs were written.
        bytes: how many bytes those blobs hold.
        closure: how many artifacts the copy covered (the artifact and all its ancestors).
    """

    ref: ArtifactRef
    artifacts: tuple[str, ...]
    blobs: int
    bytes: int
    closure: int

    @property
    def copied(self) -> bool:
        """Whether anything was written (False: the destination had it all already)."""
        return bool(self.artifacts or self.blobs)


def closure(store: Store, artifact_id: str) -> list[tuple[str, Manifest]]:
    """``artifact_id`` and every ancestor, each with its manifest (checked against its id),
    parents before children. Raises what :func:`read_manifest` raises for a missing or damaged
    manifest."""
    manifests: dict[str, Manifest] = {}
    stack = [artifact_id]
    while stack:
        current = stack.pop()
        if current in manifests:
            continue
        manifests[current] = read_manifest(store, current)
        stack.extend(p for p in manifests[current].parents if p not in manifests)
    ordered: list[tuple[str, Manifest]] = []
    placed: set[str] = set()

    def place(node: str) -> None:
        # Iterative post-order: a long chain of ancestors must not hit the recursion limit.
        pending = [(node, False)]
        while pending:
            current, expanded = pending.pop()
            if current in placed:
                continue
            if expanded:
                placed.add(current)
                ordered.append((current, manifests[current]))
                continue
            pending.append((current, True))
            pending.extend((p, False) for p in manifests[current].parents if p not in placed)

    place(artifact_id)
    return ordered


@contextlib.contextmanager
def transfer(source: ArtifactStore, dest: ArtifactStore, artifact_id: str) -> Iterator[CopyReport]:
    """Copy ``artifact_id`` and its ancestors from ``source`` to ``dest`` (see the module doc);
    the copy is protected from a gc in ``dest`` until the block ends."""
    nodes = closure(source.store, artifact_id)
    root = ref_of(artifact_id, nodes[-1][1])
    if dest.store is source.store:
        yield CopyReport(root, (), 0, 0, len(nodes))
        return
    lease = Lease(dest.store, LEASES_PUT, dest.clock, dest.lease_ttl)
    try:
        dest._wait_for_gc("a copy")
        missing = [(i, m) for i, m in nodes if not dest.store.exists(manifest_key(i))]
        blobs: dict[str, int | None] = {}
        for _, manifest in missing:
            for digest, size in manifest.blob_sizes().items():
                blobs.setdefault(digest, size)
        owner = {d: ref_of(i, m) for i, m in missing for d in m.blob_digests()}
        written = 0
        count = 0
        for digest, size in blobs.items():
            if dest.store.exists(blob_key(digest)):
                continue
            written += _copy_blob(source, dest, digest, size, owner[digest])
            count += 1
        if not lease.held():
            relied = [i for i, _ in nodes if i not in {a for a, _ in missing}]
            dest._recheck(
                lease,
                list(blobs),
                relied,
                what="copy",
                outcome="no manifest was written: copy again",
            )
        for artifact, manifest in missing:
            for parent in manifest.parents:
                _create(dest.store, lineage_key(parent, artifact), b"")
            _create(dest.store, manifest_key(artifact), manifest.canonical_bytes())
        for artifact, manifest in missing:
            if manifest.name is not None:
                # The original time, not "now": an old artifact copied in must not become the
                # newest version of its name there.
                key = name_entry(manifest.name, stamp(manifest.created_at), artifact)
                _create(dest.store, key, artifact.encode())
        yield CopyReport(root, tuple(i for i, _ in missing), count, written, len(nodes))
    finally:
        lease.release()


def _copy_blob(
    source: ArtifactStore, dest: ArtifactStore, digest: str, size: int | None, ref: ArtifactRef
) -> int:
    """Stream one blob across, hashing it on the way; publish it only if it is what it claims."""
    target = open_target(dest.store, direct_io=dest.direct_io)
    try:
        stream: BinaryIO
        with open_blob(source.store, digest, ref) as stream:
            actual, count = copy_hashing(stream, target.write)
        if actual != digest or (size is not None and count != size):
            raise corrupt(ref, digest, f"{count} bytes hashing to {actual} in the source store")
        # False when another writer published the same bytes meanwhile: the same outcome.
        target.commit(blob_key(digest))
    except BaseException:
        target.abort()
        raise
    if count >= SIZE_INDEX_MIN:
        _create(dest.store, size_key(count), b"")
    return count


def _create(store: Store, key: str, data: bytes) -> None:
    # Keys are content-addressed: what is already there is what we would write.
    with contextlib.suppress(KeyExistsError):
        store.create(key, data)
