"""Reading content back: every byte is checked against the digest it was stored under."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from pathlib import Path
from typing import Any, BinaryIO, cast

from modelyard._internal.fds import write_all
from modelyard._internal.hashing import format_digest
from modelyard.artifacts._direct import DirectWriter, open_direct
from modelyard.artifacts._layout import blob_key
from modelyard.artifacts._manifest import Manifest, listing_of
from modelyard.artifacts._pipeline import copy_hashing
from modelyard.artifacts._refs import ArtifactRef
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.storage import Store

__all__ = [
    "VerifiedStream",
    "copy_verified",
    "corrupt",
    "listing_bytes",
    "open_blob",
    "read_verified",
]


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
    """A stream that hashes what it yields and never hands over the last byte of wrong content.

    With a known ``size`` the digest is checked by the read that reaches byte ``size``: if it is
    wrong, that read raises :class:`IntegrityError` (and blanks what it had put in the caller's
    buffer) instead of returning, so a caller that reads exactly ``size`` bytes, in one call or in
    pieces, through ``read``, ``readinto``, ``readline`` or iteration, gets the error too. More
    bytes than ``size`` raise as soon as they appear, fewer at the end of the stream. Seeking is
    not supported: skipping bytes would skip their verification.
    """

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
                self._refuse(view, count, f"more than {self._size} bytes")
            if self._seen == self._size and not self._checked:
                self._check(view, count)
        elif not self._checked:
            self._check(view, 0)
        return count

    def _check(self, view: memoryview, count: int) -> None:
        self._checked = True
        actual = format_digest(self._hash.hexdigest())
        if (self._size is not None and self._seen != self._size) or actual != self._digest:
            self._refuse(view, count, f"{self._seen} bytes hashing to {actual}")

    def _refuse(self, view: memoryview, count: int, detail: str) -> None:
        # The caller's buffer may be the caller's own (a large readinto goes straight to it).
        view[:count] = bytes(count)
        raise corrupt(self._ref, self._digest, detail)

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


def copy_verified(
    store: Store, digest: str, ref: ArtifactRef | None, target: Path | str, *, direct_io: bool
) -> None:
    """Copy a blob into ``target`` (a new file), hashing in parallel; the file is removed if the
    bytes are wrong. ``target`` must not exist (``FileExistsError`` if it does)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(target, flags, 0o644)
    try:

        def write(view: memoryview) -> None:
            write_all(fd, view)

        # A fresh copy for the caller, not the store: no fsync. Large files skip the page cache
        # on both sides where they can and may (see _direct.py); the copy is still hashed from
        # exactly the bytes written, read once.
        with open_blob(store, digest, ref) as source:
            direct = open_direct(source) if direct_io else None
            try:
                actual, size = copy_hashing(
                    cast(BinaryIO, direct) if direct is not None else source,
                    DirectWriter(fd, write) if direct_io else write,
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


def listing_bytes(manifest: Manifest) -> bytes:
    """The tree listing a directory artifact's content digest was computed from."""
    assert manifest.tree is not None
    return listing_of(manifest.tree)
