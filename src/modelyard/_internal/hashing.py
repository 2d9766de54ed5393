"""Content hashing: sha256 digests in the ``sha256:<hex>`` spelling used across modelyard."""

from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

__all__ = ["CHUNK_SIZE", "DIGEST_PATTERN", "digest_bytes", "digest_stream", "format_digest"]

#: Chunk size for streaming reads and hashing. hashlib releases the GIL for buffers over 2 KiB, and
#: large chunks amortise the per-call overhead; 4 MiB keeps memory bounded and throughput near peak.
CHUNK_SIZE = 4 * 1024 * 1024

#: A full digest as modelyard spells it. Anchored with ``\A``/``\Z`` rather than ``^``/``$``, which
#: would also accept a trailing newline, so that ``match`` and ``fullmatch`` agree.
DIGEST_PATTERN = re.compile(r"\Asha256:[0-9a-f]{64}\Z")


def format_digest(hexdigest: str) -> str:
    """Return the ``sha256:<hex>`` spelling of a hex digest.

    >>> format_digest("ab" * 32)[:11]
    'sha256:abab'
    """
    return f"sha256:{hexdigest}"


def digest_bytes(data: bytes | bytearray | memoryview) -> str:
    """Return the ``sha256:<hex>`` digest of ``data``.

    >>> digest_bytes(b"")
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    return format_digest(hashlib.sha256(data).hexdigest())


def digest_stream(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """Hash a binary stream to its end with bounded memory; return ``(digest, size)``."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := stream.read(chunk_size):
        hasher.update(chunk)
        size += len(chunk)
    return format_digest(hasher.hexdigest()), size
