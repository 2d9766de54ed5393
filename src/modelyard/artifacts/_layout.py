"""Where things live in the store. Every key the artifact layer uses is built here."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = [
    "BLOBS",
    "LEASES_GC",
    "LEASES_PUT",
    "LINEAGE",
    "MANIFESTS",
    "NAMES",
    "SIZES",
    "SIZE_INDEX_MIN",
    "blob_key",
    "digest_of_key",
    "lineage_key",
    "manifest_key",
    "name_entry",
    "name_prefix",
    "parse_name_entry",
    "size_key",
    "size_of_key",
    "stamp",
]

BLOBS = "blobs/sha256/"
MANIFESTS = "manifests/sha256/"
NAMES = "names/"
LINEAGE = "lineage/"
LEASES_PUT = "leases/put/"
LEASES_GC = "leases/gc/"
SIZES = "sizes/"

#: Blobs at least this large get a size marker (see :func:`size_key`). Below it, writing a blob
#: that turns out to be stored already costs less than looking the marker up.
SIZE_INDEX_MIN = 1024 * 1024

_STAMP = "%Y%m%dT%H%M%S%fZ"


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


def blob_key(digest: str) -> str:
    """``blobs/sha256/ab/cdef...``: two hex digits of fan-out keep folders small on disk.

    >>> blob_key("sha256:" + "ab" * 32)[:20]
    'blobs/sha256/ab/abab'
    """
    hexdigest = _hex(digest)
    return f"{BLOBS}{hexdigest[:2]}/{hexdigest[2:]}"


def manifest_key(artifact_id: str) -> str:
    hexdigest = _hex(artifact_id)
    return f"{MANIFESTS}{hexdigest[:2]}/{hexdigest[2:]}"


def digest_of_key(key: str) -> str | None:
    """The digest a blob or manifest key stands for, or None if the key is not one."""
    for prefix in (BLOBS, MANIFESTS):
        if key.startswith(prefix):
            rest = key[len(prefix) :].replace("/", "")
            if len(rest) == 64:
                return f"sha256:{rest}"
    return None


def size_key(size: int) -> str:
    """``sizes/<bytes>``: an empty marker saying that some blob of this size was stored.

    A put of a large file whose size has no marker cannot be a dedup hit, so it writes while it
    hashes; one whose size has a marker hashes first and writes only if the digest is new. The
    marker is a hint, never trusted for correctness: a missing one costs a write that is then
    discarded, a stale one (its blob collected) costs one extra hash.

    >>> size_key(1 << 30)
    'sizes/1073741824'
    """
    return f"{SIZES}{size}"


def size_of_key(key: str) -> int | None:
    """The size a marker key stands for, or None if the key is not one.

    >>> size_of_key("sizes/42"), size_of_key("sizes/x")
    (42, None)
    """
    rest = key[len(SIZES) :] if key.startswith(SIZES) else ""
    return int(rest) if rest.isdigit() and rest.isascii() else None


def lineage_key(parent_id: str, child_id: str) -> str:
    return f"{LINEAGE}{_hex(parent_id)}/{_hex(child_id)}"


def name_prefix(name: str) -> str:
    return f"{NAMES}{name}/"


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_STAMP)


def name_entry(name: str, entry_stamp: str, artifact_id: str) -> str:
    """``names/<name>/<created, sortable>-<id hex>``: listing a name gives its versions in order."""
    return f"{name_prefix(name)}{entry_stamp}-{_hex(artifact_id)}"


def parse_name_entry(key: str) -> tuple[str, str, str] | None:
    """``(name, stamp, artifact id)`` of a name entry key, or None if it is not one."""
    if not key.startswith(NAMES):
        return None
    name, _, leaf = key[len(NAMES) :].partition("/")
    entry_stamp, _, hexdigest = leaf.partition("-")
    if not name or len(hexdigest) != 64 or "/" in leaf:
        return None
    return name, entry_stamp, f"sha256:{hexdigest}"
