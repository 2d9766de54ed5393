"""Every artifact entry point checks names and references with full matches before any write."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.errors import InputError, InvalidNameError, NotFoundError
from modelyard.storage import Store

ID = "sha256:" + "ab" * 32

Call = Callable[[ArtifactStore], object]

BAD_CALLS: list[tuple[str, Call]] = [
    ("put name\\n", lambda a: a.put(b"data", name="x\n")),
    ("put name with a foreign digit", lambda a: a.put(b"data", name="x\u0662")),
    ("put name with a full-width digit", lambda a: a.put(b"data", name="x\uff12")),
    ("put codec\\n", lambda a: a.put(b"data", name="x", codec="bytes\n")),
    ("put codec not a str", lambda a: a.put(b"data", name="x", codec=["bytes"])),  # type: ignore[arg-type]
    ("put metadata not a mapping", lambda a: a.put(b"data", metadata=[("k", "v")])),  # type: ignore[arg-type]
    ("put metadata NaN", lambda a: a.put(b"data", metadata={"k": float("nan")})),
    ("put parent id\\n", lambda a: a.put(b"data", parents=[ID + "\n"])),
    ("put parent short id\\n", lambda a: a.put(b"data", parents=["base:abcd\n"])),
    ("put parent name\\n", lambda a: a.put(b"data", parents=["base\n"])),
    ("put parent @latest\\n", lambda a: a.put(b"data", parents=["base@latest\n"])),
    ("put parents as one string", lambda a: a.put(b"data", parents="base")),
    ("put parent that does not exist", lambda a: a.put(b"data", name="x", parents=[ID])),
    ("resolve name\\n", lambda a: a.resolve("base\n")),
    ("resolve @latest\\n", lambda a: a.resolve("base@latest\n")),
    ("resolve id\\n", lambda a: a.resolve(ID + "\n")),
    ("resolve short id\\n", lambda a: a.resolve("base:abcd\n")),
    ("resolve short id with foreign digits", lambda a: a.resolve("base:\u0662\u0662\u0662\u0662")),
    ("get name\\n", lambda a: a.get("base\n")),
    ("open name\\n", lambda a: a.open("base\n")),
    ("manifest name\\n", lambda a: a.manifest("base\n")),
    ("exists name\\n", lambda a: a.exists("base\n")),
    ("find name\\n", lambda a: a.find("base\n")),
    ("lineage name\\n", lambda a: a.lineage("base\n")),
    ("verify id\\n", lambda a: a.verify(ID + "\n")),
    ("gc root\\n", lambda a: a.gc(roots=["base\n"], dry_run=False)),
]


@pytest.fixture
def seeded(any_store: Store) -> ArtifactStore:
    artifacts = ArtifactStore(any_store)
    artifacts.put(b"base", name="base")
    return artifacts


@pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[i for i, _ in BAD_CALLS])
def test_bad_input_is_refused_and_nothing_is_written(seeded: ArtifactStore, call: Call) -> None:
    before = sorted(seeded.store.list())
    with pytest.raises((InputError, NotFoundError)):
        call(seeded)
    assert sorted(seeded.store.list()) == before
    assert [ref.name for ref in seeded.find("base")] == ["base"]


def test_a_refused_name_leaves_no_blob_or_manifest(seeded: ArtifactStore) -> None:
    before = sorted(seeded.store.list())
    with pytest.raises(InvalidNameError):
        seeded.put(b"content never stored before", name="x\n")
    assert sorted(seeded.store.list()) == before
