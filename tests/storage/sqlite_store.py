"""An example third-party store: every value is a row of one SQLite table.

This is the store that ``docs/storage.md`` walks through. It passes the same conformance suite as
the built-in stores (see ``test_custom_store.py``).
"""

from __future__ import annotations

import io
import sqlite3
import threading
from pathlib import Path
from typing import Any, BinaryIO

from modelyard.errors import KeyExistsError, NotFoundError
from modelyard.storage import Data, StoreCapabilities, join_chunks, validate_key, validate_prefix


class SQLiteStore:
    """Keys and values in a SQLite file; safe for threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()  # sqlite3 connections must not cross threads
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            # A generous busy timeout: racing writers wait for the lock instead of failing.
            db = self._local.db = sqlite3.connect(self.path, timeout=60)
        return db

    def __reduce__(self) -> tuple[Any, ...]:
        return (SQLiteStore, (self.path,))  # child processes reopen the file

    @property
    def capabilities(self) -> StoreCapabilities:
        # INSERT into a PRIMARY KEY column is atomic and exclusive; transactions are all or nothing.
        # Keys are rows, not paths: "a" and "a/b" are two independent keys, as on S3.
        return StoreCapabilities(
            atomic_create=True,
            atomic_write=True,
            shared_across_processes=True,
            durable=True,
            hierarchical_keys=False,
        )

    def read(self, key: str) -> bytes:
        validate_key(key)
        row = self._connect().execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotFoundError(f"no value under key {key!r}", key=key)
        return bytes(row[0])

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.read(key))

    def write(self, key: str, data: Data) -> None:
        validate_key(key)
        value = join_chunks(data)
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))

    def create(self, key: str, data: Data) -> None:
        validate_key(key)
        value = join_chunks(data)
        try:
            with self._connect() as db:
                db.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (key, value))
        except sqlite3.IntegrityError:
            raise KeyExistsError(f"key {key!r} already exists", key=key) from None

    def exists(self, key: str) -> bool:
        validate_key(key)
        query = "SELECT 1 FROM kv WHERE key = ?"
        return self._connect().execute(query, (key,)).fetchone() is not None

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        rows = self._connect().execute(
            "SELECT key FROM kv WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix)
        )
        return sorted(row[0] for row in rows)  # Python's order, not SQLite's collation

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._connect() as db:
            if db.execute("DELETE FROM kv WHERE key = ?", (key,)).rowcount == 0:
                raise NotFoundError(f"no value under key {key!r}", key=key)
