"""Reading content back: every byte is checked against the digest it was stored under."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, BinaryIO, cast

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import format_digest
from modelyard.artifacts._direct import DirectWriter, open_direct
from modelyard.artifacts._layout import blob_key
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._pipeline import CHUNK, copy_hashing
from modelyard.artifacts._refs import ArtifactRef
from modelyard.errors import InputError, IntegrityError, NotFoundError
from modelyard.storage import Store

__all__ = ["StoredPayload", "VerifiedStream", "corrupt", "open_blob"]


def corrupt(ref: ArtifactRef | None, digest: str, detail: str) -> IntegrityError:
    what = f"artifact {ref.spec} ({ref.id})" if ref is not None else f"blob {digest}"
    return IntegrityError(
        f"{what} is corrupt: {detail}; the stored bytes do not match digest {digest}. Nothing "
        "was returned. Run ArtifactStore.verify() to list every damaged artifact, and restore "
        "the blob from a copy or store the object again",
        ref=ref.id if ref is not None else None,
        digest=digest,
    )


def open_blob(store: Store, digest: str, ref: ArtifactRef | None) -> BinaryIO:
    try:
        return store.open(blob_key(digest))
    except NotFoundError:
        raise corrupt(ref, digest, "its content blob is missing") from None


class VerifiedStream(io.RawIOBase):
    """A stream that hashes what it yields and raises :class:`IntegrityError` at the end (or as
    soon as there are too many bytes) if the content is not what the digest promises."""

    def __init__(
        self, raw: BinaryIO, digest: str, size: int | None, ref: ArtifactRef | None = None
    ) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest
        self._size = size
        self._ref = ref
        self._hash = hashlib.sha256()
        self._seen = 0
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        readinto = getattr(self._raw, "readinto", None)
        if readinto is not None:
            count = readinto(view) or 0
        else:
            data = self._raw.read(len(view))
            count = len(data)
            view[:count] = data
        if count:
            self._hash.update(view[:count])
            self._seen += count
            if self._size is not None and self._seen > self._size:
                raise corrupt(self._ref, self._digest, f"more than {self._size} bytes")
        elif not self._checked:
            self._checked = True
            actual = format_digest(self._hash.hexdigest())
            if (self._size is not None and self._seen != self._size) or actual != self._digest:
                raise corrupt(self._ref, self._digest, f"{self._seen} bytes hashing to {actual}")
        return count

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def read_verified(store: Store, digest: str, size: int | None, ref: ArtifactRef | None) -> bytes:
    """The whole blob, returned only after its digest has been checked."""
    try:
        data = store.read(blob_key(digest))
    except NotFoundError:
        raise corrupt(ref, digest, "its content blob is missing") from None
    actual = format_digest(hashlib.sha256(data).hexdigest())
    if actual != digest or (size is not None and len(data) != size):
        raise corrupt(ref, digest, f"{len(data)} bytes hashing to {actual}")
    return data


def copy_verified(store: Store, digest: str, ref: ArtifactRef | None, target: Path) -> None:
    """Copy a blob into ``target`` (a new file), hashing in parallel; the file is removed if the
    bytes are wrong. ``target`` must not exist."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(target, flags, 0o644)
    try:

        def write(view: memoryview) -> None:
            while view:
                view = view[os.write(fd, view) :]

        # A fresh copy for the caller, not the store: no fsync. Large files skip the page cache
        # on both sides where they can (see _direct.py); the copy is still hashed from exactly
        # the bytes written, read once.
        with open_blob(store, digest, ref) as source:
            direct = open_direct(source)
            try:
                actual, size = copy_hashing(
                    cast(BinaryIO, direct) if direct is not None else source,
                    DirectWriter(fd, write),
                )
            finally:
                if direct is not None:
                    direct.close()
        if actual != digest:
            raise corrupt(ref, digest, f"{size} bytes hashing to {actual}")
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        raise
    os.close(fd)


class StoredPayload:
    """The :class:`~modelyard.artifacts.Payload` handed to codecs by ``ArtifactStore.get``."""

    def __init__(
        self, store: Store, ref: ArtifactRef, manifest: Manifest, dest: Path | None
    ) -> None:
        self._store = store
        self._ref = ref
        self._manifest = manifest
        self._dest = dest

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
        raw = open_blob(self._store, m.digest, self._ref)
        stream = VerifiedStream(raw, m.digest, m.content_size(), self._ref)
        return io.BufferedReader(stream, buffer_size=CHUNK)

    def materialize(self) -> Path:
        dest = self._dest if self._dest is not None else Path(tempfile.mkdtemp(prefix="modelyard-"))
        dest.mkdir(parents=True, exist_ok=True)
        m = self._manifest
        params = m.codec_params
        if m.tree is None:
            target = dest / _leaf(params.get("filename"), "content")
            _refuse_existing(target)
            # Built under a temp name and renamed: the final path never holds unverified bytes.
            staging = dest / f".{target.name}.{uuid.uuid4().hex}.part"
            copy_verified(self._store, m.digest, self._ref, staging)
            _publish(staging, target)
            return target
        target = dest / _leaf(params.get("dirname"), "tree")
        _refuse_existing(target)
        staging = dest / f".{target.name}.{uuid.uuid4().hex}.part"
        staging.mkdir()
        try:
            self._check_tree(m)
            for entry in m.tree:
                path = staging.joinpath(*entry.path.split("/"))
                path.parent.mkdir(parents=True, exist_ok=True)
                copy_verified(self._store, entry.digest, self._ref, path)
                if entry.executable:
                    path.chmod(0o755)
            _publish(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    def _check_tree(self, m: Manifest) -> None:
        # The tree in the manifest must be the one the content digest was computed from.
        assert m.tree is not None
        listing = read_verified(self._store, m.digest, None, self._ref)
        if listing != canonical_json([e.model_dump(mode="json") for e in m.tree]):
            raise corrupt(self._ref, m.digest, "the tree listing disagrees with the manifest")


def _leaf(value: Any, default: str) -> str:
    # A name from the manifest becomes one path segment, never a path.
    if (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and "/" not in value
        and "\\" not in value
    ):
        return value
    return default


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise InputError(
            f"{target} already exists; pass get(..., dest=...) a folder where it does not",
            path=str(target),
        )


def _publish(staging: Path, target: Path) -> None:
    if target.exists():
        _refuse_existing(target)
    os.replace(staging, target)
