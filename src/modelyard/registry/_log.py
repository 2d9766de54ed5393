"""Per-model append-only event logs on a store, folded into cached states.

Keys are built in ``_layout.py``; how events chain is in ``_chain.py``, how snapshots are checked
in ``_snapshots.py``, how names are claimed in ``_names.py``.

Reading a model costs one listing of its snapshots, the newest snapshot that matches the chain and
the event it was taken after, at most ``snapshot_every`` more events, and one lookup past the end
(to tell the end of the log from a hole). A cached state costs one failed read of the next event
(the freshness check); when events were added, the one lookup past the end again.

A writer checks, before it creates event ``k``, that event ``k + 1`` does not exist: if it does,
``k`` was removed from the middle of the log, and writing would fill the hole with a different
event. The check costs one lookup per event and cannot race with honest writers, because event
``k + 1`` is only ever created after event ``k``. A writer's first read of a model also lists its
log, which finds a hole of any length; reads list it only when a snapshot lies past the end, so
that their cost stays bounded whatever the length of the log.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Protocol, TypeVar

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import IntegrityError, KeyExistsError, NotFoundError
from modelyard.registry._chain import hole_error, link
from modelyard.registry._countersign import changed, check_event, check_newest, sign
from modelyard.registry._events import Event, ModelIdentity, parse_event
from modelyard.registry._layout import INDEX, log_key, log_prefix, seq_of, snapshot_key
from modelyard.registry._names import NameClaims
from modelyard.registry._snapshots import encode_snapshot, load_snapshot
from modelyard.registry._state import ModelState
from modelyard.storage import Store

__all__ = ["EventLog"]

E = TypeVar("E", bound=Event)


class Announcer(Protocol):
    """Told of each event just before it is created (the feed's markers)."""

    def mark(self, name: str, event: Event) -> None: ...

    def unmark(self, name: str, event: Event) -> None: ...


class EventLog:
    """Reads and appends model event logs; caches folded states (thread-safe)."""

    def __init__(
        self,
        store: Store,
        *,
        snapshot_every: int = 32,
        protected: Callable[[str], frozenset[str]] | None = None,
    ) -> None:
        self.store = store
        self.snapshot_every = snapshot_every
        # The protected stages of a model (see _countersign.py); asked only when events are read.
        self._protected = protected if protected is not None else _nothing_protected
        self.claims = NameClaims(store)
        self._cache: dict[str, ModelState] = {}
        self._listed: set[str] = set()
        self._lock = threading.Lock()

    # -- reads -----------------------------------------------------------------------------------

    def state(self, name: str, *, listing: bool = False) -> ModelState:
        """The current state of ``name`` (``head == 0`` if it has no events).

        Raises :class:`~modelyard.errors.IntegrityError` naming the file if the log was edited,
        has a hole, or holds an event of another model. ``listing=True`` lists the log on the
        first read of ``name``, which finds a hole of any length (writers ask for it).
        """
        with self._lock:
            cached = self._cache.get(name)
        if cached is None:
            state = self._cold(name, listing=listing)
        else:
            state = self._read_on(cached)
            if state.head > cached.head:
                state = self._to_end(state)
        if cached is None or state.head > cached.head:
            self._remember(state)
        return state

    def cached(self, name: str) -> ModelState | None:
        """The last state this object saw for ``name``, without checking it is current."""
        with self._lock:
            return self._cache.get(name)

    def events(self, name: str) -> list[Event]:
        """Every event of ``name``, oldest first, checked along the chain (reads the whole log:
        for audit queries)."""
        events: list[Event] = []
        # A listing finds a hole of any length; reading the whole log costs as much anyway.
        self._to_end(self._read_on(ModelState(name), events), events, listing=True)
        return events

    def names(self) -> list[str]:
        """Names with an index entry (a model whose first event never landed is included)."""
        names = [key[len(INDEX) :] for key in self.store.list(INDEX)]
        with self._lock:
            self._listed.update(names)
        return names

    def _cold(self, name: str, *, listing: bool) -> ModelState:
        start, past_end = load_snapshot(self.store, name)
        state = self._read_on(start)
        # A snapshot past the end means a planted file, or events removed from the middle:
        # only a listing of the log tells which.
        state = self._to_end(state, listing=listing or past_end > state.head)
        if state.head and state.model_id is None:
            self._require_listed(name)
        if state.head:
            # A snapshot is taken on trust from whoever wrote its event: the holders of a
            # protected stage must also be those its newest countersign names.
            for stage in sorted(self._protected(name)):
                check_newest(self.store, state, stage, lambda seq: self._digest_at(state, seq))
        return state

    def _digest_at(self, state: ModelState, seq: int) -> str | None:
        if seq == state.head:
            return state.head_digest
        try:
            return digest_bytes(self.store.read(log_key(state.name, seq)))
        except NotFoundError:
            return None

    def _read_on(self, state: ModelState, sink: list[Event] | None = None) -> ModelState:
        """Fold the events after ``state.head`` up to the first missing one."""
        protected: frozenset[str] | None = None
        while (step := self._next(state)) is not None:
            before, (state, event, digest) = state, step
            if protected is None:
                protected = self._protected(state.name)
            for stage in changed(before, state, protected):
                check_event(self.store, state, stage, state.head, digest)
            if sink is not None:
                sink.append(event)
        return state

    def replay(self, name: str) -> Iterator[tuple[ModelState, ModelState, str]]:
        """Every event of ``name`` from the first, as ``(state before, state after, digest of
        its bytes)``, checked along the chain but not against countersigns (to write them)."""
        state = ModelState(name)
        while (step := self._next(state)) is not None:
            before, (state, _, digest) = state, step
            yield before, state, digest
        self._to_end(state, listing=True)

    def _next(self, state: ModelState) -> tuple[ModelState, Event, str] | None:
        """Event ``state.head + 1`` checked along the chain and folded in (with the event and
        the digest of its bytes), or None if there is none."""
        key = log_key(state.name, state.head + 1)
        try:
            raw = self.store.read(key)
        except NotFoundError:
            return None
        event, digest = parse_event(raw, key), digest_bytes(raw)
        return link(state, event, key, digest), event, digest

    def _to_end(
        self, state: ModelState, sink: list[Event] | None = None, *, listing: bool = False
    ) -> ModelState:
        """``state`` read on to the end of the log; IntegrityError if it stops at a hole."""
        while True:
            later = self._later_event(state.name, state.head + 1, listing=listing)
            if later is None:
                return state
            # A writer may have filled the gap since it was read; a hole stays empty.
            advanced = self._read_on(state, sink)
            if advanced.head == state.head:
                raise hole_error(log_key(state.name, state.head + 1), later)
            state = advanced

    def _later_event(self, name: str, missing: int, *, listing: bool) -> str | None:
        key = log_key(name, missing + 1)
        if self.store.exists(key):
            return key
        if listing:
            prefix = log_prefix(name)
            for key in self.store.list(prefix):
                seq = seq_of(key, prefix)
                if seq is not None and seq > missing:
                    return key
        return None

    def _require_listed(self, name: str) -> None:
        """A log written before the chain names no model: its name must be in the index."""
        with self._lock:
            if name in self._listed:
                return
        if self.claims.listed(name):
            with self._lock:
                self._listed.add(name)
            return
        alike = self.claims.listed_alike(name)
        if alike:
            raise NotFoundError(
                f"no model named {name!r}: its folder is the one of model {alike[0]!r}, because "
                f"model names are unique ignoring case and Unicode form. Use {alike[0]!r}",
                name=name,
                available=alike,
                existing=alike[0],
            )
        raise IntegrityError(
            f"{log_prefix(name)} holds events, but {name!r} is not in the registry's index "
            f"({INDEX}): the folder was copied or moved by hand. A model cannot be renamed by "
            "copying its folder; register its versions under the new name instead",
            key=INDEX + name,
            model=name,
        )

    # -- writes ----------------------------------------------------------------------------------

    def append(
        self,
        state: ModelState,
        event: E,
        *,
        protected: frozenset[str] = frozenset(),
        announce: Announcer | None = None,
    ) -> tuple[ModelState, E]:
        """Create event ``state.head + 1`` from ``event``; return the new state and the event as
        stored. :class:`KeyExistsError` if another writer got there first.

        If the event changes who holds a stage of ``protected``, its countersign is created
        first (see ``_countersign.py``). ``announce`` is told of the event just before it is
        created, and told to withdraw that if the create loses the race (see ``_feed.py``)."""
        name, seq = state.name, state.head + 1
        model_id = state.model_id
        if model_id is None:  # the model's first chained event: claim the name, fix the id
            self.claims.claim(name)
            model_id = secrets.token_hex(16)
        sealed = event.sealed(seq=seq, model=ModelIdentity(name, model_id), prev=state.head_digest)
        snapshot = None
        # After a log written before the chain, snapshot at once: its old snapshots are unusable.
        if seq % self.snapshot_every == 0 or (state.model_id is None and seq > self.snapshot_every):
            new_state = sealed.apply(state)  # validates the event before anything is written
            snapshot = encode_snapshot(new_state)
            sealed = replace(sealed, snapshot=digest_bytes(snapshot))
            raw = canonical_json(sealed.to_json())
            new_state = replace(new_state, head_digest=digest_bytes(raw))
        else:
            raw = canonical_json(sealed.to_json())
            new_state = sealed.apply(state, digest=digest_bytes(raw))  # validates it, too
        self._refuse_hole(name, seq)
        for stage in changed(state, new_state, protected):
            assert new_state.head_digest is not None
            sign(self.store, new_state, stage, seq, new_state.head_digest)
        if seq == 1:
            try:
                self.store.create(INDEX + name, b"")
            except KeyExistsError:
                pass
        if announce is not None:
            announce.mark(name, sealed)
        try:
            self.store.create(log_key(name, seq), raw)
        except KeyExistsError:
            if announce is not None:
                announce.unmark(name, sealed)
            raise
        self._remember(new_state)
        if snapshot is not None:
            try:
                self.store.create(snapshot_key(name, seq), snapshot)
            except KeyExistsError:
                pass  # a file planted there: readers skip it, verify() reports it
        return new_state, sealed

    def _refuse_hole(self, name: str, seq: int) -> None:
        later = self._later_event(name, seq, listing=False)
        if later is None:
            return
        key = log_key(name, seq)
        if self.store.exists(key):  # lost a race: the caller re-reads and decides again
            raise KeyExistsError(f"key {key!r} already exists", key=key)
        raise hole_error(key, later)

    def _remember(self, state: ModelState) -> None:
        with self._lock:
            cached = self._cache.get(state.name)
            if cached is None or state.head > cached.head:
                self._cache[state.name] = state


def _nothing_protected(name: str) -> frozenset[str]:
    return frozenset()
