"""LocalStore.write_volatile: a write without fsync, with the same results as write."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import InvalidKeyError
from modelyard.storage import LocalStore, MemoryStore, SupportsVolatileWrite


def test_local_store_has_the_ability_and_the_memory_store_does_not(tmp_path: Path) -> None:
    assert isinstance(LocalStore(tmp_path), SupportsVolatileWrite)
    assert not isinstance(MemoryStore(), SupportsVolatileWrite)


@pytest.mark.parametrize("data", [b"", b"value"])
def test_write_volatile_stores_and_replaces_like_write(tmp_path: Path, data: bytes) -> None:
    store = LocalStore(tmp_path)
    store.write_volatile("feed/a/b", data)
    assert store.read("feed/a/b") == data
    store.write_volatile("feed/a/b", b"newer")
    store.write_volatile("feed/a/c", data)
    assert store.read("feed/a/b") == b"newer"
    assert store.list("feed/") == ["feed/a/b", "feed/a/c"]
    assert store.list("") == ["feed/a/b", "feed/a/c"]  # no temp file left behind


@pytest.mark.parametrize("data", [b"", b"value"])
def test_write_volatile_refuses_a_key_that_is_also_a_folder(tmp_path: Path, data: bytes) -> None:
    store = LocalStore(tmp_path)
    store.write("a/b", b"x")
    with pytest.raises(InvalidKeyError, match="part of it is a value"):
        store.write_volatile("a/b/c", data)
    with pytest.raises(InvalidKeyError, match="folder of other keys"):
        store.write_volatile("a", data)
    with pytest.raises(InvalidKeyError):
        store.write_volatile("../escape", data)
    assert store.list("") == ["a/b"]
