"""Verification: re-hash content and manifests, report what is wrong, never raise for it."""

from __future__ import annotations

from collections import defaultdict

from modelyard._internal.hashing import digest_bytes
from modelyard.artifacts._catalog import list_artifact_ids, read_manifest
from modelyard.artifacts._layout import (
    BLOBS,
    NAMES,
    blob_key,
    digest_of_key,
    manifest_key,
    parse_name_entry,
)
from modelyard.artifacts._manifest import Manifest, listing_of
from modelyard.artifacts._packs import read_members, runs
from modelyard.artifacts._pipeline import hash_stream
from modelyard.artifacts._reports import Problem, VerifyReport
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.storage import Store

__all__ = ["verify_all", "verify_one"]


def _hash_blob(store: Store, digest: str) -> tuple[str, int] | None:
    try:
        with store.open(blob_key(digest)) as source:
            return hash_stream(source)
    except NotFoundError:
        return None


def _check_manifest(store: Store, artifact_id: str, problems: list[Problem]) -> Manifest | None:
    try:
        manifest = read_manifest(store, artifact_id)
    except IntegrityError as exc:
        problems.append(Problem("manifest", manifest_key(artifact_id), str(exc), (artifact_id,)))
        return None
    if manifest.tree is not None and digest_bytes(listing_of(manifest.tree)) != manifest.digest:
        problems.append(
            Problem(
                "manifest",
                manifest_key(artifact_id),
                "the directory tree does not match the content digest",
                (artifact_id,),
            )
        )
    return manifest


def _check_members(
    store: Store, artifact_id: str, manifest: Manifest, problems: list[Problem]
) -> None:
    """Each file stored in a pack against its own digest (the pack's digest only says that the
    pack holds what was written, not that the manifest points at the right bytes in it)."""
    packed = [entry for entry in manifest.tree or () if entry.pack is not None]
    for run in runs(packed):
        assert run[0].pack is not None
        pack = manifest.packs[run[0].pack]
        if any(problem.key == blob_key(pack.digest) for problem in problems):
            continue  # missing or damaged as a whole: reported already
        try:
            for _ in read_members(store, pack, run, None):
                pass
        except IntegrityError as exc:
            problems.append(Problem("blob", blob_key(pack.digest), str(exc), (artifact_id,)))


def _check_blobs(
    store: Store, users: dict[str, list[str]], sizes: dict[str, int | None], problems: list[Problem]
) -> tuple[int, int]:
    count = total = 0
    for digest, artifact_ids in sorted(users.items()):
        result = _hash_blob(store, digest)
        owners = tuple(artifact_ids)
        if result is None:
            problems.append(
                Problem("missing-blob", blob_key(digest), f"blob {digest} is missing", owners)
            )
            continue
        actual, size = result
        count += 1
        total += size
        expected = sizes.get(digest)
        if actual != digest or (expected is not None and size != expected):
            problems.append(
                Problem(
                    "blob",
                    blob_key(digest),
                    f"blob {digest} holds {size} bytes hashing to {actual}",
                    owners,
                )
            )
    return count, total


def _needs(manifest: Manifest) -> dict[str, int | None]:
    return manifest.blob_sizes()


def verify_one(store: Store, artifact_id: str) -> VerifyReport:
    problems: list[Problem] = []
    manifest = _check_manifest(store, artifact_id, problems)
    if manifest is None:
        if not store.exists(manifest_key(artifact_id)):
            raise NotFoundError(f"no artifact {artifact_id} in this store", id=artifact_id)
        return VerifyReport(artifacts=1, blobs=0, bytes=0, problems=tuple(problems))
    needs = _needs(manifest)
    users = {digest: [artifact_id] for digest in needs}
    count, total = _check_blobs(store, users, needs, problems)
    _check_members(store, artifact_id, manifest, problems)
    return VerifyReport(artifacts=1, blobs=count, bytes=total, problems=tuple(problems))


def verify_all(store: Store) -> VerifyReport:
    problems: list[Problem] = []
    users: dict[str, list[str]] = defaultdict(list)
    sizes: dict[str, int | None] = {}
    ids = list_artifact_ids(store)
    packed: list[tuple[str, Manifest]] = []
    for artifact_id in ids:
        manifest = _check_manifest(store, artifact_id, problems)
        if manifest is None:
            continue
        for digest, size in _needs(manifest).items():
            users[digest].append(artifact_id)
            sizes[digest] = size
        packed.append((artifact_id, manifest))
    count, total = _check_blobs(store, users, sizes, problems)
    for artifact_id, manifest in packed:
        _check_members(store, artifact_id, manifest, problems)
    orphans = []
    for key in store.list(BLOBS):
        found = digest_of_key(key)
        if found is None or found in users:
            continue
        digest = found
        result = _hash_blob(store, digest)
        if result is None:
            continue  # removed while we looked
        count += 1
        total += result[1]
        if result[0] != digest:
            problems.append(Problem("blob", key, f"blob {digest} hashes to {result[0]}"))
        else:
            orphans.append(digest)
    known = set(ids)
    for key in store.list(NAMES):
        parsed = parse_name_entry(key)
        if parsed is not None and parsed[2] not in known:
            problems.append(
                Problem("name", key, f"name entry for {parsed[0]!r} points at missing {parsed[2]}")
            )
    return VerifyReport(
        artifacts=len(ids),
        blobs=count,
        bytes=total,
        problems=tuple(problems),
        orphans=tuple(orphans),
    )
