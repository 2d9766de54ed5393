"""Garbage collection: keep what anything refers to, delete only what can be accounted for.

**Roots** are the ids given, every id a root source returns (the registry's versions, see
``_roots.py``), every artifact younger than ``grace`` (by ``created_at``, so that an artifact just
stored is not collected before the caller has had time to reference it), and with ``keep_named``
every named artifact; everything a root was made from is kept too.

**Refusals.** gc deletes nothing at all, and its report says why, when it cannot know what is
referenced: a manifest that cannot be read (damaged, or written by a newer modelyard) might
refer to any blob and any parent, and a root source that raises might refer to any artifact.
It also deletes nothing when it cannot announce itself (its lease), and defers when puts are in
flight.

**Order of a run.** Manifests are read once before the lease is taken (the slow part, so puts are
not held up by it), then the gc announces itself (its lease is renewed in the background through
every phase) and looks for put leases (``_leases.py``). Under the lease it reads the manifests
stored meanwhile and lists names, lineage hints and blobs. Only if something would be deleted does
it wait out the settle time for references being recorded (``_references.py``); then it reads the
root sources, marks and sweeps. Deletion order (name entries, lineage hints, manifests, blobs, size
markers) means a gc stopped midway leaves only unreferenced blobs (and size markers, which are
hints) behind. Before every deletion it checks that its lease is still held; a gc that could not
renew in time (it was paused) may look dead to a put, so it stops and says so.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from modelyard._internal.canonical import loads
from modelyard._internal.clock import Clock
from modelyard.artifacts import _references
from modelyard.artifacts._catalog import list_artifact_ids, read_manifest
from modelyard.artifacts._holders import Holder, live_holders
from modelyard.artifacts._layout import (
    BLOBS,
    LEASES_GC,
    LEASES_PUT,
    LINEAGE,
    NAMES,
    SIZES,
    digest_of_key,
    manifest_key,
    parse_name_entry,
    size_of_key,
)
from modelyard.artifacts._leases import Lease, elapsed
from modelyard.artifacts._manifest import SCHEMA_VERSION, Manifest
from modelyard.artifacts._reports import GcReport
from modelyard.artifacts._roots import read_roots
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.storage import Store

__all__ = ["collect"]

_FULL = {errno.ENOSPC, errno.EDQUOT}


def _unreadable(store: Store, artifact_id: str, error: Exception) -> str:
    """Why the manifest of ``artifact_id`` cannot be accounted for, in words."""
    try:
        version = loads(store.read(manifest_key(artifact_id))).get("schema_version")
    except Exception:
        version = None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        return (
            f"the manifest of {artifact_id} was written by a newer modelyard (schema_version "
            f"{version}; this one reads {SCHEMA_VERSION}): upgrade modelyard to collect garbage "
            "in this store"
        )
    return (
        f"the manifest of {artifact_id} cannot be read ({error}): run verify() and restore or "
        "remove it"
    )


def _refresh(store: Store, cache: dict[str, Manifest | str]) -> None:
    """Read the manifests not in ``cache``; an unreadable one is cached as the reason."""
    for artifact_id in list_artifact_ids(store):
        if artifact_id in cache:
            continue
        try:
            cache[artifact_id] = read_manifest(store, artifact_id)
        except IntegrityError as exc:
            cache[artifact_id] = _unreadable(store, artifact_id, exc)
        except NotFoundError:
            continue


def _mark(cache: dict[str, Manifest | str], roots: Iterable[str]) -> set[str]:
    kept: set[str] = set()
    stack = [r for r in roots if r in cache]
    while stack:
        current = stack.pop()
        if current in kept:
            continue
        kept.add(current)
        manifest = cache[current]
        if isinstance(manifest, Manifest):
            stack.extend(p for p in manifest.parents if p in cache)
    return kept


@dataclass
class _Plan:
    """What a sweep deletes, in order."""

    kept: set[str]
    artifacts: list[str]
    names: list[str]
    hints: list[str]
    blobs: list[tuple[str, str]]
    live_sizes: set[int] = field(default_factory=set)


@dataclass
class _Listing:
    cache: dict[str, Manifest | str]
    names: list[tuple[str, str]]  # (key, artifact id)
    hints: list[tuple[str, str, str]]  # (key, parent id, child id)
    blobs: list[tuple[str, str]]  # (key, digest)


def _list(store: Store, cache: dict[str, Manifest | str]) -> _Listing:
    _refresh(store, cache)
    names = []
    for key in store.list(NAMES):
        parsed = parse_name_entry(key)
        if parsed is not None:
            names.append((key, parsed[2]))
    hints = []
    for key in store.list(LINEAGE):
        parent, _, child = key[len(LINEAGE) :].partition("/")
        hints.append((key, f"sha256:{parent}", f"sha256:{child}"))
    blobs = []
    for key in store.list(BLOBS):
        digest = digest_of_key(key)
        if digest is not None:
            blobs.append((key, digest))
    return _Listing(cache, names, hints, blobs)


def _plan(listing: _Listing, roots: set[str], clock: Clock, grace: timedelta) -> _Plan:
    cache = listing.cache
    now = clock.now()
    start = set(roots)
    for artifact_id, manifest in cache.items():
        if not isinstance(manifest, Manifest) or now - manifest.created_at < grace:
            start.add(artifact_id)
    kept = _mark(cache, start)
    live: set[str] = set()
    live_sizes: set[int] = set()
    for artifact_id in kept:
        manifest = cache[artifact_id]
        if isinstance(manifest, Manifest):
            sizes = manifest.blob_sizes()
            live.update(sizes)
            live_sizes.update(size for size in sizes.values() if size is not None)
    return _Plan(
        kept=kept,
        artifacts=sorted(set(cache) - kept),
        names=[key for key, artifact_id in listing.names if artifact_id not in kept],
        hints=[key for key, p, c in listing.hints if p not in kept or c not in kept],
        blobs=[(key, digest) for key, digest in listing.blobs if digest not in live],
        live_sizes=live_sizes,
    )


def _freed(cache: dict[str, Manifest | str], plan: _Plan) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for artifact_id in plan.artifacts:
        manifest = cache[artifact_id]
        if not isinstance(manifest, Manifest):
            continue
        sizes.update({d: size for d, size in manifest.blob_sizes().items() if size is not None})
    return sizes


def _settle(store: Store, announced: float, guards: set[int]) -> None:
    _references.wait_for_guards(guards)
    if store.capabilities.shared_across_processes:
        remaining = announced + _references.SETTLE - elapsed()
        if remaining > 0:
            time.sleep(remaining)


def collect(
    store: Store,
    *,
    roots: list[str],
    grace: timedelta,
    dry_run: bool,
    keep_named: bool,
    clock: Clock,
    lease_ttl: timedelta,
) -> GcReport:
    cache: dict[str, Manifest | str] = {}
    _refresh(store, cache)
    lease = None
    if not dry_run:
        try:
            lease = Lease(store, LEASES_GC, clock, lease_ttl)
        except OSError as exc:
            if exc.errno not in _FULL:
                raise
            return GcReport(
                dry_run=False,
                kept=len(cache),
                refused=(
                    f"gc could not announce itself: the store has no room even for an empty "
                    f"lease ({exc}); free some space (or inodes) by other means, then run gc",
                ),
            )
    try:
        announced = elapsed()
        guards = _references.open_guards()
        in_flight, dead_puts = live_holders(store, LEASES_PUT, clock, lease_ttl)
        if in_flight and not dry_run:
            return GcReport(dry_run=False, kept=len(cache), deferred=True, in_flight=len(in_flight))
        listing = _list(store, cache)
        named = {artifact_id for _, artifact_id in listing.names} if keep_named else set()
        given = set(roots) | named
        if not dry_run and _plan(listing, given, clock, grace).artifacts:
            _settle(store, announced, guards)
        pinned, problems = read_roots(store)
        refused = tuple([reason for reason in cache.values() if isinstance(reason, str)] + problems)
        plan = _plan(listing, given | pinned, clock, grace)
        report = GcReport(
            dry_run=dry_run,
            kept=len(plan.kept),
            pinned=len(pinned & set(cache)),
            in_flight=len(in_flight),
            unreadable=tuple(sorted(a for a, m in cache.items() if isinstance(m, str))),
            refused=refused,
        )
        if refused:
            return report
        sizes = _freed(cache, plan)
        if dry_run:
            return _with(report, plan.artifacts, [d for _, d in plan.blobs], sizes)
        assert lease is not None
        return _sweep(store, lease, plan, report, sizes, dead_puts, clock, lease_ttl)
    finally:
        if lease is not None:
            lease.release()


def _with(
    report: GcReport,
    artifacts: list[str],
    blobs: list[str],
    sizes: dict[str, int],
    *,
    interrupted: bool = False,
) -> GcReport:
    return GcReport(
        dry_run=report.dry_run,
        kept=report.kept,
        artifacts=tuple(artifacts),
        blobs=tuple(blobs),
        bytes=sum(sizes.get(digest, 0) for digest in blobs),
        in_flight=report.in_flight,
        pinned=report.pinned,
        interrupted=interrupted,
    )


def _sweep(
    store: Store,
    lease: Lease,
    plan: _Plan,
    report: GcReport,
    sizes: dict[str, int],
    dead_puts: list[Holder],
    clock: Clock,
    lease_ttl: timedelta,
) -> GcReport:
    dead_gcs = live_holders(store, LEASES_GC, clock, lease_ttl, exclude=[lease.token])[1]
    artifacts: list[str] = []
    blobs: list[str] = []
    steps: list[tuple[str, list[str] | None, str]] = [
        *((key, None, "") for key in plan.names),
        *((key, None, "") for key in plan.hints),
        *((manifest_key(a), artifacts, a) for a in plan.artifacts),
        *((key, blobs, digest) for key, digest in plan.blobs),
        # Size markers are hints: one left for a size no kept blob has would cost a later put of
        # that size an extra hash; one removed wrongly (a tree listing's size) costs a discarded
        # write. Neither loses data.
        *((key, None, "") for key in store.list(SIZES) if size_of_key(key) not in plan.live_sizes),
        *((key, None, "") for holder in [*dead_puts, *dead_gcs] for key in holder.keys),
    ]
    for key, done, what in steps:
        if not lease.held():
            return _with(report, artifacts, blobs, sizes, interrupted=True)
        try:
            store.delete(key)
        except NotFoundError:
            pass
        if done is not None:
            done.append(what)
    return _with(report, artifacts, blobs, sizes)
