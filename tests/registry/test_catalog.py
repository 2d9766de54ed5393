"""The yard's search catalog: the same answers as folding every log, kept current from the feed,
rebuilt from the logs whenever it cannot be used, and cheap in requests whatever the yard's size."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import multiprocessing
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import InputError
from modelyard.registry import Registry
from modelyard.registry._search import search_versions
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock
from modelyard.yard import open_yard

from . import _catalog_workers

CTX = multiprocessing.get_context("spawn")
CATALOG = "catalog/catalog.json"


def _by_folding_every_log(registry: Registry, name: str | None = None, **filters: Any) -> Any:
    """Search as it was before the catalog: every model's state, read from its log."""
    names = registry._log.names()
    if name is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, name)]
    states = [Registry(registry.store, actor="ana")._log.state(n) for n in names]
    args: dict[str, Any] = {
        "tags": {},
        "model_tags": {},
        "min_metrics": {},
        "max_metrics": {},
        "state": None,
        "alias": None,
        "include_deleted": False,
        "order_by": "created_at",
        "descending": True,
        "limit": None,
    }
    args.update(filters)
    return search_versions([s for s in states if s.head > 0], **args)


def _random_yard(seed: int) -> tuple[Registry, FakeClock]:
    rng = random.Random(seed)
    clock = FakeClock()
    registry = Registry(MemoryStore(), actor="ana", clock=clock)
    registry.search()  # a catalog from the start: from here on it is kept current by the feed
    for m in range(rng.randint(3, 12)):
        name = f"{rng.choice(['churn', 'fraud', 'ltv'])}-{m}"
        for _ in range(rng.randint(1, 6)):
            clock.advance(seconds=rng.choice([0, 1, 7]))
            metrics = {k: round(rng.uniform(0, 1), 2) for k in ("auc", "f1") if rng.random() < 0.7}
            tags = {"team": rng.choice(["risk", "ops"])} if rng.random() < 0.8 else {}
            registry.register(name, b"w", metrics=metrics, tags=tags)
        versions = [v.version for v in registry.versions(name)]
        if rng.random() < 0.5:
            registry.set_tag(name, "owner", rng.choice(["ana", "bo"]))
        if rng.random() < 0.5:
            registry.transition(name, rng.choice(versions), "staging", reason="eval")
        if rng.random() < 0.4:
            registry.set_alias(name, "champion", rng.choice(versions))
        if rng.random() < 0.3 and versions[0] not in registry.aliases(name).values():
            registry.delete_version(name, versions[0])
        if rng.random() < 0.2:
            live = [v.version for v in registry.versions(name)]
            registry.set_tag(name, "team", "ops", version=rng.choice(live))
    return registry, clock


FILTERS: list[dict[str, Any]] = [
    {},
    {"tags": {"team": "ops"}},
    {"tags": {"team": "risk", "owner": "ana"}},
    {"model_tags": {"owner": "bo"}},
    {"min_metrics": {"auc": 0.5}},
    {"max_metrics": {"f1": 0.4}, "min_metrics": {"auc": 0.1}},
    {"state": "staging"},
    {"state": "none"},
    {"alias": "champion"},
    {"alias": "latest", "tags": {"team": "risk"}},
    {"include_deleted": True},
    {"include_deleted": True, "order_by": "name", "descending": False},
    {"order_by": "version", "limit": 3},
    {"order_by": "metrics.auc"},
    {"order_by": "metrics.f1", "descending": False, "limit": 5},
    {"name": "churn*"},
    {"name": "*-1", "include_deleted": True, "alias": "latest"},
    {"limit": 0},
]


@pytest.mark.parametrize("seed", range(8))
def test_search_answers_as_folding_every_log_does_on_random_registries(seed: int) -> None:
    registry, clock = _random_yard(seed)
    for filters in FILTERS:
        expected = _by_folding_every_log(registry, **filters)
        assert registry.search(**filters) == expected, filters
        cold = Registry(registry.store, actor="ana", clock=clock)
        assert cold.search(**filters) == expected, filters


def test_the_catalog_is_stored_and_a_new_registry_object_reads_it_instead_of_the_logs() -> None:
    store = _Counting(MemoryStore())
    registry = Registry(store, actor="ana")
    for m in range(20):
        registry.register(f"m{m:02d}", b"w", tags={"team": "ops" if m == 7 else "risk"})
    registry.search()
    assert store.inner.exists(CATALOG)
    store.calls.clear()
    found = Registry(store, actor="ana").search(tags={"team": "ops"})
    assert [v.ref for v in found] == ["m07/1"]
    read = [key for method, key in store.calls if method == "read"]
    assert read[0] == CATALOG
    # Besides the catalog, only the one matching model's log was read.
    assert {key.split("/")[1] for key in read[1:] if key.startswith("models/")} == {"m07"}


