"""The conformance suite catches every broken rule that the artifacts and the registry rely on.

Each store below is the correct MemoryStore with one rule broken. The whole suite runs against it,
as it would in a backend author's test module, and the check for that rule must fail; the correct
store passes every check, so a check that fails for everything proves nothing and is caught too.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from typing import Any

import pytest

from modelyard.errors import InvalidKeyError, KeyExistsError, NotFoundError
from modelyard.storage import Data, MemoryStore, iter_chunks, join_chunks
from modelyard.testing import StoreConformance

SUITE = StoreConformance()
CHECKS = sorted(name for name in dir(StoreConformance) if name.startswith("test_"))


def _runs(name: str) -> list[dict[str, Any]]:
    """The keyword arguments of every parametrized run of one check."""
    runs: list[dict[str, Any]] = [{}]
    for mark in getattr(getattr(StoreConformance, name), "pytestmark", []):
        if mark.name == "parametrize":
            argname, values = mark.args
            runs = [{**run, argname: value} for run in runs for value in values]
    return runs


def failing_checks(make_store: Callable[[], Any]) -> dict[str, str]:
    """Run the whole suite on fresh stores from ``make_store``; the checks that fail, and why."""
    failed: dict[str, str] = {}
    for name in CHECKS:
        for kwargs in _runs(name):
            try:
                getattr(SUITE, name)(make_store(), **kwargs)
            except pytest.skip.Exception:
                continue
            except (Exception, pytest.fail.Exception) as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"[:300]
                break
    return failed


# -- one broken rule per store ---------------------------------------------------------------


class FoldersAreKeys(MemoryStore):
    """A dict that lets "a" hold a value and be the folder of "a/b", yet claims folder rules."""

    def _check_tree(self, key: str) -> None:
        pass


class ListsInInsertionOrder(MemoryStore):
    def list(self, prefix: str = "") -> builtins.list[str]:
        super().list(prefix)  # validates
        return [key for key in self._data if key.startswith(prefix)]


class ListsInUtf16Order(MemoryStore):
    """Sorts as a Java or SQL-collation backend might: by UTF-16 code units."""

    def list(self, prefix: str = "") -> builtins.list[str]:
        return sorted(super().list(prefix), key=lambda key: key.encode("utf-16-be"))


class ListsFolders(MemoryStore):
    """Lists folders too, as a filesystem walk with directories would."""

    def list(self, prefix: str = "") -> builtins.list[str]:
        keys = set(super().list(prefix))
        folders = {key.rsplit("/", 1)[0] + "/" for key in keys if "/" in key}
        return sorted(keys | {f for f in folders if f.startswith(prefix)})


class PrefixIsAFolder(MemoryStore):
    """Takes a prefix for a folder: list("a/b") misses "a/bc" (S3 would include it)."""

    def list(self, prefix: str = "") -> builtins.list[str]:
        keys = super().list(prefix)
        if prefix and not prefix.endswith("/"):
            return [key for key in keys if key == prefix or key.startswith(prefix + "/")]
        return keys


class LaxKeys(MemoryStore):
    """Checks keys with a rule of its own that misses control characters, backslashes, lengths."""

    @staticmethod
    def _lax(key: Any) -> None:
        if not isinstance(key, str) or not key or key.startswith("/") or ".." in key.split("/"):
            raise InvalidKeyError(f"bad key {key!r}", key=key, reason="lax")

    def read(self, key: str) -> bytes:
        self._lax(key)
        try:
            return self._data[key]
        except KeyError:
            raise NotFoundError(f"no value under key {key!r}", key=key) from None

    def write(self, key: str, data: Data) -> None:
        self._lax(key)
        self._data[key] = join_chunks(data)

    def create(self, key: str, data: Data) -> None:
        self._lax(key)
        with self._lock:
            if key in self._data:
                raise KeyExistsError(f"key {key!r} exists", key=key)
            self._data[key] = join_chunks(data)

    def exists(self, key: str) -> bool:
        self._lax(key)
        return key in self._data

    def delete(self, key: str) -> None:
        self._lax(key)
        if self._data.pop(key, None) is None:
            raise NotFoundError(f"no value under key {key!r}", key=key)


class UncheckedPrefixes(MemoryStore):
    """Lists any prefix, even "/abs" or "a//"."""

    def list(self, prefix: str = "") -> builtins.list[str]:
        return sorted(key for key in self._data if key.startswith(str(prefix)))


class TooStrictKeys(MemoryStore):
    """Refuses valid keys with spaces or non-ASCII characters."""

    def write(self, key: str, data: Data) -> None:
        self._strict(key)
        super().write(key, data)

    def create(self, key: str, data: Data) -> None:
        self._strict(key)
        super().create(key, data)

    @staticmethod
    def _strict(key: str) -> None:
        if not key.isascii() or " " in key:
            raise InvalidKeyError(f"bad key {key!r}", key=key, reason="strict")


class ReadsFolders(MemoryStore):
    """Answers for a folder as if it held an empty value."""

    def read(self, key: str) -> bytes:
        if key in self._folders:
            return b""
        return super().read(key)

    def exists(self, key: str) -> bool:
        return super().exists(key) or key in self._folders


class SilentDelete(MemoryStore):
    """Deletes a missing key without a word, as S3 does."""

    def delete(self, key: str) -> None:
        try:
            super().delete(key)
        except NotFoundError:
            pass


class DeletesByPrefix(MemoryStore):
    def delete(self, key: str) -> None:
        super().delete(key)
        for other in self.list(key):
            super().delete(other)


class StoresPartOfAStream(MemoryStore):
    """Stores a stream's chunks as they arrive: a source that fails leaves a part behind."""

    def write(self, key: str, data: Data) -> None:
        super().write(key, b"")
        with self._lock:
            for chunk in iter_chunks(data):
                self._data[key] += bytes(chunk)

    def create(self, key: str, data: Data) -> None:
        super().create(key, b"")
        with self._lock:
            for chunk in iter_chunks(data):
                self._data[key] += bytes(chunk)


