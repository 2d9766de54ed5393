"""The payload ``get`` hands to a codec: verified bytes, a verified stream, or files in ``dest``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from modelyard._internal.collector import collector_paused
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._materialize import materialize
from modelyard.artifacts._pipeline import CHUNK
from modelyard.artifacts._progress import ProgressCallback
from modelyard.artifacts._reading import VerifiedStream, listing_bytes, open_blob, read_verified
from modelyard.artifacts._refs import ArtifactRef
from modelyard.storage import Store

__all__ = ["StoredPayload"]


class StoredPayload:
    """The :class:`~modelyard.artifacts.Payload` handed to codecs by ``ArtifactStore.get``."""

    def __init__(
        self,
        store: Store,
        ref: ArtifactRef,
        manifest: Manifest,
        dest: Path | None,
        *,
        trusted: bool,
        direct_io: bool,
        threads: int = 1,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._store = store
        self._ref = ref
        self._manifest = manifest
        self._dest = dest
        self._trusted = trusted
        self._direct_io = direct_io
        self._threads = threads
        self._progress = progress

    @property
    def ref(self) -> ArtifactRef:
        return self._ref

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    def read(self) -> bytes:
        m = self._manifest
        return read_verified(self._store, m.digest, m.content_size(), self._ref)

    def open(self) -> BinaryIO:
        m = self._manifest
        # A directory's blob is its listing, whose exact bytes the manifest determines: knowing
        # the size lets the stream check the digest on the read that delivers the last byte.
        size = m.content_size() if m.tree is None else len(listing_bytes(m))
        raw = open_blob(self._store, m.digest, self._ref)
        stream = VerifiedStream(raw, m.digest, size, self._ref)
        return io.BufferedReader(stream, buffer_size=CHUNK)

    def materialize(self) -> Path:
        # A folder's restore makes an object per file, alive until it ends: see collector.py.
        with collector_paused(self._manifest.tree is not None):
            return materialize(
                self._store,
                self._ref,
                self._manifest,
                self._dest,
                trusted=self._trusted,
                direct_io=self._direct_io,
                threads=self._threads,
                progress=self._progress,
            )