@pytest.mark.parametrize("models", [20, 200])
def test_cold_and_warm_searches_cost_the_same_requests_with_20_and_200_models(
    tmp_path: Path, models: int
) -> None:
    costs = {}
    for count in (20, models):
        inner = LocalStore(tmp_path / str(count), durable=False)
        clock = FakeClock()
        registry = Registry(inner, actor="ana", clock=clock)
        for m in range(count):
            registry.register(f"m{m:03d}", b"w", tags={"team": "ops" if m < 3 else "risk"})
        registry.search()  # builds and stores the catalog
        clock.advance(seconds=1)
        store = _Counting(inner)
        cold = Registry(store, actor="ana", clock=clock)
        cold.search(tags={"team": "ops"})
        costs[count, "cold"] = Counter(method for method, _ in store.calls)
        store.calls.clear()
        cold.search(tags={"team": "ops"})
        costs[count, "warm"] = Counter(method for method, _ in store.calls)
    assert costs[20, "cold"] == costs[models, "cold"]
    assert costs[20, "warm"] == costs[models, "warm"]
    # Warm: the feed's one or two minute folders, one look past each matching model's head.
    assert costs[20, "warm"]["read"] == 3
    assert costs[20, "warm"]["list"] <= 2
    assert set(costs[20, "warm"]) == {"read", "list"}
    # Cold: the catalog, the feed, and the first read of each of the 3 matching models.
    assert costs[20, "cold"]["read"] <= 1 + 4 * 3 + 1


