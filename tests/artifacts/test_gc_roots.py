"""Root sources: what they return is kept with its ancestors; one that cannot tell stops gc."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from modelyard.artifacts import (
    ArtifactStore,
    register_root_source,
    registered_root_sources,
    unregister_root_source,
)
from modelyard.errors import InputError
from modelyard.storage import Store
from modelyard.testing import FakeClock

HOUR = timedelta(hours=1)


@pytest.fixture
def pins() -> Iterator[dict[str, object]]:
    """A root source named "test-pins" returning ``pins["ids"]``, or raising ``pins["error"]``."""
    state: dict[str, object] = {"ids": [], "error": None, "stores": []}

    def source(store: Store) -> list[str]:
        state["stores"].append(store)  # type: ignore[attr-defined]
        if state["error"] is not None:
            raise state["error"]  # type: ignore[misc]
        return list(state["ids"])  # type: ignore[call-overload]

    register_root_source("test-pins", source)
    yield state
    unregister_root_source("test-pins")


def test_a_source_keeps_what_it_returns_and_the_ancestors(
    mem_artifacts: ArtifactStore, clock: FakeClock, pins: dict[str, object]
) -> None:
    a = mem_artifacts
    raw = a.put(b"raw")
    model = a.put(b"model", parents=[raw])
    scratch = a.put(b"scratch")
    clock.advance(hours=2)
    pins["ids"] = [model.id]
    report = a.gc(grace=HOUR, dry_run=False, keep_named=False)
    assert report.artifacts == (scratch.id,) and report.pinned == 1 and report.complete
    assert a.get(model) == b"model" and a.get(raw) == b"raw"
    assert pins["stores"] == [a.store]  # asked about the store gc runs on


def test_every_gc_entry_point_asks_the_sources(
    mem_artifacts: ArtifactStore, clock: FakeClock, pins: dict[str, object]
) -> None:
    kept = mem_artifacts.put(b"served")
    clock.advance(hours=2)
    pins["ids"] = [kept.id]
    # A second object on the same store, and a dry run, see the same roots.
    other = ArtifactStore(mem_artifacts.store, clock=clock)
    assert other.gc(grace=HOUR, keep_named=False).artifacts == ()
    assert other.gc(grace=HOUR, dry_run=False, keep_named=False).artifacts == ()
    assert mem_artifacts.exists(kept)


def test_a_source_that_cannot_tell_stops_the_whole_sweep(
    mem_artifacts: ArtifactStore, clock: FakeClock, pins: dict[str, object]
) -> None:
    garbage = mem_artifacts.put(b"garbage")
    mem_artifacts.store.write("blobs/sha256/ab/" + "cd" * 31, b"orphan")  # needed by nothing
    clock.advance(hours=2)
    pins["error"] = OSError("log unreadable")
    before = sorted(mem_artifacts.store.list(""))
    for dry_run in (True, False):
        report = mem_artifacts.gc(grace=HOUR, dry_run=dry_run)
        assert report.artifacts == () and report.blobs == () and not report.complete
        assert len(report.refused) == 1
        assert "'test-pins'" in report.refused[0] and "log unreadable" in report.refused[0]
    assert sorted(mem_artifacts.store.list("")) == before
    pins["error"] = None
    assert mem_artifacts.gc(grace=HOUR, dry_run=False).artifacts == (garbage.id,)


def test_a_source_returning_something_else_than_ids_stops_the_sweep(
    mem_artifacts: ArtifactStore, clock: FakeClock, pins: dict[str, object]
) -> None:
    mem_artifacts.put(b"garbage")
    clock.advance(hours=2)
    pins["ids"] = ["churn@champion"]
    report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    assert report.artifacts == () and "'churn@champion'" in report.refused[0]
    pins["ids"] = ["sha256:" + "0" * 64 + "\n"]
    assert mem_artifacts.gc(grace=HOUR, dry_run=False).refused


def test_a_source_named_by_a_path_that_does_not_import_stops_the_sweep(
    mem_artifacts: ArtifactStore, clock: FakeClock
) -> None:
    mem_artifacts.put(b"garbage")
    clock.advance(hours=2)
    register_root_source("test-missing", "modelyard_no_such_package.roots:pins")
    try:
        report = mem_artifacts.gc(grace=HOUR, dry_run=False)
    finally:
        unregister_root_source("test-missing")
    assert report.artifacts == () and "modelyard_no_such_package" in report.refused[0]


def test_registering_a_source_checks_its_input() -> None:
    with pytest.raises(InputError, match="already registered"):
        register_root_source("registry", lambda store: [])
    with pytest.raises(InputError, match="function of the store"):
        register_root_source("test-bad", 42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="module:function"):
        register_root_source("test-bad", "no_colon_here")
    with pytest.raises(InputError, match="non-empty string name"):
        register_root_source("", lambda store: [])
    assert "test-bad" not in registered_root_sources()
    assert registered_root_sources()["registry"] is not None
