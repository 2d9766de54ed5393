"""What each operation asks of the store: counted by kind on a local S3 server, exactly.

Every figure is for a yard opened afresh (what a new process or a pipeline step pays), counted
with :class:`CountingStore` around the S3 store, and cross-checked against the requests the S3
server itself received. ``COSTS`` is the one table to update when an operation's cost changes
on purpose; ``docs/storage.md`` quotes it. The bound tests below run on memory: that a cost does
not grow with the number of models, artifacts or versions is a property of the code, not of the
backend.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelyard.artifacts import ArtifactRef
from modelyard.storage import CountingStore, FsspecStore, MemoryStore, Store
from modelyard.yard import Yard, open_yard

from ..conftest import S3Requests

FOLDER_FILES = 10
SEARCHED_MODELS = 4

#: Store requests of one operation on a freshly opened yard on S3, by kind. Opening the yard is
#: its own row, not included in the others.
COSTS: dict[str, dict[str, int]] = {
    "open a yard": {"read": 1},
    "put a small object": {"exists": 1, "list": 2, "write": 1, "create": 3, "delete": 1},
    f"put a folder of {FOLDER_FILES} files": {
        "exists": 2,
        "list": 3,
        "write": 1,
        "create": 4,
        "delete": 1,
    },
    "get a small object (name@latest)": {"read": 2, "list": 1},
    f"get a folder of {FOLDER_FILES} files": {"read": 2, "open": 1, "list": 1},
    "register a first version": {"read": 5, "exists": 4, "list": 5, "write": 1, "create": 4},
    "register a second version": {"read": 5, "exists": 3, "list": 4, "write": 1, "create": 1},
    "resolve an alias": {"read": 6, "exists": 1, "list": 2},
    "resolve @latest": {"read": 6, "exists": 1, "list": 2},
    "load @latest": {"read": 8, "exists": 1, "list": 2},
    f"search {SEARCHED_MODELS} models": {"read": 15, "exists": 4, "list": 7, "write": 1},
}

#: Requests an operation may make beyond its row, and why. The catalog brings itself up to date
#: from the event feed, whose markers are listed by time slice: when the feed's look-back window
#: crosses a slice boundary, one more listing is made.
SLACK: dict[str, dict[str, int]] = {f"search {SEARCHED_MODELS} models": {"list": 1}}


def _within(counts: dict[str, int], expected: dict[str, int], slack: dict[str, int]) -> bool:
    kinds = set(counts) | set(expected)
    return all(
        expected.get(k, 0) <= counts.get(k, 0) <= expected.get(k, 0) + slack.get(k, 0)
        for k in kinds
    )


# The S3 requests behind each store request for small values (FsspecStore; see
# test_s3_requests.py): opening fetches the size and ETag first, and S3 deletes a missing key
# silently, so a delete looks first.
_HTTP = {
    "read": ("GET",),
    "open": ("HEAD", "GET"),
    "exists": ("HEAD",),
    "list": ("LIST",),
    "write": ("PUT",),
    "create": ("PUT",),
    "delete": ("HEAD", "DELETE"),
}


@pytest.fixture(autouse=True)
def _production_settle(_quick_gc_settle: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Count what production pays. The suite shortens gc's settle time, and a registration that
    takes longer than half of it re-checks its artifact (a listing, a read and a lookup more):
    on the test S3 server that would depend on the machine's load."""
    from modelyard.artifacts import _references

    monkeypatch.setattr(_references, "SETTLE", 4.0)


def _folder(root: Path) -> Path:
    folder = root / "folder"
    folder.mkdir(exist_ok=True)
    for index in range(FOLDER_FILES):
        (folder / f"part-{index:03d}.txt").write_text(f"file {index}\n")
    return folder


def _nothing(yard: Yard, root: Path) -> object:
    return None


def _model(yard: Yard, name: str = "churn") -> ArtifactRef:
    artifact = yard.artifacts.put({"weights": [1, 2, 3]}, name=f"{name}-model")
    yard.registry.register(name, artifact, tags={"team": "risk"})
    return artifact


def _two_versions(yard: Yard, root: Path) -> object:
    _model(yard)
    yard.registry.register("churn", yard.artifacts.put({"weights": [4]}, name="churn-model"))
    yard.registry.set_alias("churn", "champion", 1)
    return None


def _models(yard: Yard, root: Path) -> object:
    for index in range(SEARCHED_MODELS):
        _model(yard, f"model-{index}")
    return None


def _small(yard: Yard, root: Path) -> object:
    return yard.artifacts.put({"weights": [1]}, name="churn-model")


def _tree(yard: Yard, root: Path) -> object:
    return yard.artifacts.put(_folder(root), name="tree")


# What is stored first (not counted; its result is handed on), then what is counted. A
# registration is handed the artifact's ref, as a pipeline that has just stored the artifact.
Scenario = tuple[Callable[[Yard, Path], object], Callable[[Yard, Path, Any], object]]

