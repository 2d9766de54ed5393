"""Artifacts written straight into a store, as anyone with write access to a shared bucket could."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from modelyard.artifacts import Environment, Manifest, TreeEntry
from modelyard.artifacts._layout import blob_key, manifest_key
from modelyard.artifacts._manifest import listing_of
from modelyard.errors import KeyExistsError
from modelyard.storage import Store


def _blob(store: Store, content: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    with contextlib.suppress(KeyExistsError):
        store.create(blob_key(digest), content)
    return digest


def plant(store: Store, content: bytes, **fields: Any) -> str:
    """A blob and a hand-made manifest for it; returns the artifact id."""
    fields.setdefault("media_type", "application/octet-stream")
    manifest = Manifest(
        digest=_blob(store, content),
        size=len(content),
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        environment=Environment(python="3.11.7"),
        **fields,
    )
    data = manifest.canonical_bytes()
    artifact_id = "sha256:" + hashlib.sha256(data).hexdigest()
    store.create(manifest_key(artifact_id), data)
    return artifact_id


def plant_tree(
    store: Store, files: Iterable[tuple[str, bytes, bool]], dirname: str = "bundle"
) -> str:
    """A directory artifact whose tree lists ``(path, content, executable)`` as given."""
    entries = tuple(
        TreeEntry(path=path, digest=_blob(store, content), size=len(content), executable=x)
        for path, content, x in files
    )
    listing = listing_of(entries)
    manifest = Manifest(
        digest=_blob(store, listing),
        size=sum(e.size for e in entries),
        media_type="application/vnd.modelyard.tree+json",
        codec="directory",
        codec_params={"dirname": dirname},
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        environment=Environment(python="3.11.7"),
        tree=entries,
    )
    data = manifest.canonical_bytes()
    artifact_id = "sha256:" + hashlib.sha256(data).hexdigest()
    store.create(manifest_key(artifact_id), data)
    return artifact_id
