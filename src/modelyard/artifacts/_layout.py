"""Where things live in the store. Every key the artifact layer uses is built here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

__all__ = [
    "BLOBS",
    "LEASES_GC",
    "LEASES_PUT",
    "LINEAGE",
    "MANIFESTS",
    "NAMES",
    "SIZES",
    "SIZE_INDEX_MIN",
    "LeaseKey",
    "blob_key",
    "digest_of_key",
    "lease_key",
    "lineage_key",
    "manifest_key",
    "name_entry",
    "name_prefix",
    "parse_lease_key",
    "parse_name_entry",
    "parse_stamp",
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


def parse_stamp(text: str) -> datetime | None:
    """The aware UTC time a :func:`stamp` stands for, or None if ``text`` is not one."""
    try:
        return datetime.strptime(text, _STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


class LeaseKey(NamedTuple):
    """What a lease key says about its holder (see ``_leases.py``)."""

    prefix: str
    renewed: str  # stamp of the latest renewal
    token: str  # random, one per lease; renewals keep it
    started: str  # stamp of the first announcement
    host: str  # ``_processes.host_id()`` of the holder, "0" if unknown
    pid: int
    process_start: int  # ``_processes.start_of(pid)``, 0 if unknown


def lease_key(lease: LeaseKey) -> str:
    """``leases/<kind>/<renewed>_<token>_<started>_<host>_<pid>_<process start>``.

    Everything a reader needs is in the key, so a lease can be an empty value (which a full disk
    still takes) and one listing tells every holder apart, with no read per lease.

    >>> at = "20260101T000000000000Z"
    >>> key = lease_key(LeaseKey("leases/gc/", at, "ab12", at, "0", 7, 0))
    >>> key
    'leases/gc/20260101T000000000000Z_ab12_20260101T000000000000Z_0_7_0'
    >>> parse_lease_key(key, "leases/gc/").token, parse_lease_key("leases/gc/ab12", "leases/gc/")
    ('ab12', None)
    """
    return (
        f"{lease.prefix}{lease.renewed}_{lease.token}_{lease.started}_{lease.host}_{lease.pid}_"
        f"{lease.process_start}"
    )


def parse_lease_key(key: str, prefix: str) -> LeaseKey | None:
    """The parts of a lease key, or None for anything else (such as a lease of an earlier
    version, whose key is a bare random hex string and whose value holds the time)."""
    if not key.startswith(prefix):
        return None
    parts = key[len(prefix) :].split("_")
    if len(parts) != 6 or "/" in key[len(prefix) :]:
        return None
    renewed, token, started, host, pid, process_start = parts
    if parse_stamp(renewed) is None or parse_stamp(started) is None or not token.isalnum():
        return None
    if not (pid.isdigit() and pid.isascii() and process_start.isdigit() and host.isalnum()):
        return None
    return LeaseKey(prefix, renewed, token, started, host, int(pid), int(process_start))


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
