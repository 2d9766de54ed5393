"""The yard's event feed in one process: order, cursors, checks of markers, healing, costs."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import InputError
from modelyard.registry import FeedEvent, Registry, _cursor
from modelyard.registry._events import parse_event
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock
from modelyard.yard import open_yard


def _seen(events: Any) -> list[tuple[str, int]]:
    return [(event.model, event.seq) for event in events]


def _marker(registry: Registry, model: str, seq: int) -> str:
    (key,) = [k for k in registry.store.list("feed/") if k.endswith(f"_{seq:012d}_{model}")]
    return key


def test_events_of_all_models_come_in_time_model_seq_order_and_resume_from_any_cursor(
    registry: Registry, clock: FakeClock
) -> None:
    registry.register("fraud", b"f1")
    registry.register("churn", b"c1")  # same time as fraud/1: the model name decides
    clock.advance(seconds=5)
    registry.set_alias("fraud", "champion", 1)
    clock.advance(minutes=3)  # another minute folder
    registry.register("churn", b"c2")
    clock.advance(hours=26)  # another day
    registry.transition("churn", 2, "staging", reason="eval passed")

    page = registry.events()
    expected = [("churn", 1), ("fraud", 1), ("fraud", 2), ("churn", 2), ("churn", 3)]
    assert _seen(page) == expected
    assert [event.kind for event in page][-1] == "transition"
    assert page.events[-1].reason == "eval passed"
    # Every event's cursor resumes exactly after it.
    for i, event in enumerate(page):
        assert _seen(registry.events(event.cursor)) == expected[i + 1 :]
    # Paging with a limit walks the same sequence, nothing twice.
    walked: list[tuple[str, int]] = []
    cursor = None
    while True:
        part = registry.events(cursor, limit=2)
        if not part.events:
            break
        walked += _seen(part)
        cursor = part.cursor
    assert walked == expected
    assert _seen(registry.events(page.cursor)) == []
    clock.advance(seconds=1)
    registry.set_alias("churn", "champion", 1)
    assert _seen(registry.events(page.cursor)) == [("churn", 4)]


def test_a_marker_that_lands_late_is_delivered_once(registry: Registry, clock: FakeClock) -> None:
    registry.register("churn", b"c1")
    key = _marker(registry, "churn", 1)
    registry.store.delete(key)  # its writer is slow: the event is there, the marker not yet
    page = registry.events()
    assert _seen(page) == []
    clock.advance(seconds=10)
    registry.store.write(key, b"")
    again = registry.events(page.cursor)
    assert _seen(again) == [("churn", 1)]
    assert _seen(registry.events(again.cursor)) == []


def test_a_marker_naming_a_missing_or_different_event_is_skipped_and_logged(
    registry: Registry, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    registry.register("churn", b"c1")
    real = _marker(registry, "churn", 1)
    folder, _, name = real.rpartition("/")
    at = name[:23]
    registry.store.write(f"{folder}/{at}_000000000009_churn", b"")  # no such event
    registry.store.write(f"{folder}/{at}_000000000001_ghost", b"")  # no such model
    other_at = at[:-2] + ("1Z" if at[-2] != "1" else "2Z")
    registry.store.write(f"{folder}/{other_at}_000000000001_churn", b"")  # another time
    with caplog.at_level(logging.WARNING, logger="modelyard.registry"):
        page = registry.events()
        assert _seen(page) == [("churn", 1)]
        # An event past the head may be being written: its marker waits out the look-back.
        assert "event 9 of model 'churn'" not in caplog.text
        clock.advance(seconds=31)
        assert _seen(registry.events(page.cursor)) == []
    assert "event 9 of model 'churn', which was never written" in caplog.text
    assert "does not match event 1 of model 'churn'" in caplog.text


def test_a_marker_written_before_its_event_is_delivered_once_the_event_lands(
    registry: Registry, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    registry.register("churn", b"c1")
    clock.advance(seconds=1)
    marks: list[str] = []
    real_mark = registry._feed.mark
    registry._feed.mark = lambda name, event: marks.append(name)  # type: ignore[method-assign]
    registry.register("churn", b"c2")
    registry._feed.mark = real_mark  # type: ignore[method-assign]
    # Move event 2 aside and write its marker: the state of a writer between the two.
    event = registry.store.read("models/churn/log/000000000002.json")
    registry.store.delete("models/churn/log/000000000002.json")
    reader = Registry(registry.store, clock=clock, actor="ana")
    registry._feed.mark("churn", parse_event(event, "event 2"))
    with caplog.at_level(logging.WARNING, logger="modelyard.registry"):
        page = reader.events()
        assert _seen(page) == [("churn", 1)]
        registry.store.create("models/churn/log/000000000002.json", event)
        clock.advance(seconds=5)
        again = reader.events(page.cursor)
    assert _seen(again) == [("churn", 2)]
    assert _seen(reader.events(again.cursor)) == []
    assert marks == ["churn"] and caplog.text == ""


def test_a_marker_of_an_edited_event_is_not_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry(LocalStore(tmp_path), actor="ana")
    registry.register("churn", b"c1")
    registry.register("churn", b"c2")
    event = tmp_path / "models/churn/log/000000000001.json"
    event.write_bytes(event.read_bytes().replace(b'"ana"', b'"eve"'))
    with caplog.at_level(logging.WARNING, logger="modelyard.registry"):
        page = Registry(LocalStore(tmp_path), actor="ana").events()
    assert _seen(page) == []
    assert "skipping events of model 'churn'" in caplog.text


def test_idle_polls_cost_the_same_listings_with_5_and_with_200_models(tmp_path: Path) -> None:
    costs = []
    for models in (5, 200):
        store = _Counting(LocalStore(tmp_path / str(models), durable=False))
        clock = FakeClock(datetime(2026, 1, 1, 12, 0, 40, tzinfo=timezone.utc))
        registry = Registry(store, actor="ana", clock=clock)
        for m in range(models):
            registry.register(f"m{m:03d}", b"w")
        cursor = registry.events().cursor
        store.calls.clear()
        for _ in range(3):
            cursor = registry.events(cursor).cursor
        costs.append(Counter(store.calls))
    assert costs[0] == costs[1] == {"list": 3}  # one minute folder per poll, nothing read


def test_a_failed_marker_write_does_not_fail_the_commit_and_reconcile_heals_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _NoMarkers()
    registry = Registry(store, actor="ana")
    watching = registry.watch(poll=0.01, timeout=5, reconcile_every=0.05)
    with caplog.at_level(logging.WARNING, logger="modelyard.registry"):
        mv = registry.register("churn", b"c1")
        assert registry.events().events == ()
    assert mv.version == 1
    assert "could not write the feed marker" in caplog.text
    first = next(watching)
    assert (first.model, first.seq, first.kind) == ("churn", 1, "version.registered")


def test_a_lost_marker_is_healed_by_reconcile_and_never_delivered_twice() -> None:
    registry = Registry(MemoryStore(), actor="ana")
    stop = threading.Event()
    watching = registry.watch(poll=0.01, stop=stop, timeout=10, reconcile_every=0.1)
    registry.register("churn", b"c1")
    registry.register("churn", b"c2")
    lost = _marker(registry, "churn", 1)
    registry.store.delete(lost)  # its writer was killed between the event and the marker
    got: list[FeedEvent] = []
    for event in watching:
        got.append(event)
        if len(got) == 2:
            break
    assert sorted(_seen(got)) == [("churn", 1), ("churn", 2)]
    # The marker was only slow after all: it lands now, and is not delivered again.
    registry.store.write(lost, b"")
    registry.register("churn", b"c3")
    assert _seen([next(watching)]) == [("churn", 3)]
    # The cursor of a healed event knows it was delivered.
    healed = next(event for event in got if event.seq == 1)
    assert (1, "churn") not in {(e.seq, e.model) for e in registry.events(healed.cursor)}
    stop.set()
    assert list(watching) == []


def test_watch_from_now_skips_earlier_events_and_stops_on_timeout() -> None:
    registry = Registry(MemoryStore(), actor="ana")
    registry.register("churn", b"c1")
    assert list(registry.watch(poll=0.01, timeout=0.1, reconcile_every=None)) == []


def test_the_cursor_stays_bounded_and_still_delivers_nothing_twice(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cursor, "MAX_SEEN", 3)
    for m in range(6):
        registry.register(f"m{m}", b"w")
    page = registry.events()
    assert len(page) == 6
    assert len(_cursor.Cursor.decode(page.cursor).seen) == 3
    assert _seen(registry.events(page.cursor)) == []


def test_bad_cursors_and_arguments_are_refused_with_a_clear_error(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match="invalid feed cursor 'junk'"):
        registry.events("junk")
    with pytest.raises(InputError, match="damaged"):
        registry.events("feed1.AAAA")
    with monkeypatch.context() as patch:
        patch.setattr(_cursor, "SCHEMA_VERSION", 2)
        newer = _cursor.Cursor(None).encode()
    with pytest.raises(InputError, match="newer modelyard"):
        registry.events(newer)
    with pytest.raises(InputError, match="limit"):
        registry.events(limit=0)
    with pytest.raises(InputError, match="poll"):
        registry.watch(poll=0)
    with pytest.raises(InputError, match="reconcile_every"):
        registry.watch(reconcile_every=-1)


def test_gc_keeps_markers_and_verify_does_not_report_them(tmp_path: Path) -> None:
    yard = open_yard(tmp_path, actor="ana")
    yard.registry.register("churn", b"c1")
    yard.registry.events()
    markers = yard.store.list("feed/")
    assert len(markers) == 1
    yard.gc(grace=timedelta(0), dry_run=False)
    assert yard.store.list("feed/") == markers
    assert yard.verify().ok


class _Counting:
    """A store that records which primitive each call used."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


class _NoMarkers(MemoryStore):
    """A store that fails every write under feed/."""

    def write(self, key: str, data: Any) -> None:
        if key.startswith("feed/"):
            raise OSError("disk full")
        super().write(key, data)
