"""gc deletes only what it can account for: an unreadable or newer manifest stops the sweep."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.storage import Store
from modelyard.testing import FakeClock

HOUR = timedelta(hours=1)


def _manifest_key(artifact_id: str) -> str:
    hexdigest = artifact_id.split(":", 1)[1]
    return f"manifests/sha256/{hexdigest[:2]}/{hexdigest[2:]}"


def _blob_key(digest: str) -> str:
    hexdigest = digest.split(":", 1)[1]
    return f"blobs/sha256/{hexdigest[:2]}/{hexdigest[2:]}"


def _flip_one_byte(store: Store, key: str) -> None:
    data = bytearray(store.read(key))
    data[len(data) // 2] ^= 0x01
    store.write(key, bytes(data))


def _from_newer_modelyard(store: Store, key: str) -> None:
    # What a later release might write: a higher schema_version and a field this one lacks. Its
    # bytes no longer hash to the id, as a real one would (the id is the hash of what is stored).
    body = json.loads(store.read(key))
    body["schema_version"] = 4
    body["extra_blobs"] = ["sha256:" + "e" * 64]
    store.write(key, json.dumps(body).encode())


@pytest.mark.parametrize("damage", [_flip_one_byte, _from_newer_modelyard])
def test_a_manifest_gc_cannot_read_stops_the_sweep_of_everything(
    mem_artifacts: ArtifactStore, clock: FakeClock, damage: object
) -> None:
    a = mem_artifacts
    unreadable = a.put(b"content of the damaged artifact")
    garbage = a.put(b"plain garbage")
    kept = a.put(b"kept", name="kept")
    clock.advance(hours=2)
    damage(a.store, _manifest_key(unreadable.id))  # type: ignore[operator]
    before = sorted(a.store.list(""))
    for dry_run in (True, False):
        report = a.gc(grace=HOUR, dry_run=dry_run, keep_named=False)
        # Its references are unknown, so nothing at all is swept: not its blob, not the
        # unrelated garbage, whose blob it might share or whose artifact it might name as parent.
        assert report.artifacts == () and report.blobs == () and not report.complete
        assert report.unreadable == (unreadable.id,)
        assert len(report.refused) == 1 and unreadable.id in report.refused[0]
    assert sorted(a.store.list("")) == before
    assert a.store.exists(_blob_key(unreadable.digest))
    assert a.exists(garbage) and a.exists(kept)


def test_the_report_tells_a_newer_manifest_from_a_damaged_one(
    mem_artifacts: ArtifactStore, clock: FakeClock
) -> None:
    newer = mem_artifacts.put(b"from the future")
    damaged = mem_artifacts.put(b"bit rot")
    clock.advance(hours=2)
    _from_newer_modelyard(mem_artifacts.store, _manifest_key(newer.id))
    _flip_one_byte(mem_artifacts.store, _manifest_key(damaged.id))
    report = mem_artifacts.gc(grace=HOUR)
    assert set(report.unreadable) == {newer.id, damaged.id}
    (about_newer,) = [r for r in report.refused if newer.id in r]
    (about_damaged,) = [r for r in report.refused if damaged.id in r]
    assert "newer modelyard" in about_newer and "schema_version 4" in about_newer
    assert "upgrade modelyard" in about_newer
    assert "cannot be read" in about_damaged and "verify()" in about_damaged


def test_once_the_manifest_is_removed_gc_goes_ahead(
    mem_artifacts: ArtifactStore, clock: FakeClock
) -> None:
    unreadable = mem_artifacts.put(b"damaged")
    garbage = mem_artifacts.put(b"garbage")
    clock.advance(hours=2)
    _flip_one_byte(mem_artifacts.store, _manifest_key(unreadable.id))
    assert mem_artifacts.gc(grace=HOUR, dry_run=False).refused
    mem_artifacts.store.delete(_manifest_key(unreadable.id))  # the operator's decision
    report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    assert report.complete and report.artifacts == (garbage.id,)
    assert set(report.blobs) == {garbage.digest, unreadable.digest}
