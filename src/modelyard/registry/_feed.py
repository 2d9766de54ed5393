"""The yard's event feed: every committed event of every model, in one order, from any process.

The truth stays in the model logs. After an event is committed, its writer also stores an empty
*marker* whose key names the event (``feed/<day>/<hour>/<minute>/<at>_<seq>_<model>``, see
``_layout.py``). A reader lists the minute folders from its cursor's floor to now: an idle poll of
a watcher that keeps up costs one or two listings and nothing else, however many models the yard
holds. A new marker is never trusted: the event it names is read from the model's log and checked
along the chain to the model's verified head, and its time must be the marker's; a marker that
names a missing or different event is logged and skipped.

Markers are rebuilt from the logs, so they are written without waiting for the disk where the
store allows it, on a thread of their own where the store's durable writes would make them wait
(``_markers.py``). A crash, or a writer killed between its event and its marker, can lose one:
``watch`` heals that by reconciling with the model heads (``_watch.py``).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from modelyard._internal.hashing import digest_bytes
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.registry._cursor import Cursor
from modelyard.registry._events import Event, parse_event
from modelyard.registry._layout import (
    FEED,
    feed_key,
    feed_prefix,
    log_key,
    marker_at,
    parse_marker,
)
from modelyard.registry._log import EventLog
from modelyard.registry._markers import MarkerWriter
from modelyard.registry._records import FeedEvent
from modelyard.storage import Store, SupportsVolatileWrite

__all__ = ["LOOKBACK", "Feed", "Marker", "feed_event"]

logger = logging.getLogger("modelyard.registry")

#: How long after its event a marker may land and still be delivered in order by the feed.
LOOKBACK = timedelta(seconds=30)

_AT_FORMAT = "%Y%m%dT%H%M%S.%fZ"


@dataclass(frozen=True, order=True)
class Marker:
    """A marker as read from its key; orders as the feed does: (time, model, number)."""

    at: str
    model: str
    seq: int

    @property
    def name(self) -> str:
        return f"{self.at}_{self.seq:012d}_{self.model}"


class Feed:
    """Writes markers after commits and reads the feed through a model log reader."""

    def __init__(self, store: Store, log: EventLog) -> None:
        self.store = store
        self.log = log
        self._volatile = isinstance(store, SupportsVolatileWrite)
        # A store that fsyncs its writes makes a file created right after them wait for its
        # journal (see _markers.py): there, markers go to a thread of their own. Elsewhere a
        # marker is written before the commit returns, so the store is settled when it does.
        durable = store.capabilities.durable and self._volatile
        self._writer = MarkerWriter(self._write) if durable else None

    # -- writing ---------------------------------------------------------------------------------

    def mark(self, name: str, event: Event) -> None:
        """Queue the marker of committed ``event`` (see ``_markers.py``)."""
        key = feed_key(event.at, event.seq, name)
        if self._writer is None:
            self._write(key)
        else:
            self._writer.put(key)

    def flush(self) -> None:
        """Wait until the markers of this object's commits are written."""
        if self._writer is not None:
            self._writer.flush()

    def _write(self, key: str) -> None:
        """Store a marker; a failure is logged, never raised (the event is committed, and
        reconciliation delivers it)."""
        try:
            if self._volatile:
                self.store.write_volatile(key, b"")  # type: ignore[attr-defined]
            else:
                self.store.write(key, b"")
        except Exception:
            logger.warning(
                "could not write the feed marker %s; the event is committed, and watchers that "
                "reconcile will still see it",
                key,
                exc_info=True,
            )

    # -- reading ---------------------------------------------------------------------------------

    def read(
        self,
        cursor: Cursor,
        now: datetime,
        *,
        limit: int | None = None,
        lookback: timedelta = LOOKBACK,
    ) -> tuple[list[FeedEvent], Cursor]:
        """The events after ``cursor`` in feed order (at most ``limit``) and the cursor after
        them. Costs one listing per folder from the cursor's floor to ``now`` (one or two for a
        reader that keeps up) and, per new marker, the reads that check its event."""
        self.flush()  # a process sees its own commits
        floor = None if cursor.floor is None else _parse_at(cursor.floor[:23])
        fresh = sorted(
            marker
            for prefix in _prefixes(floor, now)
            for marker in self._markers(prefix)
            if (cursor.floor is None or marker.name >= cursor.floor)
            and marker.name not in cursor.seen
        )
        target = marker_at(now - lookback)
        handled: list[str] = []  # in feed order, which sorts by time first
        delivered: list[tuple[int, Marker, Event]] = []
        position = 0
        while position < len(fresh) and (limit is None or len(delivered) < limit):
            wanted = len(fresh) if limit is None else limit - len(delivered)
            chunk = fresh[position : position + wanted]
            position += len(chunk)
            checked = self._check(chunk)
            for marker in chunk:
                handled.append(marker.name)
                event = checked.get(marker)
                if event is not None:
                    delivered.append((len(handled), marker, event))
        ats = [name[:23] for name in handled]
        events: list[FeedEvent] = []
        for upto, marker, event in delivered:
            floor_here = min(target, marker.at)
            done = handled[bisect_left(ats, floor_here) : upto]
            events.append(feed_event(marker.model, event, cursor.after(done, floor_here).encode()))
        if position >= len(fresh):
            return events, cursor.after(handled, target)
        # A truncated read: the markers not looked at stay for the next read.
        return events, Cursor.decode(events[-1].cursor) if events else cursor

    def checked_events(self, name: str, seqs: list[int]) -> dict[int, Event]:
        """Events ``seqs`` of ``name``, each checked along the chain to the model's verified
        head; an event that cannot be checked is logged and left out."""
        try:
            state = self.log.state(name)
        except (IntegrityError, NotFoundError) as exc:
            logger.warning("feed: skipping events of model %r: %s", name, exc)
            return {}
        wanted = [seq for seq in seqs if 1 <= seq <= state.head]
        for seq in sorted(set(seqs) - set(wanted)):
            logger.warning(
                "feed: a marker names event %d of model %r, which has %d events; skipped",
                seq,
                name,
                state.head,
            )
        if not wanted:
            return {}
        start = min(wanted)
        try:
            raws = [self.store.read(log_key(name, k)) for k in range(start, state.head + 1)]
            digests = [digest_bytes(raw) for raw in raws]
            if digests[-1] != state.head_digest:
                raise IntegrityError(f"{log_key(name, state.head)} changed since it was checked")
            events = [parse_event(raw, log_key(name, start + i)) for i, raw in enumerate(raws)]
            for i, event in enumerate(events):
                if event.seq != start + i or event.model is None or event.model.name != name:
                    raise IntegrityError(f"{log_key(name, start + i)} is not that event")
                if i and event.prev != digests[i - 1]:
                    raise IntegrityError(
                        f"{log_key(name, start + i)} does not follow its predecessor"
                    )
        except (IntegrityError, NotFoundError) as exc:
            logger.warning("feed: events of model %r from %d do not check: %s", name, start, exc)
            return {}
        return {seq: events[seq - start] for seq in wanted}

    def _check(self, markers: list[Marker]) -> dict[Marker, Event]:
        by_model: dict[str, list[Marker]] = {}
        for marker in markers:
            by_model.setdefault(marker.model, []).append(marker)
        found: dict[Marker, Event] = {}
        for name, group in by_model.items():
            events = self.checked_events(name, [marker.seq for marker in group])
            for marker in group:
                event = events.get(marker.seq)
                if event is None:
                    continue
                if marker_at(event.at) != marker.at:
                    logger.warning(
                        "feed: marker %s does not match event %d of model %r (committed at %s); "
                        "skipped",
                        marker.name,
                        marker.seq,
                        name,
                        event.at.isoformat(),
                    )
                    continue
                found[marker] = event
        return found

    def _markers(self, prefix: str) -> list[Marker]:
        markers: list[Marker] = []
        for key in self.store.list(prefix):
            parsed = parse_marker(key)
            if parsed is None:
                logger.warning("feed: %s is not a feed marker; ignored", key)
                continue
            at, seq, model = parsed
            markers.append(Marker(at, model, seq))
        return markers


def feed_event(name: str, event: Event, cursor: str) -> FeedEvent:
    return FeedEvent(
        model=name,
        seq=event.seq,
        kind=event.kind,
        at=event.at,
        actor=event.actor,
        reason=event.reason,
        data=event.data(),
        cursor=cursor,
    )


def _parse_at(text: str) -> datetime:
    return datetime.strptime(text, _AT_FORMAT).replace(tzinfo=timezone.utc)


def _prefixes(floor: datetime | None, now: datetime) -> list[str]:
    """The fewest folders of the feed that together hold every marker from ``floor`` to ``now``:
    one or two minutes, else one or two hours, else whole days."""
    if floor is None:
        return [FEED]
    now = max(now, floor)
    for level, step in (("minute", timedelta(minutes=1)), ("hour", timedelta(hours=1))):
        first, last = feed_prefix(floor, level), feed_prefix(now, level)
        if first == last:
            return [first]
        if feed_prefix(floor + step, level) == last:
            return [first, last]
    days: list[str] = []
    day = floor
    while feed_prefix(day, "day") <= feed_prefix(now, "day"):
        days.append(feed_prefix(day, "day"))
        day += timedelta(days=1)
    return days
