"""Per-model append-only event logs on a store, folded into cached states.

Layout under the store (``<name>`` is a validated model name)::

    models/_index/<name>                    marker: the model exists (written before event 1)
    models/<name>/log/<seq:012d>.json       event <seq>, written with an exclusive create
    models/<name>/snapshots/<seq:012d>.json the fold of events 1..<seq>

Reading a model costs one snapshot read plus at most ``snapshot_every`` event reads, whatever the
length of its history; a cached state costs one failed read of the next event (the freshness check).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard.errors import IntegrityError, KeyExistsError, NotFoundError
from modelyard.registry._state import ModelState, apply, state_from_json, state_to_json
from modelyard.storage import Store

__all__ = ["EventLog"]

ROOT = "models"
INDEX = f"{ROOT}/_index/"


def log_key(name: str, seq: int) -> str:
    return f"{ROOT}/{name}/log/{seq:012d}.json"


def snapshot_prefix(name: str) -> str:
    return f"{ROOT}/{name}/snapshots/"


class EventLog:
    """Reads and appends model event logs; caches folded states (thread-safe)."""

    def __init__(self, store: Store, *, snapshot_every: int = 32) -> None:
        self.store = store
        self.snapshot_every = snapshot_every
        self._cache: dict[str, ModelState] = {}
        self._lock = threading.Lock()

    # -- reads -----------------------------------------------------------------------------------

    def state(self, name: str) -> ModelState:
        """The current state of ``name`` (``head == 0`` if it has no events)."""
        with self._lock:
            cached = self._cache.get(name)
        state = cached if cached is not None else self._load_snapshot(name)
        state = self._roll_forward(state)
        if cached is None or state.head > cached.head:
            self._remember(state)
        return state

    def cached(self, name: str) -> ModelState | None:
        """The last state this object saw for ``name``, without checking it is current."""
        with self._lock:
            return self._cache.get(name)

    def _load_snapshot(self, name: str) -> ModelState:
        for key in reversed(self.store.list(snapshot_prefix(name))):
            try:
                return state_from_json(json.loads(self.store.read(key)))
            except NotFoundError:
                continue
        return ModelState(name)

    def _roll_forward(self, state: ModelState) -> ModelState:
        while True:
            try:
                raw = self.store.read(log_key(state.name, state.head + 1))
            except NotFoundError:
                return state
            state = apply(state, self._parse(state.name, state.head + 1, raw))

    def _parse(self, name: str, seq: int, raw: bytes) -> Mapping[str, Any]:
        try:
            event: Mapping[str, Any] = json.loads(raw)
        except ValueError as exc:
            raise IntegrityError(
                f"event {seq} of model {name!r} is not valid JSON; the log is damaged",
                model=name,
                seq=seq,
            ) from exc
        return event

    def events(self, name: str) -> Iterator[Mapping[str, Any]]:
        """Every event of ``name``, oldest first (reads the whole log: for audit queries)."""
        seq = 1
        while True:
            try:
                raw = self.store.read(log_key(name, seq))
            except NotFoundError:
                return
            yield self._parse(name, seq, raw)
            seq += 1

    def names(self) -> list[str]:
        """Names with an index marker (a marker whose first event never landed is included)."""
        return [key[len(INDEX) :] for key in self.store.list(INDEX)]

    # -- writes ----------------------------------------------------------------------------------

    def append(self, state: ModelState, event: dict[str, Any]) -> ModelState:
        """Create event ``state.head + 1``; :class:`KeyExistsError` if another writer got there."""
        seq = state.head + 1
        event["seq"] = seq
        new_state = apply(state, event)  # validates the event before anything is written
        if seq == 1:
            try:
                self.store.create(INDEX + state.name, b"")
            except KeyExistsError:
                pass
        self.store.create(log_key(state.name, seq), canonical_json(event))
        self._remember(new_state)
        if seq % self.snapshot_every == 0:
            self._snapshot(new_state)
        return new_state

    def _snapshot(self, state: ModelState) -> None:
        key = f"{snapshot_prefix(state.name)}{state.head:012d}.json"
        try:
            self.store.create(key, canonical_json(state_to_json(state)))
        except KeyExistsError:
            pass  # another writer folded the same events into the same bytes

    def _remember(self, state: ModelState) -> None:
        with self._lock:
            cached = self._cache.get(state.name)
            if cached is None or state.head > cached.head:
                self._cache[state.name] = state