class CreateOverwrites(MemoryStore):
    def create(self, key: str, data: Data) -> None:
        self.write(key, data)


class WriteKeepsTheFirstValue(MemoryStore):
    def write(self, key: str, data: Data) -> None:
        if not self.exists(key):
            super().write(key, data)


class ReadReturnsABytearray(MemoryStore):
    def read(self, key: str) -> bytes:
        return bytearray(super().read(key))  # type: ignore[return-value]


class CheckThenCreate(MemoryStore):
    """Checks, then writes: two racing creates can both win."""

    def create(self, key: str, data: Data) -> None:
        if self.exists(key):
            raise KeyExistsError(f"key {key!r} exists", key=key)
        time.sleep(0.001)  # the gap between the check and the write that a real backend has
        super().write(key, data)


BROKEN = [
    (FoldersAreKeys, "test_a_key_and_a_folder_of_the_same_name"),
    (ListsInInsertionOrder, "test_list_is_sorted_by_code_point"),
    (ListsInUtf16Order, "test_list_is_sorted_by_code_point"),
    (ListsFolders, "test_list_by_prefix_is_complete_and_exact"),
    (PrefixIsAFolder, "test_list_by_prefix_is_complete_and_exact"),
    (LaxKeys, "test_invalid_keys_raise_and_write_nothing"),
    (UncheckedPrefixes, "test_invalid_keys_raise_and_write_nothing"),
    (TooStrictKeys, "test_valid_keys_are_accepted_as_they_are"),
    (ReadsFolders, "test_a_folder_is_not_a_key"),
    (SilentDelete, "test_missing_keys_raise_not_found"),
    (DeletesByPrefix, "test_delete"),
    (StoresPartOfAStream, "test_a_failing_stream_stores_nothing"),
    (CreateOverwrites, "test_create_is_exclusive"),
    (WriteKeepsTheFirstValue, "test_write_replaces"),
    (ReadReturnsABytearray, "test_write_then_read"),
    (CheckThenCreate, "test_threads_racing_create_have_one_winner"),
]


@pytest.mark.parametrize(("store_class", "check"), BROKEN, ids=[c.__name__ for c, _ in BROKEN])
def test_the_suite_catches_a_broken_rule(store_class: type[MemoryStore], check: str) -> None:
    failed = failing_checks(store_class)
    assert check in failed, f"{store_class.__name__} passed {check}; failures: {failed}"


def test_the_correct_store_passes_every_check() -> None:
    assert failing_checks(MemoryStore) == {}


def test_a_flat_store_that_says_so_passes() -> None:
    # Keys that are not paths (S3, a table) are fine, if the store says so and keeps the two
    # values apart.
    from modelyard.storage import StoreCapabilities

    class Flat(FoldersAreKeys):
        @property
        def capabilities(self) -> StoreCapabilities:
            return StoreCapabilities(
                atomic_create=True,
                atomic_write=True,
                shared_across_processes=False,
                durable=False,
                hierarchical_keys=False,
            )

    assert failing_checks(Flat) == {}


def test_failing_checks_sees_a_failure_inside_a_check() -> None:
    # The harness itself: an exception in a store surfaces as a failed check.
    class Broken(MemoryStore):
        def read(self, key: str) -> bytes:
            raise RuntimeError("boom")

    assert "test_write_then_read" in failing_checks(Broken)
