"""verify(): a single flipped byte anywhere is found and attributed to the right artifacts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.errors import NotFoundError
from modelyard.storage import LocalStore
from modelyard.testing import FakeClock


def _path(root: Path, prefix: str, digest: str) -> Path:
    hexdigest = digest.split(":")[1]
    return root / prefix / "sha256" / hexdigest[:2] / hexdigest[2:]


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ArtifactStore, Path]:
    root = tmp_path / "s"
    return ArtifactStore(LocalStore(root), clock=FakeClock()), root


@pytest.mark.parametrize("offset", [0, 1234, -1])
def test_one_flipped_byte_in_a_blob(setup: tuple[ArtifactStore, Path], offset: int) -> None:
    artifacts, root = setup
    data = os.urandom(5000)
    victim = artifacts.put(data, name="victim")
    sharer = artifacts.put(data, name="sharer")  # same blob, other artifact
    artifacts.put(b"other", name="bystander")
    assert artifacts.verify().ok
    _flip(_path(root, "blobs", victim.digest), offset)
    report = artifacts.verify()
    assert not report.ok
    assert [p.kind for p in report.problems] == ["blob"]
    assert set(report.corrupt) == {victim.id, sharer.id}
    assert report.artifacts == 3 and report.blobs == 2
    single = artifacts.verify(victim)
    assert set(single.corrupt) == {victim.id}
    assert artifacts.verify("bystander@latest").ok


@pytest.mark.parametrize("packed", [True, False], ids=["in-a-pack", "a-blob-of-its-own"])
def test_flipped_byte_in_a_directory_file(
    setup: tuple[ArtifactStore, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    packed: bool,
) -> None:
    monkeypatch.setenv("MODELYARD_PACK_FILES", "1" if packed else "0")
    artifacts, root = setup
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha")
    (folder / "b.txt").write_text("beta")
    ref = artifacts.put(folder)
    manifest = artifacts.manifest(ref)
    entry = manifest.tree[1]  # type: ignore[index]
    if packed:  # b.txt's bytes follow a.txt's in the folder's one pack
        assert entry.pack == 0 and entry.offset == len("alpha")
        damaged = manifest.packs[0].digest
        _flip(_path(root, "blobs", damaged), entry.offset)
    else:
        damaged = entry.digest
        _flip(_path(root, "blobs", damaged), 0)
    report = artifacts.verify(ref)
    assert [p.key.split("/")[-1] for p in report.problems] == [damaged[9:]]
    assert report.corrupt == (ref.id,)


def test_flipped_byte_in_a_manifest(setup: tuple[ArtifactStore, Path]) -> None:
    artifacts, root = setup
    ref = artifacts.put({"a": 1}, name="m")
    _flip(_path(root, "manifests", ref.id), 5)
    report = artifacts.verify()
    assert [p.kind for p in report.problems] == ["manifest"]
    assert report.corrupt == (ref.id,)
    assert artifacts.verify(ref).corrupt == (ref.id,)


def test_missing_blob_dangling_name_and_orphans(setup: tuple[ArtifactStore, Path]) -> None:
    artifacts, root = setup
    gone = artifacts.put(b"will vanish", name="gone")
    named = artifacts.put(b"named", name="named")
    _path(root, "blobs", gone.digest).unlink()
    _path(root, "manifests", named.id).unlink()
    orphan = artifacts.put(b"orphan")
    _path(root, "manifests", orphan.id).unlink()
    report = artifacts.verify()
    kinds = sorted(p.kind for p in report.problems)
    assert kinds == ["missing-blob", "name"]
    assert gone.id in report.corrupt
    assert set(report.orphans) == {named.digest, orphan.digest}
    with pytest.raises(NotFoundError):
        artifacts.verify(named)
