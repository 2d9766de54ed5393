"""Concurrency and crash claims, proven with real processes on a local folder."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from modelyard.lifecycle import Lifecycle
from modelyard.yard import open_yard

from . import _workers

pytestmark = pytest.mark.slow

CTX = multiprocessing.get_context("spawn")


def _gather(queue: Any, procs: list[Any], expected: int) -> list[Any]:
    from modelyard.testing._store_conformance import _collect

    try:
        return _collect(queue, procs, expected, timeout=300)
    finally:
        for proc in procs:
            proc.join(timeout=60)


def _race(target: Any, argument_lists: list[tuple[Any, ...]], expected: int) -> list[Any]:
    """Start one process per argument list, all released together by a barrier; gather results."""
    barrier = CTX.Barrier(len(argument_lists))
    queue = CTX.Queue()
    procs = [CTX.Process(target=target, args=(*args, barrier, queue)) for args in argument_lists]
    for proc in procs:
        proc.start()
    results = _gather(queue, procs, expected)
    assert all(proc.exitcode == 0 for proc in procs)
    return results


def test_8_processes_x_25_registrations_give_200_gap_free_versions(tmp_path: Path) -> None:
    yard = open_yard(tmp_path)
    artifact = yard.artifacts.put(b"weights", name="churn").id
    path = str(tmp_path)
    results = _race(_workers.register_many, [(path, artifact, w, 25) for w in range(8)], 200)
    numbers = sorted(version for _, _, version in results)
    assert numbers == list(range(1, 201))  # no gap, no duplicate
    versions = open_yard(tmp_path).registry.versions("churn")
    assert [v.version for v in versions] == list(range(1, 201))
    # None lost: every (worker, n) pair is registered exactly once, under the version it was told.
    stored = {(v.tags["worker"], v.tags["n"]): v.version for v in versions}
    assert stored == {(str(w), str(n)): version for w, n, version in results}
    # Racing writers leave one unbroken chain, with snapshots that match it.
    report = open_yard(tmp_path).registry.verify()
    assert report.ok, report.problems
    assert len(list((tmp_path / "models" / "churn" / "snapshots").iterdir())) == 6


def test_8_processes_registering_names_that_fold_alike_leave_one_model(tmp_path: Path) -> None:
    yard = open_yard(tmp_path)
    artifact = yard.artifacts.put(b"weights", name="churn").id
    names = ["churn", "Churn", "CHURN", "cHurn", "chUrn", "churN", "CHurn", "ChUrN"]
    results = dict(_race(_workers.register_name, [(str(tmp_path), artifact, n) for n in names], 8))
    winners = [name for name, outcome in results.items() if outcome == "registered"]
    assert len(winners) == 1, results
    assert all(results[n] == f"refused for {winners[0]}" for n in names if n != winners[0])
    assert [m.name for m in open_yard(tmp_path).registry.models()] == winners
    folders = {p.name for p in (tmp_path / "models").iterdir()}
    assert folders == {"_index", "_names", *winners}


def test_8_processes_racing_to_production_leave_exactly_one_holder(tmp_path: Path) -> None:
    registry = open_yard(tmp_path).registry
    artifact = registry.artifacts.put(b"weights", name="churn").id
    for version in range(1, 9):
        registry.register("churn", artifact)
        registry.transition("churn", version, "staging")
    results = dict(_race(_workers.promote, [(str(tmp_path), v) for v in range(1, 9)], 8))
    assert set(results.values()) == {"ok"}, results
    fresh = open_yard(tmp_path).registry
    holders = [v.version for v in fresh.versions("churn") if v.state == "production"]
    assert len(holders) == 1
    # The history is a valid sequence: every change leaves the state the version was in, follows
    # an allowed transition (or is a displacement), and production never has two holders.
    lifecycle = Lifecycle.default()
    states: dict[int, str] = {}
    for entry in fresh.history("churn"):
        if entry.kind == "version.registered":
            states[entry.version] = "development"  # type: ignore[index]
        for change in entry.changes:
            assert states[change.version] == change.source
            allowed = lifecycle.transition(change.source, change.target) is not None
            assert allowed or (change.cause == "displaced" and change.target == "archived")
            states[change.version] = change.target
        assert sum(1 for s in states.values() if s == "production") <= 1
    assert [v for v, s in states.items() if s == "production"] == holders


def test_8_processes_racing_a_compare_and_set_alias_move_have_one_winner(tmp_path: Path) -> None:
    registry = open_yard(tmp_path).registry
    artifact = registry.artifacts.put(b"weights", name="churn").id
    for _ in range(9):
        registry.register("churn", artifact)
    registry.set_alias("churn", "champion", 1)
    results = dict(_race(_workers.move_alias, [(str(tmp_path), v) for v in range(2, 10)], 8))
    winners = [v for v, outcome in results.items() if outcome == "won"]
    assert len(winners) == 1, results
    assert all(outcome in ("won", "conflict") for outcome in results.values()), results
    assert open_yard(tmp_path).registry.aliases("churn")["champion"] == winners[0]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_writer_killed_mid_register_leaves_a_consistent_registry(tmp_path: Path) -> None:
    registry = open_yard(tmp_path).registry
    artifact = registry.artifacts.put(b"weights", name="churn").id
    rng = random.Random(7)
    for _ in range(6):
        started = CTX.Event()
        proc = CTX.Process(
            target=_workers.register_forever, args=(str(tmp_path), artifact, started)
        )
        proc.start()
        assert started.wait(timeout=120)
        time.sleep(rng.uniform(0.02, 0.3))
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        fresh = open_yard(tmp_path).registry
        versions = fresh.versions("churn")
        numbers = [v.version for v in versions]
        assert numbers == list(range(1, len(numbers) + 1))
        for v in versions:  # each version is fully there
            assert v.artifact == artifact and v.metrics["n"] == int(v.tags["n"])
        # Every event file on disk is whole JSON; the log has no gap.
        logs = sorted((tmp_path / "models" / "churn" / "log").iterdir())
        for index, path in enumerate(logs, start=1):
            assert path.name == f"{index:012d}.json"
            json.loads(path.read_bytes())
        # And the registry goes on: the next version follows without a gap.
        after = fresh.register("churn", artifact, metrics={"n": -1}, tags={"n": "-1"})
        assert after.version == len(numbers) + 1
        report = fresh.verify()
        assert report.ok, report.problems
    assert len(open_yard(tmp_path).registry.versions("churn")) > 6


def test_a_following_alias_never_differs_from_the_stage_holder_under_racing_writers(
    tmp_path: Path,
) -> None:
    registry = open_yard(tmp_path).registry
    artifact = registry.artifacts.put(b"weights", name="churn").id
    for version in range(1, 7):
        registry.register("churn", artifact)
        registry.transition("churn", version, "staging")
    registry.transition("churn", 1, "production")
    registry.set_alias("churn", "champion", follow="production")
    barrier, queue, stop = CTX.Barrier(3), CTX.Queue(), CTX.Event()
    writers = [
        CTX.Process(target=_workers.churn_production, args=(str(tmp_path), s, 60, barrier, queue))
        for s in (1, 2)
    ]
    reader = CTX.Process(target=_workers.watch_champion, args=(str(tmp_path), stop, barrier, queue))
    for proc in [*writers, reader]:
        proc.start()
    results = _gather(queue, writers, 2)
    stop.set()
    results += _gather(queue, [reader], 1)
    assert all(proc.exitcode == 0 for proc in [*writers, reader])
    done = sum(r[2] for r in results if r[0] == "writer")
    (_, reads, bad, nbad) = next(r for r in results if r[0] == "reader")
    assert nbad == 0, bad
    assert reads > 10 and done > 20, results
    fresh = open_yard(tmp_path).registry
    moved = [e for e in fresh.history("churn") if e.alias_moves]
    assert len(moved) > 10  # the alias really moved, many times, while it was read
    holders = [v.version for v in fresh.versions("churn") if v.state == "production"]
    assert fresh.aliases("churn").get("champion") == (holders[0] if holders else None)
    assert fresh.verify().ok
