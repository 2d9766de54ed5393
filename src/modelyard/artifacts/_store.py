"""ArtifactStore: content-addressed, verified, lineage-aware artifacts over any Store."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO, Literal

from modelyard._internal.canonical import canonical_json
from modelyard._internal.clock import Clock, SystemClock
from modelyard._internal.code_switch import code_lineage_setting
from modelyard._internal.collector import collector_paused
from modelyard._internal.hashing import digest_bytes
from modelyard._internal.names import validate_name
from modelyard.artifacts._catalog import name_entries, read_manifest, ref_of
from modelyard.artifacts._code import CodeRecord
from modelyard.artifacts._codec import Encoded
from modelyard.artifacts._direct import direct_io_setting
from modelyard.artifacts._environment import environment
from modelyard.artifacts._gc import collect
from modelyard.artifacts._holders import wait_while_alive
from modelyard.artifacts._layout import (
    LEASES_GC,
    LEASES_PUT,
    blob_key,
    lineage_key,
    manifest_key,
    name_entry,
    stamp,
)
from modelyard.artifacts._leases import Lease
from modelyard.artifacts._lineage import walk
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._payload import StoredPayload
from modelyard.artifacts._progress import (
    ProgressCallback,
    check_progress,
    io_threads_setting,
)
from modelyard.artifacts._references import ReferenceGuard
from modelyard.artifacts._refs import ArtifactRef, parse_ref
from modelyard.artifacts._registry import codec_for, codec_named
from modelyard.artifacts._reports import Direction, GcReport, Lineage, VerifyReport
from modelyard.artifacts._transfer import CopyReport, transfer
from modelyard.artifacts._verify import verify_all, verify_one
from modelyard.artifacts._writing import plan, write_content
from modelyard.errors import (
    CodecError,
    ConcurrentModificationError,
    InputError,
    InvalidReferenceError,
    KeyExistsError,
    ModelyardError,
    NotFoundError,
)
from modelyard.storage import Store

__all__ = ["ArtifactStore"]

RefLike = ArtifactRef | str


class ArtifactStore:
    """Versioned, content-addressed artifacts with lineage, over any Store.

    Storage layout (keys): ``blobs/sha256/<2 hex>/<62 hex>`` content, stored once (a file, a
    folder's tree listing, or a pack of a folder's small files);
    ``manifests/sha256/<2 hex>/<62 hex>`` manifests (canonical JSON, named by the artifact id);
    ``names/<name>/<created>-<id hex>`` the versions of a name; ``lineage/<parent hex>/<child hex>``
    the reverse (descendants) index; ``sizes/<bytes>`` empty markers of the sizes of stored blobs
    of 1 MiB or more (a hint that lets a put of a large unchanged file hash it without writing it);
    ``leases/`` in-flight puts and gc runs. Nothing is written
    under ``models/`` (that prefix belongs to the registry).

    ``clock`` (anything with ``now()`` returning an aware UTC datetime) stamps ``created_at``.
    ``lease_ttl`` is how long an in-flight put or gc announcement stays valid without renewal:
    they are renewed in the background every quarter of it, and a holder that died is passed
    over at most ``lease_ttl`` after its last renewal (at once on the same host). The clocks of
    machines sharing a store must agree within half of it. ``code_lineage`` chooses whether each
    manifest records the code that ran the put (git commit, dirty state, remote, command line;
    see ``docs/artifacts.md``): None (the default) reads ``$MODELYARD_CODE_LINEAGE`` (``0`` off,
    ``1`` or unset: on). ``direct_io`` chooses whether large
    blobs and the files ``get`` writes skip the page cache (``O_DIRECT`` on Linux, see
    ``docs/artifacts.md``): None (the default) reads ``$MODELYARD_DIRECT_IO`` (``0`` off, ``1``
    on, unset: on); where the platform or filesystem has no direct IO it is not used either way.
    ``io_threads`` is how many files of a folder a ``put`` or ``get`` moves at once (at most
    twice as many are held in memory): None (the default) reads ``$MODELYARD_IO_THREADS``
    (unset: 8, or 1 for a store whose capabilities say ``local``: a local disk answers at once,
    and threads only contend; pass 8 for a folder mounted over the network).
    Safe to share between threads and processes.

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
        lease_ttl: timedelta = timedelta(minutes=1),
        direct_io: bool | None = None,
        code_lineage: bool | None = None,
        io_threads: int | None = None,
    ) -> None:
        if not isinstance(lease_ttl, timedelta) or lease_ttl <= timedelta(0):
            raise InputError(f"lease_ttl must be a positive timedelta, not {lease_ttl!r}")
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.lease_ttl = lease_ttl
        self.direct_io = direct_io_setting(direct_io)
        self.code_lineage = code_lineage_setting(code_lineage)
        self.io_threads = io_threads_setting(
            io_threads, local=getattr(store.capabilities, "local", False)
        )
        # Manifests parsed for reference_guard, by id. A manifest's bytes are fixed by its id
        # (the id is their digest), so only whether it is still stored needs asking again.
        self._guarded: dict[str, Manifest] = {}
        self._guarded_lock = threading.Lock()

    def put(
        self,
        obj: Any,
        *,
        name: str | None = None,
        codec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        parents: Iterable[RefLike] = (),
        follow_links: bool = False,
        progress: ProgressCallback | Literal[False] | None = None,
    ) -> ArtifactRef:
        """Store ``obj`` and return its reference.

        The codec is chosen by type unless ``codec`` names one (see :func:`registered_codecs`).
        The content is hashed while it is written, in one pass with bounded memory; bytes that are
        already stored are not stored again (a large file whose size matches a stored blob is
        hashed first, and not written at all if its digest is stored). ``parents`` (refs or
        reference strings) record lineage and must exist. ``metadata`` must be JSON values. Every
        put creates a new version (a new manifest with its own ``created_at``), even when the
        content is unchanged.

        A folder (``pathlib.Path``) is stored whole or not at all: symbolic links inside it are
        stored as what they point to when that is inside the folder; a link that leads out of it
        is refused unless ``follow_links=True``, and so are link loops, broken links, pipes,
        sockets and devices (the error names each). A file or folder that changes while it is
        read raises :class:`~modelyard.errors.ConcurrentModificationError` and no artifact is made.
        A folder's files are read ``io_threads`` at a time, each distinct content stored once:
        files up to 1 MiB together in packs of 32 MiB, larger ones a blob each
        (``MODELYARD_PACK_FILES=0``: every file a blob of its own); files the latest version of
        the same ``name`` already stores cost no write and no request.
        ``progress`` (a callable, or None/False for none) is called with a
        :class:`~modelyard.artifacts.Progress` on the calling thread before the first file of a
        folder and after each one.

        Raises :class:`~modelyard.errors.UnsupportedObjectError` (lists the codecs) when no codec
        handles ``obj``, :class:`~modelyard.errors.InvalidNameError` for a bad name,
        :class:`~modelyard.errors.NotFoundError` for a missing parent,
        :class:`~modelyard.errors.InputError` for a folder that cannot be stored whole; nothing
        is written then.
        """
        # Every argument is checked before the first write (the lease below is one). Only whether
        # the parents exist is looked up under the lease, so that gc cannot remove them meanwhile;
        # a missing one releases the lease, and a refused put leaves the store as it found it.
        if name is not None:
            validate_name(name, kind="artifact name")
        if codec is not None and not isinstance(codec, str):
            raise InputError(f"codec must be a codec's name, got {type(codec).__name__}")
        report = check_progress(progress)
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InputError(f"metadata must be a mapping, got {type(metadata).__name__}")
        meta = dict(metadata or {})
        try:
            canonical_json(meta)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"metadata must be JSON values (str keys; str, numbers, bools, None, lists, "
                f"dicts; no NaN): {exc}"
            ) from exc
        if isinstance(parents, (str, ArtifactRef)):
            raise InputError("parents must be a list of refs or reference strings, not one ref")
        wanted = list(parents)
        for parent in wanted:
            if isinstance(parent, str):
                parse_ref(parent)
            elif not isinstance(parent, ArtifactRef):
                raise InputError(
                    "parents must be ArtifactRefs or reference strings, got "
                    f"{type(parent).__name__}"
                )
        chosen = codec_named(codec) if codec is not None else codec_for(obj)
        encoded = _encode(chosen, obj)
        planned = plan(encoded, follow_links=follow_links)
        code = CodeRecord.current() if self.code_lineage else None
        # A folder's put builds an object per file that lives until it ends: see collector.py.
        with collector_paused(planned.tree is not None):
            lease = Lease(self.store, LEASES_PUT, self.clock, self.lease_ttl)
            try:
                # After our lease is visible, wait out any gc that was already running; a gc that
                # starts later sees our lease and leaves everything alone (see _leases.py).
                self._wait_for_gc("a put")
                parent_ids = tuple(dict.fromkeys(self.resolve(p).id for p in wanted))
                digests, tree = self._hints(name, encoded)
                written = write_content(
                    self.store,
                    planned,
                    direct_io=self.direct_io,
                    previous_digest=digests,
                    previous_tree=tree,
                    threads=self.io_threads,
                    progress=report,
                )
                if not lease.held():
                    self._recheck(
                        lease,
                        written.blob_digests(),
                        parent_ids,
                        what="put",
                        outcome="nothing was stored: put the object again",
                    )
                manifest = Manifest(
                    digest=written.digest,
                    size=written.size,
                    media_type=encoded.media_type,
                    codec=chosen.name,
                    codec_params=dict(encoded.params),
                    name=name,
                    metadata=meta,
                    parents=parent_ids,
                    created_at=self._now(),
                    environment=environment(encoded.packages),
                    tree=written.tree,
                    code=code,
                    packs=written.packs,
                    schema_version=Manifest.lowest_schema(code=code, packs=written.packs),
                )
                data = manifest.canonical_bytes()
                artifact_id = digest_bytes(data)
                # Order matters for a writer killed at any point: blobs, then lineage hints, then
                # the manifest, then the name. Each step only refers to things already stored, so
                # nothing half-made is ever visible (a dangling hint is ignored by readers).
                for parent_id in parent_ids:
                    _create(self.store, lineage_key(parent_id, artifact_id), b"")
                _create(self.store, manifest_key(artifact_id), data)
                if name is not None:
                    self._add_name(name, manifest.created_at, artifact_id)
            finally:
                lease.release()
        return ref_of(artifact_id, manifest)

    def get(
        self,
        ref: RefLike,
        *,
        trusted: bool = False,
        dest: str | Path | None = None,
        progress: ProgressCallback | Literal[False] | None = None,
    ) -> Any:
        """Load the object back, verifying every byte against its digest first.

        Codecs that unpickle (``pickle``, ``joblib``, scikit-learn without skops) raise
        :class:`~modelyard.errors.UntrustedLoadError` unless ``trusted=True``. Self-describing
        objects load only if their type is registered (:func:`register_type`); nothing named by
        a manifest is ever imported. File and directory artifacts are written into ``dest``
        (default: a new temp folder) under their recorded names and their path returned; without
        ``trusted=True`` no name Python or the system could import or run (``.py``, ``.pth``,
        ``.so``, ``.exe``, ...) is written and no executable bit is set (``UntrustedLoadError``
        names them), an existing path is never replaced, and a refused or failed get leaves
        nothing behind in ``dest``. Raises :class:`~modelyard.errors.IntegrityError` naming the
        artifact if bytes are wrong. A directory's files are written ``io_threads`` at a time
        into a hidden folder beside the result and renamed into place once all are verified;
        ``progress`` is reported as for :meth:`put`.

        >>> import pathlib, tempfile
        >>> from modelyard.storage import MemoryStore
        >>> folder = pathlib.Path(tempfile.mkdtemp()) / "images"
        >>> folder.mkdir()
        >>> for i in range(3):
        ...     _ = (folder / f"{i}.txt").write_text("x" * i)
        >>> artifacts = ArtifactStore(MemoryStore(), io_threads=2)
        >>> ref = artifacts.put(folder, name="images")
        >>> seen = []
        >>> out = artifacts.get(ref, dest=tempfile.mkdtemp(), progress=seen.append)
        >>> sorted(p.name for p in out.iterdir()), seen[-1].files_done, seen[-1].bytes_total
        (['0.txt', '1.txt', '2.txt'], 3, 3)
        """
        report = check_progress(progress)
        found, manifest = self._load(ref)
        codec = codec_named(manifest.codec)
        payload = StoredPayload(
            self.store,
            found,
            manifest,
            Path(dest) if dest else None,
            trusted=trusted,
            direct_io=self.direct_io,
            threads=self.io_threads,
            progress=report,
        )
        try:
            return codec.decode(payload, trusted=trusted)
        except ModelyardError:
            raise
        except Exception as exc:
            raise CodecError(
                f"the {manifest.codec!r} codec failed to read artifact {found.spec}: {exc!r}",
                ref=found.id,
                codec=manifest.codec,
            ) from exc

    def open(self, ref: RefLike) -> BinaryIO:
        """The content as a binary stream, hashed as it is read.

        The read that delivers the last byte (however the caller reads: ``read()``, ``read(n)``
        in pieces, ``readinto``, ``readline``, iteration) checks the digest and size, and raises
        :class:`~modelyard.errors.IntegrityError` instead of returning if they do not match;
        bytes before it may already have been handed out, so use ``get`` to never see a wrong
        byte at all. The stream cannot seek (skipped bytes would go unverified). For a
        directory artifact this is its tree listing (JSON).
        """
        found, manifest = self._load(ref)
        payload = StoredPayload(
            self.store, found, manifest, None, trusted=False, direct_io=self.direct_io
        )
        return payload.open()

    def manifest(self, ref: RefLike) -> Manifest:
        """The artifact's :class:`Manifest` (its stored bytes are checked against the id)."""
        return self._load(ref)[1]

    def resolve(self, ref: RefLike) -> ArtifactRef:
        """Turn ``ref`` into an :class:`ArtifactRef`.

        Accepts an ``ArtifactRef``, ``"sha256:<64 hex>"`` (an artifact id), ``"name@latest"`` or a
        bare ``"name"`` (the newest version), or ``"name:<short id>"`` (a version by the leading
        hex digits of its id, at least 4). Raises :class:`~modelyard.errors.NotFoundError` or
        :class:`~modelyard.errors.InvalidReferenceError`.
        """
        return self._load(ref)[0]

    def exists(self, ref: RefLike) -> bool:
        """Whether ``ref`` resolves to a stored artifact."""
        try:
            self._load(ref)
        except NotFoundError:
            return False
        return True

    def find(self, name: str) -> list[ArtifactRef]:
        """Every version stored under ``name``, newest first (empty if none)."""
        validate_name(name, kind="artifact name")
        found = (self._maybe_ref(entry[2]) for entry in name_entries(self.store, name))
        return [ref for ref in found if ref is not None]

    def lineage(
        self, ref: RefLike, direction: Direction = "ancestors", depth: int | None = None
    ) -> Lineage:
        """Walk the lineage graph from ``ref``.

        ``direction`` is ``"ancestors"`` (parents, their parents, ...), ``"descendants"`` (the
        artifacts that name it as a parent, and so on) or ``"both"``; ``depth`` limits the hops
        (None: no limit). Returns a :class:`Lineage`.
        """
        if direction not in ("ancestors", "descendants", "both"):
            raise InputError(
                f"direction must be 'ancestors', 'descendants' or 'both', not {direction!r}"
            )
        if depth is not None and (not isinstance(depth, int) or depth < 0):
            raise InputError(f"depth must be None or a non-negative int, not {depth!r}")
        root = self.resolve(ref)
        return walk(self.store, root, direction, depth)

    def verify(self, ref: RefLike | None = None) -> VerifyReport:
        """Re-hash one artifact (``ref``) or everything in the store (``ref=None``).

        Never raises for corruption: the :class:`VerifyReport` lists every corrupt or missing blob,
        every manifest whose bytes no longer match its id, and every name entry whose artifact is
        gone. ``report.ok`` is True when nothing is wrong.
        """
        if ref is None:
            return verify_all(self.store)
        artifact_id = self._id_of(ref)
        return verify_one(self.store, artifact_id)

    def gc(
        self,
        roots: Iterable[RefLike] = (),
        grace: timedelta = timedelta(hours=1),
        dry_run: bool = True,
        *,
        keep_named: bool = True,
    ) -> GcReport:
        """Remove artifacts and blobs not reachable from the roots.

        Roots are ``roots``, every artifact a root source refers to (every version of every
        model of a registry in this store, see :func:`register_root_source`), every artifact
        younger than ``grace`` (by ``created_at``), and with ``keep_named=True`` every artifact
        that has a name. Everything a root was made from (its ancestors) is kept too. With
        ``dry_run=True`` (the default) nothing is deleted and the report says what would be.

        gc deletes only what it can account for: if a manifest cannot be read (or comes from a
        newer modelyard) or a root source cannot tell what it refers to, it deletes nothing and
        ``report.refused`` says why. A ``put`` or a registration running at the same time loses
        nothing (see ``docs/artifacts.md``); if puts are in flight the sweep is deferred and the
        report says so. On a store shared between processes a sweep that would delete something
        first waits a few seconds (``SETTLE``) for registrations in flight.
        """
        kept_roots = [self._id_of(root) for root in roots]
        return collect(
            self.store,
            roots=kept_roots,
            grace=grace,
            dry_run=dry_run,
            keep_named=keep_named,
            clock=self.clock,
            lease_ttl=self.lease_ttl,
        )

    def copy_to(self, other: ArtifactStore, ref: RefLike) -> CopyReport:
        """Copy the artifact ``ref`` and everything it was made from into ``other``.

        Only what ``other`` lacks moves, by content hash: manifests keep their bytes, so the
        artifact has the same id in both stores, and names and lineage are recreated there.
        Every blob is streamed (bounded memory, whatever its size) and hashed on the way; one
        that does not match its digest raises :class:`~modelyard.errors.IntegrityError` and no
        manifest is written. A gc running in ``other`` at the same time loses nothing (the copy
        holds a put lease there). Returns a :class:`CopyReport`.

        >>> from modelyard.storage import MemoryStore
        >>> dev, prod = ArtifactStore(MemoryStore()), ArtifactStore(MemoryStore())
        >>> data = dev.put(b"rows", name="churn-train")
        >>> model = dev.put(b"weights", name="churn-model", parents=[data])
        >>> report = dev.copy_to(prod, model)
        >>> len(report.artifacts), report.blobs, prod.get(model.id)
        (2, 2, b'weights')
        >>> dev.copy_to(prod, model).copied
        False
        """
        with self.transfer(other, ref) as report:
            return report

    @contextlib.contextmanager
    def transfer(self, other: ArtifactStore, ref: RefLike) -> Iterator[CopyReport]:
        """:meth:`copy_to` as a context manager, for a layer that records a reference to the
        copy in ``other``: no gc there collects the copied artifacts until the block ends, so
        write the reference inside it (under :meth:`reference_guard` of ``other``)."""
        if not isinstance(other, ArtifactStore):
            raise InputError(
                f"copy_to needs another ArtifactStore, got {type(other).__name__}; for a yard "
                "pass yard.artifacts"
            )
        with transfer(self, other, self._id_of(ref)) as report:
            yield report

    def reference_guard(self, ref: RefLike) -> ReferenceGuard:
        """A guard for recording a reference to ``ref`` outside this store (for layers above).

        Checks at once that the artifact is whole (its manifest and every blob are stored),
        raising :class:`~modelyard.errors.NotFoundError` if not, and reads its manifest
        (``guard.manifest``). Use it as a context manager around the one write that records the
        reference: a gc running at the same time then either sees the reference or has finished
        before it is written, and the artifact is checked again (see ``_references.py``). A
        root source must report the reference from then on.

        >>> from modelyard.storage import MemoryStore
        >>> artifacts = ArtifactStore(MemoryStore())
        >>> ref = artifacts.put(b"weights")
        >>> with artifacts.reference_guard(ref) as guard:
        ...     pass  # write the record that refers to ref.id here
        >>> guard.manifest.size
        7
        """
        artifact_id = self._id_of(ref)
        with self._guarded_lock:
            manifest = self._guarded.get(artifact_id)
        if manifest is None:
            manifest = self._load(artifact_id)[1]
            with self._guarded_lock:
                if len(self._guarded) >= _GUARDED_MAX:
                    self._guarded.clear()
                self._guarded[artifact_id] = manifest
        elif not self.store.exists(manifest_key(artifact_id)):
            raise NotFoundError(f"no artifact {artifact_id} in this store", id=artifact_id)
        return ReferenceGuard(self.store, artifact_id, manifest, self.clock, self.lease_ttl)

    # -- helpers ---------------------------------------------------------------------------------

    def _wait_for_gc(self, waiter: str) -> None:
        wait_while_alive(self.store, LEASES_GC, self.clock, self.lease_ttl, waiter=waiter)

    def _recheck(
        self,
        lease: Lease,
        blobs: Iterable[str],
        manifests: Iterable[str],
        *,
        what: str,
        outcome: str,
    ) -> None:
        """After a stall that may have let our lease look dead (a ``what``: put, copy), announce
        ourselves again, wait out any gc that ran meanwhile, and check that the blobs and
        manifests we are about to refer to are still there; if not, say ``outcome``."""
        lease.renew_now()
        self._wait_for_gc(f"a {what} that could not renew its lease in time")
        missing = [d for d in blobs if not self.store.exists(blob_key(d))]
        missing += [m for m in manifests if not self.store.exists(manifest_key(m))]
        if missing:
            raise ConcurrentModificationError(
                f"this {what} stalled for longer than half its lease ({self.lease_ttl}) and a "
                f"garbage collection removed {missing[0]} meanwhile; {outcome}",
                missing=missing,
            )

    def __repr__(self) -> str:
        return f"ArtifactStore({self.store!r})"

    def _now(self) -> datetime:
        moment = self.clock.now()
        if moment.tzinfo is None:
            raise InputError("the clock must return timezone-aware datetimes (UTC)")
        return moment.astimezone(timezone.utc)

    def _maybe_ref(self, artifact_id: str) -> ArtifactRef | None:
        try:
            return ref_of(artifact_id, read_manifest(self.store, artifact_id))
        except NotFoundError:
            return None  # a name entry outliving its artifact: verify() reports it

    def _id_of(self, ref: RefLike) -> str:
        """The id ``ref`` stands for, reading as little as possible (no manifest check)."""
        if isinstance(ref, ArtifactRef):
            return ref.id
        parsed = parse_ref(ref)
        if parsed.id is not None:
            return parsed.id
        return self._load(ref)[0].id

    def _load(self, ref: RefLike) -> tuple[ArtifactRef, Manifest]:
        if isinstance(ref, ArtifactRef):
            artifact_id = ref.id
        elif isinstance(ref, str):
            parsed = parse_ref(ref)
            if parsed.id is not None:
                artifact_id = parsed.id
            else:
                assert parsed.name is not None
                artifact_id = self._by_name(parsed.name, parsed.short)
        else:
            raise InvalidReferenceError(
                f"expected an ArtifactRef or a reference string, got {type(ref).__name__}",
                ref=ref,
            )
        manifest = read_manifest(self.store, artifact_id)
        return ref_of(artifact_id, manifest), manifest

    def _by_name(self, name: str, short: str | None) -> str:
        entries = name_entries(self.store, name)
        if not entries:
            raise NotFoundError(f"no artifact named {name!r} in this store", name=name)
        if short is None:
            return entries[0][2]
        matches = sorted({e[2] for e in entries if e[2][len("sha256:") :].startswith(short)})
        if len(matches) == 1:
            return matches[0]
        shown = [f"{name}:{e[2][7:19]}" for e in entries]
        if not matches:
            raise NotFoundError(
                f"artifact {name!r} has no version whose id starts with {short!r}",
                name=name,
                available=shown,
            )
        raise InvalidReferenceError(
            f"{name}:{short} is ambiguous: it matches {len(matches)} versions; give more digits",
            ref=f"{name}:{short}",
            matches=matches,
        )

    def _add_name(self, name: str, created_at: datetime, artifact_id: str) -> None:
        entry_stamp = stamp(created_at)
        entries = name_entries(self.store, name)
        if entries and entries[0][1] >= entry_stamp:
            # Equal timestamps (a coarse or fake clock) would leave "latest" to chance: place the
            # new version just after the newest one instead.
            newest = datetime.strptime(entries[0][1], "%Y%m%dT%H%M%S%fZ")
            entry_stamp = stamp((newest + timedelta(microseconds=1)).replace(tzinfo=timezone.utc))
        _create(self.store, name_entry(name, entry_stamp, artifact_id), artifact_id.encode())

    def _hints(self, name: str | None, encoded: Encoded) -> tuple[dict[int, str], Manifest | None]:
        # Only files and directories profit: the latest version of the same name tells which
        # files are probably unchanged, so they can be hashed without being written.
        if name is None or not isinstance(encoded.content, os.PathLike):
            return {}, None
        entries = name_entries(self.store, name)
        if not entries:
            return {}, None
        try:
            previous = read_manifest(self.store, entries[0][2])
        except ModelyardError:
            return {}, None
        if previous.tree is not None:
            return {}, previous
        return {previous.size: previous.digest}, None


def _encode(codec: Any, obj: Any) -> Encoded:
    try:
        encoded = codec.encode(obj)
    except ModelyardError:
        raise
    except Exception as exc:
        raise CodecError(
            f"the {codec.name!r} codec failed to encode a {type(obj).__name__}: {exc!r}",
            codec=codec.name,
        ) from exc
    if not isinstance(encoded, Encoded):
        raise CodecError(
            f"the {codec.name!r} codec returned {type(encoded).__name__}, not an Encoded",
            codec=codec.name,
        )
    return encoded


#: How many manifests ``reference_guard`` keeps parsed (they are small; the cache starts over).
_GUARDED_MAX = 4096


def _create(store: Store, key: str, data: bytes) -> None:
    # Keys are content-addressed: what is already there is what we would write.
    with contextlib.suppress(KeyExistsError):
        store.create(key, data)
