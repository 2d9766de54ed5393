"""Packs: a folder's small files stored together in a few blobs (see ``_packs.py``).

What is checked: which files go into packs and which stay blobs of their own; that a folder's
content digest does not depend on how it was stored; reuse of what the version before stored,
and the rule that keeps dead bytes bounded (by a seeded simulation of a dataset that changes
version after version); that every byte read from a pack is verified, and that a damaged or
forged pack or manifest is an error, never wrong bytes; gc, verify and copies; the switch.
"""

from __future__ import annotations

import io
import json
import random
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.artifacts._layout import blob_key, manifest_key, size_key
from modelyard.artifacts._manifest import Manifest, Pack, TreeEntry
from modelyard.artifacts._packs import read_members, runs
from modelyard.errors import InputError, IntegrityError
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock
from tests.artifacts import _workers

_MIB = 1024 * 1024


def _files(root: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    rng = random.Random(seed)
    for name, size in sizes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
    return root


def _artifacts(store: Store | None = None) -> ArtifactStore:
    return ArtifactStore(
        store if store is not None else MemoryStore(),
        clock=FakeClock(tick=timedelta(seconds=1)),
        code_lineage=False,
    )


def _same_tree(out: Path, folder: Path) -> None:
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == files
    for name in files:
        assert (out / name).read_bytes() == (folder / name).read_bytes(), name


@pytest.fixture
def small_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packs of 10,000 bytes, so that a few files fill several."""
    import modelyard.artifacts._packs as packs

    monkeypatch.setattr(packs, "PACK_TARGET", 10_000)


def test_small_files_go_into_packs_and_large_ones_stay_blobs_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = {f"small/{i}.bin": 1000 * i for i in range(8)} | {"edge.bin": _MIB, "big.bin": _MIB + 1}
    folder = _files(tmp_path / "data", sizes)
    artifacts = _artifacts()
    ref = artifacts.put(folder, name="d")
    manifest = artifacts.manifest(ref)
    assert manifest.schema_version == 3 and manifest.tree is not None
    placed = {e.path: (e.pack, e.offset) for e in manifest.tree}
    assert placed["big.bin"] == (None, None)  # over 1 MiB: a blob of its own
    assert placed["edge.bin"][0] == 0  # exactly 1 MiB: packed
    assert len(manifest.packs) == 1
    assert manifest.packs[0].size == sum(s for s in sizes.values() if s <= _MIB)
    stored = set(artifacts.store.list("blobs/"))
    assert stored == {blob_key(d) for d in manifest.blob_digests()}
    assert len(stored) == 3  # the pack, the large file, the listing
    # A size marker helps a large file hash before it writes; no file is a copy of a pack.
    assert manifest.packs[0].size > _MIB and artifacts.store.list("sizes/") == [size_key(_MIB + 1)]
    out = artifacts.get(ref, dest=tmp_path / "out")
    _same_tree(out, folder)

    # Where files are stored is not what the folder is: the same digest with packs off.
    monkeypatch.setenv("MODELYARD_PACK_FILES", "0")
    loose = _artifacts()
    other = loose.manifest(loose.put(folder, name="d"))
    assert other.digest == manifest.digest and other.packs == ()
    assert other.schema_version == 1
    assert len(loose.store.list("blobs/")) == len(sizes) + 1


def test_offsets_follow_the_tree_and_equal_files_are_stored_once(tmp_path: Path) -> None:
    folder = _files(tmp_path / "data", {"a": 10, "b": 20, "c": 0, "d": 30})
    (folder / "e").write_bytes((folder / "b").read_bytes())
    artifacts = _artifacts()
    manifest = artifacts.manifest(artifacts.put(folder))
    assert manifest.tree is not None
    assert [(e.path, e.pack, e.offset) for e in manifest.tree] == [
        ("a", 0, 0),
        ("b", 0, 10),
        ("c", 0, 30),
        ("d", 0, 30),
        ("e", 0, 10),  # the bytes of "b"
    ]
    assert manifest.packs[0].size == 60
    pack = artifacts.store.read(blob_key(manifest.packs[0].digest))
    assert pack == b"".join((folder / name).read_bytes() for name in "abd")


@pytest.mark.usefixtures("small_packs")
@pytest.mark.parametrize("threads", [1, 5])
def test_a_full_pack_is_stored_and_the_next_one_begun(tmp_path: Path, threads: int) -> None:
    folder = _files(tmp_path / "data", {f"{i:02d}.bin": 1000 for i in range(45)})
    artifacts = ArtifactStore(MemoryStore(), io_threads=threads, code_lineage=False)
    ref = artifacts.put(folder)
    manifest = artifacts.manifest(ref)
    assert [p.size for p in manifest.packs] == [10_000] * 4 + [5_000]
    assert manifest.tree is not None
    # The tree's order, whatever the pool size: the pack of a file follows from its place.
    assert [e.pack for e in manifest.tree] == [i // 10 for i in range(45)]
    assert [e.offset for e in manifest.tree] == [1000 * (i % 10) for i in range(45)]
    _same_tree(artifacts.get(ref, dest=tmp_path / "out"), folder)
    assert artifacts.verify(ref).ok


def test_a_re_put_stores_only_the_changed_file(tmp_path: Path) -> None:
    folder = _files(tmp_path / "data", {f"{i}.bin": 1000 for i in range(20)})
    artifacts = _artifacts()
    first = artifacts.manifest(artifacts.put(folder, name="d"))
    blobs = set(artifacts.store.list("blobs/"))
    (folder / "3.bin").write_bytes(b"changed")
    (folder / "new.bin").write_bytes(b"added")
    ref = artifacts.put(folder, name="d")
    second = artifacts.manifest(ref)
    added = set(artifacts.store.list("blobs/")) - blobs
    assert len(added) == 2  # a pack of the two new files, and the listing
    assert second.packs[0] == first.packs[0] and second.packs[1].size == len(b"changedadded")
    assert second.tree is not None
    assert {e.path for e in second.tree if e.pack == 1} == {"3.bin", "new.bin"}
    _same_tree(artifacts.get(ref, dest=tmp_path / "out"), folder)


@pytest.mark.parametrize(("changed", "reused"), [(4, True), (5, True), (6, False)])
def test_a_pack_less_than_half_used_is_not_kept_alive(
    tmp_path: Path, changed: int, reused: bool
) -> None:
    folder = _files(tmp_path / "data", {f"{i}.bin": 1000 for i in range(10)})
    artifacts = _artifacts()
    old = artifacts.put(folder, name="d")
    pack = artifacts.manifest(old).packs[0]
    for i in range(changed):
        (folder / f"{i}.bin").write_bytes(bytes([i]) * 1000)
    new = artifacts.put(folder, name="d")
    manifest = artifacts.manifest(new)
    assert (pack in manifest.packs) is reused
    if not reused:  # every file stored again, in the new version's own pack
        assert [p.size for p in manifest.packs] == [10_000]
    report = artifacts.gc(roots=[new], grace=timedelta(0), dry_run=False, keep_named=False)
    assert report.artifacts == (old.id,)
    assert (blob_key(pack.digest) in artifacts.store.list("blobs/")) is reused
    _same_tree(artifacts.get(new, dest=tmp_path / "out"), folder)
    assert artifacts.verify().ok


def test_what_a_changing_dataset_keeps_stored_stays_within_twice_its_size(
    tmp_path: Path,
) -> None:
    """A dataset of 60 files where each version replaces, adds and removes a few at random;
    after every version gc keeps only the latest. The packs it still needs never hold more than
    twice its size, whatever happened before (seeded: 40 versions)."""
    rng = random.Random(7)
    folder = tmp_path / "data"
    folder.mkdir()
    names = [f"{i:03d}.bin" for i in range(60)]
    for name in names:
        (folder / name).write_bytes(rng.randbytes(rng.randint(200, 3000)))
    artifacts = _artifacts()
    worst = 0.0
    for version in range(40):
        for name in rng.sample(names, 6):
            (folder / name).write_bytes(rng.randbytes(rng.randint(200, 3000)))
        gone = rng.choice(names)
        names.remove(gone)
        (folder / gone).unlink()
        names.append(f"new-{version}.bin")
        (folder / names[-1]).write_bytes(rng.randbytes(rng.randint(200, 3000)))
        ref = artifacts.put(folder, name="d")
        artifacts.gc(roots=[ref], grace=timedelta(0), dry_run=False, keep_named=False)
        manifest = artifacts.manifest(ref)
        assert manifest.tree is not None
        live = sum({e.digest: e.size for e in manifest.tree}.values())
        kept = sum(p.size for p in manifest.packs)
        stored = sum(
            len(artifacts.store.read(key))
            for key in artifacts.store.list("blobs/")
            if key != blob_key(manifest.digest)
        )
        assert stored == kept  # gc left nothing else
        worst = max(worst, kept / live)
        assert kept <= 2 * live, (version, kept, live)
    assert len(artifacts.manifest(ref).packs) > 1  # reuse did happen
    assert worst > 1.0  # and some dead bytes were carried, within the bound
    _same_tree(artifacts.get(ref, dest=tmp_path / "out"), folder)


@pytest.mark.parametrize(
    "damage",
    ["flip", "truncate", "remove"],
)
def test_a_damaged_pack_is_an_error_and_nothing_is_restored(tmp_path: Path, damage: str) -> None:
    folder = _files(tmp_path / "data", {f"{i:02d}.bin": 1000 for i in range(30)})
    artifacts = _artifacts()
    ref = artifacts.put(folder, name="d")
    manifest = artifacts.manifest(ref)
    key = blob_key(manifest.packs[0].digest)
    data = bytearray(artifacts.store.read(key))
    if damage == "flip":
        data[17_500] ^= 1  # in 17.bin
        artifacts.store.write(key, bytes(data))
    elif damage == "truncate":
        artifacts.store.write(key, bytes(data[:-10]))
    else:
        artifacts.store.delete(key)
    dest = tmp_path / "out"
    dest.mkdir()
    expected = {"flip": "17.bin", "truncate": "short", "remove": "pack blob is missing"}[damage]
    with pytest.raises(IntegrityError, match=expected) as info:
        artifacts.get(ref, dest=dest)
    assert ref.id in str(info.value)
    assert list(dest.iterdir()) == []
    report = artifacts.verify(ref)
    assert report.corrupt == (ref.id,)
    assert [p.key for p in report.problems] == [key]


def _forge(store: Store, manifest: Manifest, **changes: Any) -> str:
    """Store a copy of ``manifest`` with its first entry changed, as a writer of the store
    could; returns the forged artifact's id."""
    assert manifest.tree is not None
    first = manifest.tree[0].model_copy(update=changes)
    forged = manifest.model_copy(update={"tree": (first, *manifest.tree[1:])})
    data = forged.canonical_bytes()
    from modelyard._internal.hashing import digest_bytes

    artifact_id = digest_bytes(data)
    store.create(manifest_key(artifact_id), data)
    return artifact_id


def test_a_manifest_pointing_at_the_wrong_bytes_of_a_pack_is_caught(tmp_path: Path) -> None:
    folder = _files(tmp_path / "data", {"a.bin": 100, "b.bin": 100})
    artifacts = _artifacts()
    manifest = artifacts.manifest(artifacts.put(folder))
    forged = _forge(artifacts.store, manifest, offset=100)  # a.bin said to be where b.bin is
    with pytest.raises(IntegrityError, match=r"'a.bin', 100 bytes at offset 100 of pack"):
        artifacts.get(forged, dest=tmp_path / "out")
    report = artifacts.verify(forged)
    assert [p.kind for p in report.problems] == ["blob"] and report.corrupt == (forged,)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pack": 1}, "pack 1, which is not listed"),
        ({"offset": 150}, "ends past the end of its pack"),
        ({"offset": None}, "needs both its pack and its offset"),
    ],
)
def test_a_manifest_placing_a_file_outside_its_packs_does_not_read(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    folder = _files(tmp_path / "data", {"a.bin": 100, "b.bin": 100})
    artifacts = _artifacts()
    manifest = artifacts.manifest(artifacts.put(folder))
    assert manifest.tree is not None
    entry = manifest.tree[0].model_dump() | changes
    body = json.loads(manifest.canonical_bytes())
    body["tree"][0] = entry
    with pytest.raises(ValueError, match=message):
        Manifest.model_validate(body)
    from modelyard._internal.canonical import canonical_json
    from modelyard._internal.hashing import digest_bytes

    data = canonical_json(body)
    artifact_id = digest_bytes(data)
    artifacts.store.create(manifest_key(artifact_id), data)
    with pytest.raises(IntegrityError, match="does not parse"):
        artifacts.get(artifact_id, dest=tmp_path / "out")


def test_the_schema_follows_what_a_manifest_holds() -> None:
    from datetime import datetime, timezone

    from modelyard.artifacts import Environment

    entry = TreeEntry(path="a", digest="sha256:" + "1" * 64, size=3, pack=0, offset=0)
    fields: dict[str, Any] = dict(
        digest="sha256:" + "0" * 64,
        size=3,
        media_type="application/vnd.modelyard.tree+json",
        codec="directory",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        environment=Environment(python="3.11.7"),
    )
    pack = Pack(digest="sha256:" + "2" * 64, size=3)
    with pytest.raises(ValueError, match="says 1"):
        Manifest(**fields, tree=(entry,), packs=(pack,))
    with pytest.raises(ValueError, match="before schema 3 has no packs"):
        Manifest(**fields, tree=(entry,))
    with pytest.raises(ValueError, match="only a directory artifact"):
        Manifest(**fields, packs=(pack,), schema_version=3)
    packed = Manifest(**fields, tree=(entry,), packs=(pack,), schema_version=3)
    assert json.loads(packed.canonical_bytes())["tree"][0]["pack"] == 0
    # Without packs, the bytes are those of schema 1: no packs, and no placement per entry.
    loose = Manifest(**fields, tree=(entry.model_copy(update={"pack": None, "offset": None}),))
    body = json.loads(loose.canonical_bytes())
    assert "packs" not in body and set(body["tree"][0]) == {"path", "digest", "size", "executable"}


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_a_packed_folder_is_copied_with_its_packs(tmp_path: Path, kind: str) -> None:
    folder = _files(tmp_path / "data", {f"{i}.bin": 500 for i in range(12)} | {"big": _MIB + 5})
    source = _artifacts()
    ref = source.put(folder, name="d")
    dest = _artifacts(MemoryStore() if kind == "memory" else LocalStore(tmp_path / "dest"))
    report = source.copy_to(dest, ref)
    assert report.blobs == 3  # the pack, the large file, the listing
    _same_tree(dest.get(ref, dest=tmp_path / "out"), folder)
    assert dest.verify().ok


def test_a_failed_put_leaves_only_packs_that_gc_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_packs: None
) -> None:
    import modelyard.artifacts._writing as writing

    folder = _files(tmp_path / "data", {f"{i:02d}.bin": 1000 for i in range(40)})
    real = writing.read_small
    calls = 0

    def failing(path: Any, stamp: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 25:
            raise OSError("the disk went away")
        return real(path, stamp)

    monkeypatch.setattr(writing, "read_small", failing)
    artifacts = _artifacts(LocalStore(tmp_path / "store"))
    with pytest.raises(OSError, match="went away"):
        artifacts.put(folder, name="d")
    # Two full packs were stored; nothing refers to them, and no artifact appeared.
    assert artifacts.store.list("manifests/") == [] and artifacts.store.list("names/") == []
    assert len(artifacts.store.list("blobs/")) == 2
    assert len(artifacts.verify().orphans) == 2
    report = artifacts.gc(grace=timedelta(0), dry_run=False)
    assert len(report.blobs) == 2 and artifacts.store.list("blobs/") == []


def test_a_misspelt_pack_switch_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELYARD_PACK_FILES", "nope")
    folder = _files(tmp_path / "data", {"a": 10})
    artifacts = _artifacts()
    with pytest.raises(InputError, match="MODELYARD_PACK_FILES='nope' is not understood"):
        artifacts.put(folder)
    assert artifacts.store.list("") == []


def _entry(path: str, offset: int, size: int, pack: int = 0) -> TreeEntry:
    return TreeEntry(path=path, digest="sha256:" + "0" * 64, size=size, pack=pack, offset=offset)


def test_runs_group_a_packs_files_in_offset_order_and_cut_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import modelyard.artifacts._packs as packs

    monkeypatch.setattr(packs, "_RUN_BYTES", 100)
    monkeypatch.setattr(packs, "_RUN_FILES", 3)
    entries = [
        _entry("c", 40, 10),
        _entry("x", 0, 5, pack=1),
        _entry("a", 0, 10),
        _entry("b", 10, 10),
        _entry("d", 60, 10),  # a fourth file: a new run
        _entry("e", 155, 10),  # would end 105 bytes past the run's start: a new run
    ]
    assert [[e.path for e in run] for run in runs(entries)] == [
        ["a", "b", "c"],
        ["d"],
        ["e"],
        ["x"],
    ]


class _Unseekable(io.RawIOBase):
    """A stream that can only be read forward, as some stores' streams are."""

    def __init__(self, data: bytes) -> None:
        self._source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._source.read(min(len(buffer), 7))  # short reads, too
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _ForwardOnly(MemoryStore):
    def open(self, key: str) -> BinaryIO:
        return _Unseekable(self.read(key))  # type: ignore[return-value]


@pytest.mark.parametrize("store", [MemoryStore(), _ForwardOnly()], ids=["seekable", "forward"])
def test_files_far_apart_in_a_pack_are_read_each_on_its_own(store: MemoryStore) -> None:
    from modelyard._internal.hashing import digest_bytes

    rng = random.Random(3)
    pack_bytes = rng.randbytes(300_000)
    digest = digest_bytes(pack_bytes)
    store.create(blob_key(digest), pack_bytes)
    pack = Pack(digest=digest, size=len(pack_bytes))
    spans = [(10, 5), (150_000, 20), (150_000, 20), (299_990, 10)]  # sparse; one twice
    run = [
        TreeEntry(
            path=f"f{i}",
            digest=digest_bytes(pack_bytes[o : o + n]),
            size=n,
            pack=0,
            offset=o,
        )
        for i, (o, n) in enumerate(spans)
    ]
    got = [(entry.path, bytes(data)) for entry, data in read_members(store, pack, run, None)]
    assert got == [(f"f{i}", pack_bytes[o : o + n]) for i, (o, n) in enumerate(spans)]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="a dead writer is recognised through /proc")
def test_a_writer_killed_between_packs_leaves_nothing_visible(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    folder = _files(tmp_path / "data", {f"{i:03d}.bin": 1000 for i in range(200)})
    ready = tmp_path / "ready"
    _workers.kill_when_ready(_workers.slow_packed_put, (root, str(folder), str(ready)), ready)
    artifacts = _artifacts(LocalStore(root))
    # Some packs were stored; no manifest or name refers to them, so nothing is visible.
    orphans = artifacts.verify().orphans
    assert len(orphans) >= 5 and artifacts.verify().ok
    assert artifacts.store.list("manifests/") == [] and artifacts.find("packed") == []
    # The dead writer's lease is passed over at once; gc removes what it left.
    report = artifacts.gc(grace=timedelta(0), dry_run=False)
    assert set(report.blobs) == set(orphans) and artifacts.store.list("blobs/") == []
    ref = artifacts.put(folder, name="packed")
    _same_tree(artifacts.get(ref, dest=tmp_path / "out"), folder)
