"""The feed across real processes: resuming elsewhere, watching another writer, a killed one."""

from __future__ import annotations

import multiprocessing
import signal
import time
from pathlib import Path

import pytest

from modelyard.registry import FeedEvent
from modelyard.yard import open_yard

from . import _feed_workers

pytestmark = pytest.mark.slow

CTX = multiprocessing.get_context("spawn")


def test_a_cursor_resumes_in_a_new_process_with_exactly_the_later_events(tmp_path: Path) -> None:
    registry = open_yard(tmp_path, actor="ana").registry
    registry.register("churn", b"c1")
    registry.register("fraud", b"f1")
    cursor = registry.events().cursor
    registry.set_alias("churn", "champion", 1)
    registry.register("fraud", b"f2")
    queue = CTX.Queue()
    proc = CTX.Process(target=_feed_workers.read_from, args=(str(tmp_path), cursor, queue))
    proc.start()
    got = queue.get(timeout=120)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert [(model, seq) for model, seq, _ in got] == [("churn", 2), ("fraud", 2)]
    assert [kind for _, _, kind in got] == ["alias.set", "version.registered"]


def test_a_watcher_sees_a_transition_committed_by_another_process_within_one_poll(
    tmp_path: Path,
) -> None:
    registry = open_yard(tmp_path, actor="ana").registry
    for m in range(20):
        registry.register(f"m{m:02d}", b"w")
    registry.register("churn", b"c1")
    queue = CTX.Queue()
    poll = 0.5
    proc = CTX.Process(
        target=_feed_workers.watch_until_transition, args=(str(tmp_path), poll, queue)
    )
    proc.start()
    try:
        assert queue.get(timeout=120) == "ready"
        time.sleep(2 * poll)  # idle polls first
        start = time.monotonic()
        registry.transition("churn", 1, "staging", reason="eval passed")
        got = queue.get(timeout=30)
        latency = time.monotonic() - start
    finally:
        proc.join(timeout=60)
    assert got == ("churn", 2, "transition")
    # One poll, with room for a busy machine; nothing registered before the watch is reported.
    assert latency < poll + 1.0
    assert proc.exitcode == 0


def test_an_event_whose_marker_was_lost_is_healed(tmp_path: Path) -> None:
    registry = open_yard(tmp_path, actor="ana").registry
    registry.register("churn", b"c1")
    watching = registry.watch(poll=0.05, timeout=60, reconcile_every=0.5)
    proc = CTX.Process(
        target=_feed_workers.transition_and_die_before_the_marker, args=(str(tmp_path), 1)
    )
    proc.start()
    proc.join(timeout=120)
    assert proc.exitcode == -signal.SIGKILL
    assert registry.versions("churn")[0].state == "staging"  # the event is committed
    assert registry.events().events[-1].seq == 1  # and has no marker
    healed: FeedEvent = next(watching)
    assert (healed.model, healed.seq, healed.kind) == ("churn", 2, "transition")
    assert healed.actor == "ci"


def test_a_process_that_exits_right_after_committing_leaves_every_marker(tmp_path: Path) -> None:
    open_yard(tmp_path)
    proc = CTX.Process(target=_feed_workers.register_and_exit, args=(str(tmp_path), 30))
    proc.start()
    proc.join(timeout=120)
    assert proc.exitcode == 0
    events = open_yard(tmp_path).registry.events()  # the feed alone, no reconciling
    assert sorted((e.model, e.seq) for e in events) == sorted((f"m{n}", 1) for n in range(30))
