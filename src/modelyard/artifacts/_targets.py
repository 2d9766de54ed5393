"""Where blob bytes go while they are hashed, before their key (the digest) is known."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Protocol

from modelyard.errors import KeyExistsError
from modelyard.storage import Store, SupportsStaging

__all__ = ["BlobTarget", "open_target"]


class BlobTarget(Protocol):
    def write(self, data: memoryview) -> object: ...

    def commit(self, key: str) -> bool:
        """Publish under ``key`` with an exclusive create; False if the key already existed."""
        ...

    def abort(self) -> None: ...


class _SpoolTarget:
    """For stores without staging: spool to a local temp file, then ``create`` from it.

    The store only ever sees a complete value (``create`` is all or nothing), so a writer killed
    midway leaves a temp file on local disk and nothing in the store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        fd, self._path = tempfile.mkstemp(prefix="modelyard-spool-")
        self._fd: int | None = fd

    def write(self, data: memoryview) -> object:
        assert self._fd is not None
        view = data
        while view:
            view = view[os.write(self._fd, view) :]
        return None

    def commit(self, key: str) -> bool:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        try:
            if self._store.exists(key):
                return False
            with open(self._path, "rb") as handle:
                self._store.create(key, handle)
            return True
        except KeyExistsError:
            return False
        finally:
            self.abort()

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


def open_target(store: Store) -> BlobTarget:
    """A staged write when the store supports it (no second copy), else a local spool file."""
    if isinstance(store, SupportsStaging):
        staged: BlobTarget = store.stage()
        return staged
    return _SpoolTarget(store)
