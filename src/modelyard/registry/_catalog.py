"""The yard's catalog: a compact summary of every model's versions, so that search need not fold
every model's log.

The logs stay the source of truth; the catalog is only an index. It is one document
(``catalog/catalog.json``, see ``_layout.py``): a header line with its ``schema_version``, the
feed cursor it is current to and the sha256 of the body, then the body, one row per model
(name, head, model tags, aliases, and per version: number, state, created_at, deleted, tags,
metrics). A reader brings it up to date by reading the feed after its cursor and re-reading the
head of every model the feed names, so a row is always a fold of the log, never of the feed's
events. A catalog that is missing, of another schema, or whose body does not hash to its header
is rebuilt from the logs (a full scan), never used; and search returns versions read from the
logs of the models the catalog selects, so the catalog can narrow a search but not change what
it returns.

It is rewritten when a reader brought it forward (at most every ``REWRITE_EVERY`` seconds for a
long-lived reader), best effort: a reader that may not write keeps its copy in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from modelyard.errors import IntegrityError, ModelyardError, NotFoundError
from modelyard.registry._cursor import Cursor
from modelyard.registry._feed import LOOKBACK, Feed, Marker
from modelyard.registry._layout import CATALOG, marker_at
from modelyard.registry._log import EventLog
from modelyard.registry._search import metrics_match
from modelyard.registry._state import ModelState

__all__ = ["SCHEMA_VERSION", "Catalog", "Filters", "ModelRow"]

logger = logging.getLogger("modelyard.registry")

SCHEMA_VERSION = 1

#: How often a long-lived reader that keeps bringing the catalog forward stores it again.
REWRITE_EVERY = 30.0

# One version in a row: (number, state, created_at in epoch microseconds or None, deleted, tags,
# metrics). Tuples, not objects: a catalog of 100,000 versions loads in tens of milliseconds.
VersionRow = tuple[int, str, "int | None", bool, Mapping[str, str], Mapping[str, float]]


@dataclass(frozen=True)
class ModelRow:
    """What the catalog knows of one model, as of its event ``head``."""

    name: str
    head: int
    tags: Mapping[str, str]
    aliases: Mapping[str, int]
    versions: tuple[VersionRow, ...]

    @classmethod
    def of(cls, state: ModelState) -> ModelRow:
        return cls(
            name=state.name,
            head=state.head,
            tags=dict(state.tags),
            aliases=state.all_aliases(),
            versions=tuple(
                (
                    v.version,
                    v.state,
                    _micros(v.created_at),
                    v.deleted,
                    dict(v.tags),
                    dict(v.metrics),
                )
                for _, v in sorted(state.versions.items())
            ),
        )

    def to_json(self) -> list[Any]:
        return [
            self.name,
            self.head,
            self.tags,
            self.aliases,
            [[n, s, c, int(d), t, m] for n, s, c, d, t, m in self.versions],
        ]

    @classmethod
    def from_json(cls, row: Any) -> ModelRow:
        name, head, tags, aliases, versions = row
        if not (
            isinstance(name, str)
            and isinstance(head, int)
            and isinstance(tags, dict)
            and isinstance(aliases, dict)
            and isinstance(versions, list)
        ):
            raise ValueError(f"a catalog row of an unexpected shape: {row[:2]!r}")
        return cls(
            name,
            head,
            tags,
            aliases,
            tuple((n, s, c, bool(d), t, m) for n, s, c, d, t, m in versions),
        )


@dataclass(frozen=True)
class Filters:
    """The filters of a search that a catalog row can answer (see ``search_versions``)."""

    tags: Mapping[str, str]
    model_tags: Mapping[str, str]
    min_metrics: Mapping[str, float]
    max_metrics: Mapping[str, float]
    state: str | None
    alias: str | None
    include_deleted: bool

    def admits(self, row: ModelRow) -> bool:
        """Whether any version of ``row`` matches, by the rules of ``search_versions``."""
        if row.head == 0 or any(row.tags.get(k) != v for k, v in self.model_tags.items()):
            return False
        aliased = row.aliases.get(self.alias) if self.alias is not None else None
        if self.alias is not None and aliased is None:
            return False
        for number, state, _, deleted, tags, metrics in row.versions:
            if deleted and not self.include_deleted:
                continue
            if self.state is not None and state != self.state:
                continue
            if aliased is not None and aliased != number:
                continue
            if any(tags.get(k) != v for k, v in self.tags.items()):
                continue
            if metrics_match(metrics, self.min_metrics, self.max_metrics):
                return True
        return False


class Catalog:
    """The catalog of one registry object: loaded once, then brought forward from the feed."""

    def __init__(self, feed: Feed, log: EventLog, now: Callable[[], datetime]) -> None:
        self.store = feed.store
        self.feed = feed
        self.log = log
        self.now = now
        self._lock = threading.Lock()
        self._rows: dict[str, ModelRow] | None = None
        self._cursor = Cursor(None)
        self._unsaved = False
        self._saved_at = 0.0

    def rows(self) -> list[ModelRow]:
        """Every model's row, current to the feed as of now."""
        with self._lock:
            cold = self._rows is None
            if self._rows is None:
                self._rows, self._cursor = self._load()
                self._saved_at = time.monotonic()
            self._forward()
            if self._unsaved and (cold or time.monotonic() - self._saved_at >= REWRITE_EVERY):
                self._save()
            return list(self._rows.values())

    def rebuild(self) -> int:
        """Rebuild the catalog from the logs and store it; the number of models it holds."""
        with self._lock:
            self._rows, self._cursor = self._scan()
            self._save()
            return len(self._rows)

    # -- internals -------------------------------------------------------------------------------

    def _load(self) -> tuple[dict[str, ModelRow], Cursor]:
        try:
            raw = self.store.read(CATALOG)
        except NotFoundError:
            logger.info("the registry has no catalog yet; building it from the logs")
            return self._rebuilt()
        try:
            rows, cursor = decode(raw)
        except IntegrityError as exc:
            logger.warning("%s; rebuilding the catalog from the logs", exc)
            return self._rebuilt()
        return rows, cursor

    def _rebuilt(self) -> tuple[dict[str, ModelRow], Cursor]:
        self._rows, self._cursor = self._scan()
        self._save()
        return self._rows, self._cursor

    def _scan(self) -> tuple[dict[str, ModelRow], Cursor]:
        # The cursor is taken before the scan: an event committed during it is read again from
        # the feed, which costs a re-read of its model, never a miss.
        start = Cursor(marker_at(self.now() - LOOKBACK))
        rows: dict[str, ModelRow] = {}
        for name in self.log.names():
            row = self._row(name)
            if row is not None:
                rows[name] = row
        return rows, start

    def _forward(self) -> None:
        rows = self._rows
        assert rows is not None

        def known(marker: Marker) -> bool:
            row = rows.get(marker.model)
            return row is not None and row.head >= marker.seq

        events, after = self.feed.read(self._cursor, self.now(), known=known)
        for name in {event.model for event in events}:
            row = self._row(name)
            if row is not None:
                rows[name] = row
                self._unsaved = True
        self._cursor = after

    def _row(self, name: str) -> ModelRow | None:
        try:
            return ModelRow.of(self.log.state(name))
        except ModelyardError as exc:
            # An unreadable log is verify's to report; search leaves that model out, as before.
            logger.warning("catalog: leaving out model %r: %s", name, exc)
            return None

    def _save(self) -> None:
        assert self._rows is not None
        self._saved_at = time.monotonic()
        try:
            self.store.write(CATALOG, encode(self._rows.values(), self._cursor))
        except (ModelyardError, OSError) as exc:
            logger.info("could not store the catalog (it is kept in memory): %s", exc)
            return
        self._unsaved = False


