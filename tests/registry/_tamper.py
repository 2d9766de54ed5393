"""What an attacker or an unlucky operator does to registry files; a case-insensitive store."""

from __future__ import annotations

import builtins
import json
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.storage import MemoryStore, Store


def event_key(name: str, seq: int) -> str:
    return f"models/{name}/log/{seq:012d}.json"


def snapshot_key(name: str, seq: int) -> str:
    return f"models/{name}/snapshots/{seq:012d}.json"


def read_json(store: Store, key: str) -> Any:
    return json.loads(store.read(key))


def edit_json(store: Store, key: str, change: Any) -> None:
    """Rewrite the JSON under ``key`` with ``change(doc)`` applied, as a hand edit would."""
    doc = read_json(store, key)
    change(doc)
    store.write(key, canonical_json(doc))


def rechain(store: Store, name: str, start: int) -> None:
    """Fix up every ``prev`` from event ``start`` on, as a careful forger would after an edit."""
    seq = start
    while store.exists(event_key(name, seq)):
        previous = digest_bytes(store.read(event_key(name, seq - 1)))
        edit_json(store, event_key(name, seq), lambda doc, prev=previous: doc.update(prev=prev))
        seq += 1


class CaseInsensitiveStore(MemoryStore):
    """Keys that differ only in case are one key, spelled as first created: macOS and Windows.

    Listing a folder spelled another way lists the same entries under the spelling asked for, as
    ``os.scandir`` does on those systems.
    """

    def __init__(self) -> None:
        super().__init__()
        self._spelling: dict[str, str] = {}

    def _canon(self, key: str) -> str:
        parts = key.split("/")
        for end in range(len(parts), 0, -1):
            known = self._spelling.get("/".join(parts[:end]).lower())
            if known is not None:
                return "/".join([known, *parts[end:]])
        return key

    def _remember(self, key: str) -> None:
        parts = key.split("/")
        for end in range(1, len(parts) + 1):
            self._spelling.setdefault("/".join(parts[:end]).lower(), "/".join(parts[:end]))

    def read(self, key: str) -> bytes:
        return super().read(self._canon(key))

    def exists(self, key: str) -> bool:
        return super().exists(self._canon(key))

    def delete(self, key: str) -> None:
        super().delete(self._canon(key))

    def write(self, key: str, data: Any) -> None:
        key = self._canon(key)
        super().write(key, data)
        self._remember(key)

    def create(self, key: str, data: Any) -> None:
        key = self._canon(key)
        super().create(key, data)
        self._remember(key)

    def list(self, prefix: str = "") -> builtins.list[str]:
        folder, slash, _ = prefix.rpartition("/")
        if not slash:
            return super().list(prefix)
        real = self._canon(folder)
        asked = (folder + key[len(real) :] for key in super().list(real + "/"))
        return sorted(key for key in asked if key.startswith(prefix))
