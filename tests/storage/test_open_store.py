"""open_store, register_store, store plugins and key validation."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import InputError, InvalidKeyError, PluginError, UnsupportedURLError
from modelyard.storage import (
    FsspecStore,
    LocalStore,
    MemoryStore,
    StorePluginWarning,
    open_store,
    register_store,
    registered_stores,
    validate_key,
    validate_prefix,
)
from modelyard.storage import _open as open_module


def test_paths_and_file_urls_open_a_local_store(tmp_path: Path) -> None:
    assert open_store(str(tmp_path / "a")) == LocalStore(tmp_path / "a")
    assert open_store(tmp_path / "b") == LocalStore(tmp_path / "b")
    assert open_store(f"file://{tmp_path / 'c'}") == LocalStore(tmp_path / "c")


def test_memory_urls_name_one_store_per_process() -> None:
    first = open_store("memory://shared-name")
    first.write("k", b"v")
    assert open_store("memory://shared-name") is first
    assert open_store("memory://other-name").list() == []


def test_a_store_is_returned_as_it_is() -> None:
    store = MemoryStore()
    assert open_store(store) is store


@pytest.mark.s3
def test_fsspec_schemes_open_an_fsspec_store() -> None:
    pytest.importorskip("s3fs", minversion="2024.12.0")
    store = open_store("s3://bucket/prefix", endpoint_url="http://127.0.0.1:1")
    assert isinstance(store, FsspecStore)
    assert store.capabilities.atomic_create


def test_an_s3fs_without_conditional_writes_is_not_trusted() -> None:
    from modelyard.storage._fsspec import _has_conditional_put

    class OldS3FS:  # before 2024.12, pipe_file had no mode and silently overwrote
        async def _pipe_file(self, path: str, data: bytes, chunksize: int = 1, **kw: Any) -> None:
            pass

    class NewS3FS:
        async def _pipe_file(self, path: str, data: bytes, mode: str = "overwrite") -> None:
            pass

    assert not _has_conditional_put(OldS3FS())
    assert _has_conditional_put(NewS3FS())


def test_a_filesystem_without_atomic_create_says_so(tmp_path: Path) -> None:
    # fsspec's "reference"-free generic filesystems only check, then write.
    pytest.importorskip("fsspec.implementations.dirfs")
    store = FsspecStore(f"dir::file://{tmp_path}")
    assert not store.capabilities.atomic_create


def test_unknown_schemes_are_refused_with_what_is_available() -> None:
    with pytest.raises(UnsupportedURLError) as info:
        open_store("nosuchscheme://x")
    assert info.value.scheme == "nosuchscheme"
    assert "memory" in info.value.available
    assert "register_store" in str(info.value)
    with pytest.raises(InputError):
        open_store("")
    with pytest.raises(InputError):
        open_store(42)  # type: ignore[arg-type]


def test_register_store_refuses_to_clobber_unless_asked() -> None:
    register_store("unit-test-scheme", lambda url, **options: MemoryStore())
    with pytest.raises(InputError, match="clobber"):
        register_store("unit-test-scheme", lambda url, **options: MemoryStore())
    marker = MemoryStore()
    register_store("unit-test-scheme", lambda url, **options: marker, clobber=True)
    assert open_store("unit-test-scheme://anything") is marker
    view = registered_stores()
    assert "unit-test-scheme" in view
    with pytest.raises(TypeError):
        view["x"] = lambda url: marker  # type: ignore[index]
    with pytest.raises(InputError):
        register_store("bad scheme", lambda url: marker)


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, entries: list[Any]) -> None:
    real = importlib.metadata.entry_points

    def entry_points(**kwargs: Any) -> Any:
        if kwargs.get("group") == "modelyard.stores":
            return entries
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(open_module, "_plugins_loaded", False)
    monkeypatch.setattr(open_module, "_factories", dict(open_module._factories))


def test_plugins_load_lazily_and_a_broken_one_only_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    good = importlib.metadata.EntryPoint(
        name="plugged", value="tests.storage.plugin_factory:open_plugged", group="modelyard.stores"
    )
    broken = importlib.metadata.EntryPoint(
        name="broken", value="no_such_module_anywhere:factory", group="modelyard.stores"
    )
    _fake_entry_points(monkeypatch, [good, broken])
    store = open_store("plugged://x")
    assert isinstance(store, MemoryStore)
    with (
        pytest.warns(StorePluginWarning, match="broken"),
        pytest.raises(PluginError, match="no_such_module_anywhere"),
    ):
        open_store("broken://x")
    # The good plugin keeps working after the broken one failed.
    assert isinstance(open_store("plugged://y"), MemoryStore)


def test_import_modelyard_never_reads_plugins() -> None:
    code = (
        "import modelyard, modelyard.storage, modelyard.storage._open as o;"
        "before = o._plugins_loaded; modelyard.storage.open_store('memory://x');"
        "after_builtin = o._plugins_loaded; modelyard.storage.registered_stores();"
        "print(before, after_builtin, o._plugins_loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # Entry points are read on the first lookup of a scheme, not at import.
    assert result.stdout.split() == ["False", "False", "True"]


@pytest.mark.parametrize(
    "key",
    ["a", "a/b/c.json", "models/churn/log/000000000001.json", "ünïcode/ключ", "a b", "x" * 255],
)
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "/a", "a/", "a//b", "..", "a/..", "./a", "a\x00", "a\x7f", "a\\b", "x" * 256, "é" * 200],
)
def test_invalid_keys(key: str) -> None:
    with pytest.raises(InvalidKeyError) as info:
        validate_key(key)
    assert info.value.key == key and info.value.reason


def test_prefixes_may_end_with_a_slash() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("a/b/") == "a/b/"
    with pytest.raises(InvalidKeyError):
        validate_prefix("a//")


def test_create_false_never_makes_a_local_folder(tmp_path: Path) -> None:
    from modelyard.errors import NotFoundError

    for target in (tmp_path / "a", str(tmp_path / "b"), f"file://{tmp_path / 'c'}"):
        with pytest.raises(NotFoundError, match="create=False"):
            open_store(target, create=False)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "d").mkdir()
    assert open_store(tmp_path / "d", create=False) == LocalStore(tmp_path / "d")
    # Other stores create nothing when opened, and take the option without complaint.
    assert isinstance(open_store("memory://create-false", create=False), MemoryStore)


def test_a_url_missing_a_slash_is_not_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="'s3://bucket/yard'"):
        open_store("s3:/bucket/yard")
    assert list(tmp_path.iterdir()) == []