def encode(rows: Iterable[ModelRow], cursor: Cursor) -> bytes:
    """The stored form of a catalog."""
    body = json.dumps(
        [row.to_json() for row in sorted(rows, key=lambda r: r.name)],
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=True,
    ).encode()
    header = {
        "schema_version": SCHEMA_VERSION,
        "cursor": cursor.encode(),
        "body": "sha256:" + hashlib.sha256(body).hexdigest(),
    }
    return json.dumps(header, sort_keys=True).encode() + b"\n" + body


def decode(raw: bytes) -> tuple[dict[str, ModelRow], Cursor]:
    """A stored catalog; :class:`IntegrityError` for one that cannot be used as it is."""
    head, newline, body = raw.partition(b"\n")
    try:
        header = json.loads(head)
        if not isinstance(header, dict):
            raise ValueError("the header is not an object")
        version = header.get("schema_version")
        if version != SCHEMA_VERSION:
            raise IntegrityError(
                f"{CATALOG} has schema_version {version!r}; this version of modelyard reads "
                f"{SCHEMA_VERSION}",
                key=CATALOG,
            )
        if not newline or header.get("body") != "sha256:" + hashlib.sha256(body).hexdigest():
            raise IntegrityError(f"{CATALOG} does not match its digest", key=CATALOG)
        cursor = Cursor.decode(header.get("cursor"))
        rows = [ModelRow.from_json(row) for row in json.loads(body)]
    except IntegrityError:
        raise
    except (ValueError, TypeError, ModelyardError) as exc:
        raise IntegrityError(f"{CATALOG} cannot be read: {exc}", key=CATALOG) from None
    return {row.name: row for row in rows}, cursor


def _micros(at: datetime | None) -> int | None:
    if at is None:
        return None
    delta = at.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