#: How each row of COSTS is produced.
SCENARIOS: dict[str, Scenario] = {
    "open a yard": (_nothing, lambda yard, root, _: None),
    "put a small object": (_nothing, lambda yard, root, _: _small(yard, root)),
    f"put a folder of {FOLDER_FILES} files": (_nothing, lambda yard, root, _: _tree(yard, root)),
    "get a small object (name@latest)": (
        _small,
        lambda yard, root, _: yard.artifacts.get("churn-model@latest"),
    ),
    f"get a folder of {FOLDER_FILES} files": (
        _tree,
        lambda yard, root, _: yard.artifacts.get("tree@latest", dest=root / "restored"),
    ),
    "register a first version": (
        _small,
        lambda yard, root, artifact: yard.registry.register("churn", artifact),
    ),
    "register a second version": (
        lambda yard, root: _model(yard),
        lambda yard, root, artifact: yard.registry.register("churn", artifact),
    ),
    "resolve an alias": (
        _two_versions,
        lambda yard, root, _: yard.registry.resolve("churn@champion"),
    ),
    "resolve @latest": (_two_versions, lambda yard, root, _: yard.registry.resolve("churn@latest")),
    "load @latest": (_two_versions, lambda yard, root, _: yard.registry.load("churn@latest")),
    f"search {SEARCHED_MODELS} models": (_models, lambda yard, root, _: yard.registry.search()),
}


def counted(make_store: Callable[[], Store], run: Callable[[Yard], object]) -> dict[str, int]:
    """The store requests of ``run`` on a yard opened afresh on ``make_store()``."""
    store = CountingStore(make_store())
    yard = open_yard(store)
    store.reset()
    run(yard)
    return store.counts


def test_the_table_and_the_scenarios_name_the_same_operations() -> None:
    assert list(SCENARIOS) == list(COSTS)


@pytest.mark.s3
@pytest.mark.parametrize("operation", list(COSTS))
def test_requests_of_each_operation_on_s3(
    operation: str, s3_url: str, s3_endpoint: str, s3_requests: S3Requests, tmp_path: Path
) -> None:
    pytest.importorskip("s3fs", minversion="2024.12.0")

    def s3() -> Store:
        return FsspecStore(s3_url, endpoint_url=s3_endpoint, key="testing", secret="testing")

    setup, run = SCENARIOS[operation]
    prepared = setup(open_yard(s3()), tmp_path)
    if operation == "open a yard":
        store = CountingStore(s3())
        s3_requests.take()
        open_yard(store)
        counts = store.counts
    else:
        yard_store = CountingStore(s3())
        yard = open_yard(yard_store)
        yard_store.reset()
        s3_requests.take()
        run(yard, tmp_path, prepared)
        counts = yard_store.counts
    http = Counter(
        "LIST" if "list-type=2" in query else method for method, _, query in s3_requests.take()
    )
    assert _within(counts, COSTS[operation], SLACK.get(operation, {})), counts
    expected_http = Counter(method for kind, n in counts.items() for method in _HTTP[kind] * n)
    assert http == expected_http


# -- bounds: what does not grow with the size of the yard -------------------------------------


def _cold_costs(inner: MemoryStore, root: Path) -> dict[str, dict[str, int]]:
    """The cost of each read and write of model "churn" and artifact "cfg" on a fresh yard."""
    artifact = open_yard(inner).artifacts.resolve("cfg@latest")
    costs = {}
    for label, run in {
        "resolve an alias": lambda yard: yard.registry.resolve("churn@champion"),
        "resolve @latest": lambda yard: yard.registry.resolve("churn@latest"),
        "load @latest": lambda yard: yard.registry.load("churn@latest"),
        "get a small object": lambda yard: yard.artifacts.get("cfg@latest"),
        "put a small object": lambda yard: yard.artifacts.put({"a": 2}, name="cfg"),
        "register a version": lambda yard: yard.registry.register("churn", artifact),
        "register a first version": lambda yard: yard.registry.register(
            f"new-{uuid.uuid4().hex[:8]}", artifact
        ),
    }.items():
        costs[label] = counted(lambda: inner, run)
    return costs


def _yard_with(versions: int, others: int) -> MemoryStore:
    inner = MemoryStore()
    yard = open_yard(inner)
    artifact = yard.artifacts.put({"a": 1}, name="cfg")
    for index in range(others):
        _model(yard, f"other-{index}")
    for _ in range(versions):
        yard.registry.register("churn", artifact)
    yard.registry.set_alias("churn", "champion", 1)
    return inner


def test_costs_do_not_grow_with_the_number_of_other_models_and_artifacts(tmp_path: Path) -> None:
    few = _cold_costs(_yard_with(versions=3, others=1), tmp_path)
    many = _cold_costs(_yard_with(versions=3, others=25), tmp_path)
    assert many == few


@pytest.mark.parametrize("versions", [69, 101])
def test_model_costs_do_not_grow_with_the_number_of_versions(versions: int, tmp_path: Path) -> None:
    # A cold read starts from the newest snapshot of the fold (one every 32 events), so past the
    # first snapshot its cost repeats with that period instead of growing: 37, 69 and 101
    # versions (and the alias move, one event more) sit at the same place in it.
    assert _cold_costs(_yard_with(versions, others=0), tmp_path) == _cold_costs(
        _yard_with(37, others=0), tmp_path
    )
