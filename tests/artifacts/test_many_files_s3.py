"""Requests a folder's put and get cost on S3, counted at the server: one per new pack of small
files (or, with packs off, one per new file) plus a constant, whatever the size of the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.storage import FsspecStore

from ..conftest import S3Requests

pytestmark = pytest.mark.s3

#: Requests a put makes besides its blobs (lease, gc check, latest version, listing, manifest,
#: name entry, lease release) and a get besides its files (name, manifest, listing).
CONSTANT = 12


def _tree(root: Path, count: int) -> Path:
    for i in range(count):
        folder = root / f"d{i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.bin").write_bytes(i.to_bytes(4, "big") * 500)
    return root


@pytest.mark.parametrize(
    ("packed", "files", "new_blobs"),
    [
        (True, 300, 2),  # the default: one pack of the 300 files, and the listing
        (False, 60, 61),  # a blob per file: the 60 files, and the listing
    ],
    ids=["packs", "a-blob-per-file"],
)
def test_a_put_costs_one_request_per_new_blob_plus_a_constant(
    tmp_path: Path,
    s3_url: str,
    s3_endpoint: str,
    s3_requests: S3Requests,
    monkeypatch: pytest.MonkeyPatch,
    packed: bool,
    files: int,
    new_blobs: int,
) -> None:
    monkeypatch.setenv("MODELYARD_PACK_FILES", "1" if packed else "0")
    artifacts = _artifacts(s3_url, s3_endpoint)
    folder = _tree(tmp_path / "data", files)
    s3_requests.take()
    artifacts.put(folder, name="images")
    first = s3_requests.take()
    puts = [r for r in first if r[0] == "PUT" and "/blobs/" in r[1]]
    assert len(puts) == new_blobs
    assert len(first) <= new_blobs - 1 + CONSTANT, _kinds(first)

    (folder / "d2" / "7.bin").write_bytes(b"changed")
    ref = artifacts.put(folder, name="images")
    again = s3_requests.take()
    # The changed file (alone in a new pack, or a blob of its own) and the new listing.
    assert len([r for r in again if r[0] == "PUT" and "/blobs/" in r[1]]) == 2
    assert len(again) <= 1 + CONSTANT, _kinds(again)

    out = artifacts.get(ref, dest=tmp_path / "out")
    restored = s3_requests.take()
    # From packs, the 299 unchanged files are read in one run of the first pack and the changed
    # one from the second: a few requests, not one per file.
    assert len(restored) <= (6 if packed else files) + CONSTANT, _kinds(restored)
    assert (out / "d2" / "7.bin").read_bytes() == b"changed"
    assert len(list(out.rglob("*.bin"))) == files


def _artifacts(s3_url: str, s3_endpoint: str) -> ArtifactStore:
    pytest.importorskip("s3fs", minversion="2024.12.0")
    store = FsspecStore(s3_url, endpoint_url=s3_endpoint, key="testing", secret="testing")
    return ArtifactStore(store, io_threads=8, code_lineage=False)


def _kinds(requests: list[tuple[str, str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for method, path, _ in requests:
        kind = f"{method} {path.split('/')[3] if path.count('/') > 3 else path}"
        counts[kind] = counts.get(kind, 0) + 1
    return counts
