"""The yard's catalog: a compact summary of every model's versions, so that search need not fold
every model's log.

The logs stay the source of truth; the catalog is only an index. It is one document
(``catalog/catalog.json``, see ``_layout.py`` and ``_catalog_table.py``) with its
``schema_version``, the feed cursor it is current to, an index of tags to models, and one row
per model (name, head, model tags, aliases, and per version: number, state, created_at,
deleted, tags, metrics). A reader brings it up to date by reading the feed after its cursor
and re-reading the head of every model the feed names, so a row is always a fold of the log,
never of the feed's events. A catalog that is missing, of another schema, or that does not
hash to its header is rebuilt from the logs (a full scan), never used; and search returns
versions read from the logs of the models the catalog selects, so the catalog can narrow a
search but never change what it returns.

It is rewritten when a reader brought it forward (at most every ``REWRITE_EVERY`` seconds for a
long-lived reader), best effort: a reader that may not write keeps its copy in memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from modelyard.errors import IntegrityError, ModelyardError, NotFoundError
from modelyard.registry._catalog_rows import Filters, ModelRow
from modelyard.registry._catalog_table import Table, decode, encode
from modelyard.registry._cursor import Cursor
from modelyard.registry._feed import LOOKBACK, Feed, Marker
from modelyard.registry._layout import CATALOG, marker_at
from modelyard.registry._log import EventLog

__all__ = ["Catalog"]

logger = logging.getLogger("modelyard.registry")

#: How often a long-lived reader that keeps bringing the catalog forward stores it again.
REWRITE_EVERY = 30.0


class Catalog:
    """The catalog of one registry object: loaded once, then brought forward from the feed."""

    def __init__(self, feed: Feed, log: EventLog, now: Callable[[], datetime]) -> None:
        self.store = feed.store
        self.feed = feed
        self.log = log
        self.now = now
        self._lock = threading.Lock()
        self._table: Table | None = None
        self._cursor = Cursor(None)
        self._unsaved = False
        self._saved_at = 0.0

    def select(self, filters: Filters, glob: str | None) -> list[str]:
        """The models with a version that matches, by a catalog current to the feed as of now."""
        with self._lock:
            cold = self._table is None
            if self._table is None:
                self._table, self._cursor = self._load()
                self._saved_at = time.monotonic()
            try:
                self._forward(self._table)
                names = self._table.select(filters, glob)
            except IntegrityError as exc:  # a damaged row, found when it was first decoded
                logger.warning("%s; rebuilding the catalog from the logs", exc)
                self._table, self._cursor = self._rebuilt()
                self._forward(self._table)
                names = self._table.select(filters, glob)
            if self._unsaved and (cold or time.monotonic() - self._saved_at >= REWRITE_EVERY):
                self._save()
            return names

    def rebuild(self) -> int:
        """Rebuild the catalog from the logs and store it; the number of models it holds."""
        with self._lock:
            self._table, self._cursor = self._rebuilt()
            return len(self._table)

    # -- internals -------------------------------------------------------------------------------

    def _load(self) -> tuple[Table, Cursor]:
        try:
            raw = self.store.read(CATALOG)
        except NotFoundError:
            logger.info("the registry has no catalog yet; building it from the logs")
            return self._rebuilt()
        try:
            return decode(raw)
        except IntegrityError as exc:
            logger.warning("%s; rebuilding the catalog from the logs", exc)
            return self._rebuilt()

    def _rebuilt(self) -> tuple[Table, Cursor]:
        # The cursor is taken before the scan: an event committed during it is read again from
        # the feed, which costs a re-read of its model, never a miss.
        cursor = Cursor(marker_at(self.now() - LOOKBACK))
        rows = (self._row(name) for name in self.log.names())
        self._table = Table.of(row for row in rows if row is not None)
        self._cursor = cursor
        self._save()
        return self._table, cursor

    def _forward(self, table: Table) -> None:
        def known(marker: Marker) -> bool:
            head = table.head(marker.model)
            return head is not None and head >= marker.seq

        events, after = self.feed.read(self._cursor, self.now(), known=known)
        for name in {event.model for event in events}:
            row = self._row(name)
            if row is not None:
                table.put(row)
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
        assert self._table is not None
        self._saved_at = time.monotonic()
        try:
            self.store.write(CATALOG, encode(self._table, self._cursor))
        except (ModelyardError, OSError) as exc:
            logger.info("could not store the catalog (it is kept in memory): %s", exc)
            return
        self._unsaved = False
