"""The yard's event feed: every committed event of every model, in one order, from any process.

The truth stays in the model logs. Just before an event is created, its writer stores an empty
*marker* whose key names the event (``feed/<day>/<hour>/<minute>/<at>_<seq>_<model>``, see
``_layout.py``), so that the marker of every event whose write has returned is there for any
process to see: the yard's search catalog relies on it (``_catalog.py``). A reader lists the
minute folders from its cursor's floor to now: an idle poll of a watcher that keeps up costs one
or two listings and nothing else, however many models the yard holds. A new marker is never
trusted: the event it names is read from the model's log and checked along the chain to the
model's verified head, and its time must be the marker's; a marker that names a different event
is logged and skipped. A marker that names an event past the model's head is an event being
written: it is left for the next read while it is younger than ``LOOKBACK``, and skipped with a
warning after that (its writer lost the race and was killed before it withdrew the marker, or
its create failed).

Markers are rebuilt from the logs, so they are written without waiting for the disk where the
store allows it: created before the event's own durable write, a marker costs a registration
about 20 µs, where one created right after the fsyncs of the commit would wait half a millisecond
for the filesystem's journal. A failed marker write is logged, never raised, and a machine crash
can lose a marker written without waiting for the disk: ``watch`` heals that by reconciling with
the model heads (``_watch.py``), and the catalog by a rebuild.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Callable
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

    # -- writing ---------------------------------------------------------------------------------

    def mark(self, name: str, event: Event) -> None:
        """Store the marker of ``event``, about to be created (see ``EventLog.append``)."""
        self._write(feed_key(event.at, event.seq, name))

    def unmark(self, name: str, event: Event) -> None:
        """Withdraw the marker of ``event``, whose create lost the race for its number."""
        try:
            self.store.delete(feed_key(event.at, event.seq, name))
        except Exception:
            # Left behind, it names another writer's event or one past the head: readers skip it.
            logger.info("could not withdraw the feed marker of a lost race", exc_info=True)

    def _write(self, key: str) -> None:
        """Store a marker; a failure is logged, never raised (the event is still written, and
        reconciliation delivers it)."""
        try:
            if self._volatile:
                self.store.write_volatile(key, b"")  # type: ignore[attr-defined]
            else:
                self.store.write(key, b"")
        except Exception:
            logger.warning(
                "could not write the feed marker %s; the event is written all the same, and "
                "watchers that reconcile will still see it",
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
        known: Callable[[Marker], bool] | None = None,
    ) -> tuple[list[FeedEvent], Cursor]:
        """The events after ``cursor`` in feed order (at most ``limit``) and the cursor after
        them. Costs one listing per folder from the cursor's floor to ``now`` (one or two for a
        reader that keeps up) and, per new marker, the reads that check its event. Markers that
        ``known`` says the reader has already seen otherwise are passed over unread."""
        floor = None if cursor.floor is None else _parse_at(cursor.floor[:23])
        fresh = sorted(
            marker
            for prefix in _prefixes(floor, now)
            for marker in self._markers(prefix, floor=cursor.floor, seen=cursor.seen)
        )
        target = marker_at(now - lookback)
        handled: list[str] = []  # in feed order, which sorts by time first
        delivered: list[tuple[int, Marker, Event]] = []
        position = 0
        while position < len(fresh) and (limit is None or len(delivered) < limit):
            wanted = len(fresh) if limit is None else limit - len(delivered)
            chunk = fresh[position : position + wanted]
            position += len(chunk)
            unknown = chunk if known is None else [m for m in chunk if not known(m)]
            checked, pending = self._check(unknown, target)
            for marker in chunk:
                if marker in pending:
                    continue  # its event is being written: the marker stays for the next read
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

    def checked_events(
        self, name: str, seqs: list[int], *, ahead: set[int] | None = None
    ) -> dict[int, Event]:
        """Events ``seqs`` of ``name``, each checked along the chain to the model's verified
        head; an event that cannot be checked is logged and left out. The numbers of ``seqs``
        past the head are added to ``ahead`` when it is given (and then not logged)."""
        try:
            state = self.log.state(name)
        except (IntegrityError, NotFoundError) as exc:
            logger.warning("feed: skipping events of model %r: %s", name, exc)
            return {}
        wanted = [seq for seq in seqs if 1 <= seq <= state.head]
        if ahead is not None:
            ahead.update(seq for seq in seqs if seq > state.head)
        for seq in sorted(set(seqs) - set(wanted) - (ahead or set())):
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

    def _check(self, markers: list[Marker], target: str) -> tuple[dict[Marker, Event], set[Marker]]:
        """The checked event of each marker, and the markers of events being written (past
        their model's head, and younger than ``target``)."""
        by_model: dict[str, list[Marker]] = {}
        for marker in markers:
            by_model.setdefault(marker.model, []).append(marker)
        found: dict[Marker, Event] = {}
        pending: set[Marker] = set()
        for name, group in by_model.items():
            ahead: set[int] = set()
            events = self.checked_events(name, [marker.seq for marker in group], ahead=ahead)
            for marker in group:
                event = events.get(marker.seq)
                if event is None:
                    if marker.seq in ahead:
                        if marker.at >= target:
                            pending.add(marker)
                        else:
                            logger.warning(
                                "feed: marker %s names event %d of model %r, which was never "
                                "written; skipped",
                                marker.name,
                                marker.seq,
                                name,
                            )
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
        return found, pending

    def _markers(
        self, prefix: str, *, floor: str | None = None, seen: frozenset[str] = frozenset()
    ) -> list[Marker]:
        """The markers under ``prefix`` from ``floor`` on that are not ``seen``. Those are passed
        over by name before they are parsed: a reader that keeps up lists the whole look-back
        window on every read, and a search right after many registrations would otherwise parse
        each of their markers again every time."""
        markers: list[Marker] = []
        for key in self.store.list(prefix):
            name = key[key.rfind("/") + 1 :]
            if name in seen or (floor is not None and name < floor):
                continue
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
