"""The example store from docs/storage.md passes the conformance suite, as any store should."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.storage import Store, open_store, register_store
from modelyard.testing import StoreConformance

from .sqlite_store import SQLiteStore


class TestSQLiteStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return SQLiteStore(tmp_path / "store.db")


def test_registered_scheme_opens_the_custom_store(tmp_path: Path) -> None:
    register_store("sqlite", lambda url, **options: SQLiteStore(url.removeprefix("sqlite://")))
    store = open_store(f"sqlite://{tmp_path / 'x.db'}")
    assert isinstance(store, SQLiteStore)
    store.create("a", b"1")
    assert open_store(f"sqlite://{tmp_path / 'x.db'}").read("a") == b"1"
