"""ArtifactStore: content-addressed, verified, lineage-aware artifacts over any Store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from modelyard._internal.clock import Clock, SystemClock
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._refs import ArtifactRef
from modelyard.artifacts._reports import Direction, GcReport, Lineage, VerifyReport
from modelyard.storage import Store

__all__ = ["ArtifactStore"]

RefLike = ArtifactRef | str


class ArtifactStore:
    """Versioned, content-addressed artifacts with lineage, over any :class:`~modelyard.storage.Store`.

    Storage layout (keys): ``blobs/sha256/<2 hex>/<62 hex>`` content, stored once;
    ``manifests/sha256/<2 hex>/<62 hex>`` manifests (canonical JSON, named by the artifact id);
    ``names/<name>/<created>-<id hex>`` the versions of a name; ``lineage/<parent hex>/<child hex>``
    the reverse (descendants) index; ``leases/`` in-flight puts and gc runs. Nothing is written
    under ``models/`` (that prefix belongs to the registry).

    ``clock`` (anything with ``now()`` returning an aware UTC datetime) stamps ``created_at``.
    ``lease_ttl`` is how long an in-flight put or gc announcement stays valid without renewal
    (they are renewed every quarter of it). Safe to share between threads and processes.

    >>> from modelyard.storage import MemoryStore
    >>> artifacts = ArtifactStore(MemoryStore())
    >>> ref = artifacts.put([1, 2, 3], name="numbers", metadata={"source": "doctest"})
    >>> artifacts.get(ref), artifacts.manifest(ref).codec, ref.media_type
    ([1, 2, 3], 'json', 'application/json')
    >>> artifacts.resolve(f"numbers:{ref.short_id}") == ref
    True
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        lease_ttl: timedelta = timedelta(minutes=10),
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.lease_ttl = lease_ttl

    def put(
        self,
        obj: Any,
        *,
        name: str | None = None,
        codec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        parents: Iterable[RefLike] = (),
    ) -> ArtifactRef:
        """Store ``obj`` and return its reference.

        The codec is chosen by type unless ``codec`` names one (see :func:`registered_codecs`).
        The content is hashed while it is written, in one pass with bounded memory; bytes that are
        already stored are not stored again. ``parents`` (refs or reference strings) record
        lineage and must exist. ``metadata`` must be JSON values. Every put creates a new version
        (a new manifest with its own ``created_at``), even when the content is unchanged.

        Raises :class:`~modelyard.errors.UnsupportedObjectError` (lists the codecs) when no codec
        handles ``obj``, :class:`~modelyard.errors.InvalidNameError` for a bad name,
        :class:`~modelyard.errors.NotFoundError` for a missing parent; nothing is written then.
        """
        raise NotImplementedError

    def get(self, ref: RefLike, *, trusted: bool = False, dest: str | Path | None = None) -> Any:
        """Load the object back, verifying every byte against its digest first.

        Codecs that unpickle (``pickle``, ``joblib``, scikit-learn without skops) raise
        :class:`~modelyard.errors.UntrustedLoadError` unless ``trusted=True``. File and directory
        artifacts are written into ``dest`` (default: a new temp folder) and their path returned.
        Raises :class:`~modelyard.errors.IntegrityError` naming the artifact if bytes are wrong.
        """
        raise NotImplementedError

    def open(self, ref: RefLike) -> BinaryIO:
        """The content as a binary stream, hashed as it is read.

        At the end of the stream the digest and size are checked and
        :class:`~modelyard.errors.IntegrityError` is raised if they do not match. Use ``get`` to
        never see a wrong byte at all. For a directory artifact this is its tree listing (JSON).
        """
        raise NotImplementedError

    def manifest(self, ref: RefLike) -> Manifest:
        """The artifact's :class:`Manifest` (its stored bytes are checked against the id)."""
        raise NotImplementedError

    def resolve(self, ref: RefLike) -> ArtifactRef:
        """Turn ``ref`` into an :class:`ArtifactRef`.

        Accepts an ``ArtifactRef``, ``"sha256:<64 hex>"`` (an artifact id), ``"name@latest"`` or a
        bare ``"name"`` (the newest version), or ``"name:<short id>"`` (a version by the leading
        hex digits of its id, at least 4). Raises :class:`~modelyard.errors.NotFoundError` or
        :class:`~modelyard.errors.InvalidReferenceError`.
        """
        raise NotImplementedError

    def exists(self, ref: RefLike) -> bool:
        """Whether ``ref`` resolves to a stored artifact."""
        raise NotImplementedError

    def find(self, name: str) -> list[ArtifactRef]:
        """Every version stored under ``name``, newest first (empty if none)."""
        raise NotImplementedError

    def lineage(
        self, ref: RefLike, direction: Direction = "ancestors", depth: int | None = None
    ) -> Lineage:
        """Walk the lineage graph from ``ref``.

        ``direction`` is ``"ancestors"`` (parents, their parents, ...), ``"descendants"`` (the
        artifacts that name it as a parent, and so on) or ``"both"``; ``depth`` limits the hops
        (None: no limit). Returns a :class:`Lineage`.
        """
        raise NotImplementedError

    def verify(self, ref: RefLike | None = None) -> VerifyReport:
        """Re-hash one artifact (``ref``) or everything in the store (``ref=None``).

        Never raises for corruption: the :class:`VerifyReport` lists every corrupt or missing blob,
        every manifest whose bytes no longer match its id, and every name entry whose artifact is
        gone. ``report.ok`` is True when nothing is wrong.
        """
        raise NotImplementedError

    def gc(
        self,
        roots: Iterable[RefLike] = (),
        grace: timedelta = timedelta(hours=1),
        dry_run: bool = True,
        *,
        keep_named: bool = True,
    ) -> GcReport:
        """Remove artifacts and blobs not reachable from the roots.

        Roots are ``roots``, every artifact younger than ``grace`` (by ``created_at``), and with
        ``keep_named=True`` every artifact that has a name. Everything a root was made from
        (its ancestors) is kept too. With ``dry_run=True`` (the default) nothing is deleted and
        the report says what would be. A ``put`` running at the same time loses nothing: puts
        and gc announce themselves with leases (see ``docs/artifacts.md``); if puts are in flight
        the sweep is deferred and the report says so.
        """
        raise NotImplementedError
