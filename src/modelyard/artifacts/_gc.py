"""Garbage collection: mark from the roots, sweep the rest, never race a put.

Roots are the ids given, every artifact younger than ``grace`` (by ``created_at``, so that an
artifact just stored is not collected before the caller has had time to reference it), and with
``keep_named`` every named artifact; everything a root was made from is kept too.

Safety against a concurrent ``put`` does not rely on file times (not every store has them). It
relies on leases (see ``_leases.py``): the gc writes its lease, then looks for put leases; if any
put is in flight the sweep is deferred. A put that starts later finds the gc lease and waits until
the gc is done. Manifests are read once before the lease is taken (the slow part) and re-listed
under it, so puts are held up only for the sweep itself. Deletion order (name entries, lineage
hints, manifests, blobs, size markers) means a gc killed midway leaves only unreferenced blobs
(and size markers, which are hints) behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from modelyard._internal.clock import Clock
from modelyard.artifacts._catalog import list_artifact_ids, read_manifest
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
from modelyard.artifacts._leases import Lease, fresh_leases
from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._reports import GcReport
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.storage import Store

__all__ = ["collect"]


def _refresh(store: Store, cache: dict[str, Manifest | None]) -> None:
    for artifact_id in list_artifact_ids(store):
        if artifact_id in cache:
            continue
        try:
            cache[artifact_id] = read_manifest(store, artifact_id)
        except IntegrityError:
            cache[artifact_id] = None  # unreadable: kept, and verify() reports it
        except NotFoundError:
            continue


def _mark(cache: dict[str, Manifest | None], roots: Iterable[str]) -> set[str]:
    kept: set[str] = set()
    stack = [r for r in roots if r in cache]
    while stack:
        current = stack.pop()
        if current in kept:
            continue
        kept.add(current)
        manifest = cache.get(current)
        if manifest is not None:
            stack.extend(p for p in manifest.parents if p in cache)
    return kept


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
    cache: dict[str, Manifest | None] = {}
    _refresh(store, cache)
    lease = None if dry_run else Lease(store, LEASES_GC, clock, lease_ttl)
    try:
        in_flight, stale_puts = fresh_leases(store, LEASES_PUT, clock, lease_ttl)
        if in_flight and not dry_run:
            return GcReport(dry_run=False, kept=len(cache), deferred=True, in_flight=len(in_flight))
        _refresh(store, cache)
        now = clock.now()
        start = set(roots)
        for artifact_id, manifest in cache.items():
            if manifest is None or now - manifest.created_at < grace:
                start.add(artifact_id)
        names = [(key, parse_name_entry(key)) for key in store.list(NAMES)]
        if keep_named:
            start.update(parsed[2] for _, parsed in names if parsed is not None)
        kept = _mark(cache, start)
        live: set[str] = set()
        live_sizes: set[int] = set()
        for artifact_id in kept:
            manifest = cache[artifact_id]
            if manifest is not None:
                live.update(manifest.blob_digests())
                live_sizes.update(entry.size for entry in manifest.tree or ())
                if manifest.tree is None:
                    live_sizes.add(manifest.size)
        doomed = sorted(set(cache) - kept)
        doomed_names = [k for k, parsed in names if parsed is not None and parsed[2] not in kept]
        doomed_hints = []
        for key in store.list(LINEAGE):
            parent, _, child = key[len(LINEAGE) :].partition("/")
            if f"sha256:{child}" not in kept or f"sha256:{parent}" not in kept:
                doomed_hints.append(key)
        doomed_blobs = []
        for key in store.list(BLOBS):
            digest = digest_of_key(key)
            if digest is not None and digest not in live:
                doomed_blobs.append((key, digest))
        freed = 0
        sizes: dict[str, int] = {}
        for artifact_id in doomed:
            manifest = cache[artifact_id]
            if manifest is not None and manifest.tree is None:
                sizes[manifest.digest] = manifest.size
            for entry in (manifest.tree if manifest is not None else None) or ():
                sizes[entry.digest] = entry.size
        freed = sum(sizes.get(digest, 0) for _, digest in doomed_blobs)
        if not dry_run:
            assert lease is not None
            stale_gcs = fresh_leases(store, LEASES_GC, clock, lease_ttl, exclude=lease.key)[1]
            keys = [
                *doomed_names,
                *doomed_hints,
                *(manifest_key(a) for a in doomed),
                *(key for key, _ in doomed_blobs),
                # Size markers are hints: one left for a size no kept blob has would cost a
                # later put of that size an extra hash; one removed wrongly (a tree listing's
                # size) costs a discarded write. Neither loses data.
                *(key for key in store.list(SIZES) if size_of_key(key) not in live_sizes),
                *stale_puts,
                *stale_gcs,
            ]
            for key in keys:
                lease.renew()
                try:
                    store.delete(key)
                except NotFoundError:
                    continue
        return GcReport(
            dry_run=dry_run,
            kept=len(kept),
            artifacts=tuple(doomed),
            blobs=tuple(digest for _, digest in doomed_blobs),
            bytes=freed,
            in_flight=len(in_flight),
        )
    finally:
        if lease is not None:
            lease.release()