def test_a_missing_catalog_is_rebuilt_from_the_logs() -> None:
    registry = Registry(MemoryStore(), actor="ana")
    registry.register("churn", b"w", tags={"team": "ops"})
    registry.search()
    registry.store.delete(CATALOG)
    registry.register("fraud", b"w", tags={"team": "ops"})
    fresh = Registry(registry.store, actor="ana")
    assert [
        v.name for v in fresh.search(tags={"team": "ops"}, order_by="name", descending=False)
    ] == [
        "churn",
        "fraud",
    ]
    assert registry.store.exists(CATALOG)


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "edited", "schema", "header", "row"],
)
def test_a_damaged_or_hand_edited_catalog_is_rebuilt_not_trusted(
    damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry(MemoryStore(), actor="ana")
    registry.register("churn", b"w", tags={"team": "ops"})
    registry.register("fraud", b"w", tags={"team": "ops"})
    registry.search()
    raw = registry.store.read(CATALOG)
    header, _, body = raw.partition(b"\n")
    if damage == "garbage":
        raw = b"\x00\xffnot a catalog"
    elif damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "edited":  # fraud's tag changed by hand
        raw = header + b"\n" + body.replace(b'"team":"ops"', b'"team":"oops"')
    elif damage == "schema":  # a later modelyard's catalog
        doc = json.loads(header)
        doc["schema_version"] = 99
        raw = json.dumps(doc).encode() + b"\n" + body
    elif damage == "row":  # a row that is not its model's, with the digest made to match
        rest = body.replace(b'["churn",1,', b'["churm",1,')
        doc = json.loads(header)
        doc["digest"] = "sha256:" + hashlib.sha256(rest).hexdigest()
        raw = json.dumps(doc).encode() + b"\n" + rest
    else:
        raw = b"[1, 2]\n" + body
    registry.store.write(CATALOG, raw)
    with caplog.at_level(logging.WARNING, logger="modelyard.registry"):
        found = Registry(registry.store, actor="ana").search(tags={"team": "ops"})
    assert sorted(v.name for v in found) == ["churn", "fraud"]
    assert "rebuilding the catalog from the logs" in caplog.text
    if damage == "schema":
        assert "schema_version 99" in caplog.text
    # The rebuilt catalog is stored again, and is whole.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modelyard.registry"):
        again = Registry(registry.store, actor="ana").search(tags={"team": "ops"})
    assert sorted(v.name for v in again) == ["churn", "fraud"]
    assert caplog.text == ""


def test_a_forged_catalog_can_narrow_a_search_but_never_change_what_it_returns() -> None:
    registry = Registry(MemoryStore(), actor="ana")
    registry.register("churn", b"w", tags={"team": "risk"}, metrics={"auc": 0.7})
    registry.search()
    header, _, body = registry.store.read(CATALOG).partition(b"\n")
    # A tag and a metric the version never had, with the digest made to match.
    forged = body.replace(b'"risk"', b'"rusk"').replace(b'"auc":0.7', b'"auc":0.9')
    assert forged.count(b'"rusk"') == 2  # in the index and in the row
    doc = json.loads(header)
    doc["digest"] = "sha256:" + hashlib.sha256(forged).hexdigest()
    registry.store.write(CATALOG, json.dumps(doc).encode() + b"\n" + forged)
    reader = Registry(registry.store, actor="ana")
    assert reader.search(tags={"team": "rusk"}) == []
    assert reader.search(min_metrics={"auc": 0.8}) == []
    # What it hides, a rebuild from the logs brings back.
    assert reader.search(tags={"team": "risk"}) == []
    assert reader.rebuild_catalog() == 1
    assert [v.metrics["auc"] for v in reader.search(tags={"team": "risk"})] == [0.7]


def test_rebuild_finds_an_event_whose_marker_was_lost() -> None:
    store = _NoMarkers()
    registry = Registry(store, actor="ana")
    store.failing = False
    registry.register("churn", b"w")
    registry.search()
    store.failing = True  # as a machine crash loses a marker written without waiting for disk
    registry.register("fraud", b"w")
    store.failing = False
    reader = Registry(store, actor="ana")
    assert [v.name for v in reader.search()] == ["churn"]
    assert reader.rebuild_catalog() == 2
    assert sorted(v.name for v in reader.search()) == ["churn", "fraud"]
    assert sorted(v.name for v in Registry(store, actor="ana").search()) == ["churn", "fraud"]


def test_bad_search_input_is_refused_before_the_catalog_is_written() -> None:
    registry = Registry(MemoryStore(), actor="ana")
    registry.register("churn", b"w")
    for bad in (
        {"order_by": "size"},
        {"limit": -1},
        {"tags": {"team": 3}},
        {"min_metrics": {"auc": "high"}},
        {"alias": "no such/alias"},
    ):
        with pytest.raises(InputError):
            registry.search(**bad)
    assert not registry.store.exists(CATALOG)


def test_a_reader_that_may_not_write_keeps_its_catalog_in_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _ReadOnlyCatalog()
    registry = Registry(store, actor="ana")
    registry.register("churn", b"w")
    assert [v.name for v in registry.search()] == ["churn"]
    registry.register("fraud", b"w")
    assert sorted(v.name for v in registry.search()) == ["churn", "fraud"]
    assert not store.exists(CATALOG)


def test_searches_in_other_processes_never_miss_a_version_whose_register_returned(
    tmp_path: Path,
) -> None:
    open_yard(tmp_path).registry.search()  # a stored catalog, as a busy yard has
    writers, count = 3, 30
    barrier = CTX.Barrier(writers)
    announced = CTX.Queue()
    results = CTX.Queue()
    searchers = [
        CTX.Process(
            target=_catalog_workers.search_after_announcements,
            args=(str(tmp_path), writers, cold_every, announced, results),
        )
        for cold_every in (1,)  # each search by a new object: stored catalog, then the feed
    ]
    warm = CTX.Queue()
    searchers.append(
        CTX.Process(
            target=_catalog_workers.search_after_announcements,
            args=(str(tmp_path), writers, 10**9, warm, results),
        )
    )
    relay = CTX.Queue()
    procs = [
        CTX.Process(
            target=_catalog_workers.register_and_announce,
            args=(str(tmp_path), w, count, barrier, relay),
        )
        for w in range(writers)
    ]
    for proc in searchers + procs:
        proc.start()
    done = 0
    while done < writers:  # hand every announcement to both searchers
        item = relay.get(timeout=180)
        announced.put(item)
        warm.put(item)
        done += item is None
    outcomes = [results.get(timeout=180) for _ in searchers]
    for proc in searchers + procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    for searches, missed in outcomes:
        assert searches == writers * count
        assert missed == []
    final = Registry(LocalStore(tmp_path), actor="ana").search()
    assert len(final) == writers * count


class _Counting:
    """A store that records each call: (method, key)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, str(args[0]) if args else ""))
            return method(*args, **kwargs)

        return counted


class _NoMarkers(MemoryStore):
    """A store that fails writes under feed/ while ``failing``."""

    failing = False

    def write(self, key: str, data: Any) -> None:
        if self.failing and key.startswith("feed/"):
            raise OSError("disk full")
        super().write(key, data)


class _ReadOnlyCatalog(MemoryStore):
    """A store whose permissions refuse writes under catalog/."""

    def write(self, key: str, data: Any) -> None:
        if key.startswith("catalog/"):
            raise PermissionError("access denied")
        super().write(key, data)
