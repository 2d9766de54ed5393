"""Lineage both ways, against a naive reference walk over the parents recorded at put time."""

from __future__ import annotations

import pytest

from modelyard.artifacts import ArtifactRef, ArtifactStore
from modelyard.errors import InputError
from modelyard.testing import FakeClock


@pytest.fixture
def graph(mem_artifacts: ArtifactStore, clock: FakeClock) -> dict[str, ArtifactRef]:
    """raw -> clean -> features -> model -> report, plus labels -> features and a diamond:
    clean -> {split-a, split-b} -> merged."""
    refs: dict[str, ArtifactRef] = {}

    def add(name: str, *parents: str) -> None:
        clock.advance(seconds=1)
        refs[name] = mem_artifacts.put(
            {"name": name}, name=name, parents=[refs[p] for p in parents]
        )

    add("raw")
    add("labels")
    add("clean", "raw")
    add("features", "clean", "labels")
    add("model", "features")
    add("report", "model")
    add("split-a", "clean")
    add("split-b", "clean")
    add("merged", "split-a", "split-b")
    return refs


def _naive(parents: dict[str, list[str]], start: str, up: bool, depth: int | None) -> set[str]:
    children: dict[str, list[str]] = {name: [] for name in parents}
    for child, ps in parents.items():
        for p in ps:
            children[p].append(child)
    step = parents if up else children
    reached, frontier, hops = set(), [start], 0
    while frontier and (depth is None or hops < depth):
        hops += 1
        frontier = [n for f in frontier for n in step[f] if n not in reached and n != start]
        reached.update(frontier)
    return reached


PARENTS = {
    "raw": [],
    "labels": [],
    "clean": ["raw"],
    "features": ["clean", "labels"],
    "model": ["features"],
    "report": ["model"],
    "split-a": ["clean"],
    "split-b": ["clean"],
    "merged": ["split-a", "split-b"],
}


@pytest.mark.parametrize("start", list(PARENTS))
@pytest.mark.parametrize("depth", [None, 0, 1, 2])
def test_ancestors_and_descendants_match_a_naive_walk(
    mem_artifacts: ArtifactStore, graph: dict[str, ArtifactRef], start: str, depth: int | None
) -> None:
    for direction, up in (("ancestors", True), ("descendants", False)):
        lineage = mem_artifacts.lineage(graph[start], direction=direction, depth=depth)
        names = {ref.name for ref in lineage.nodes} - {start}
        assert names == _naive(PARENTS, start, up, depth), direction
        assert lineage.nodes[0] == graph[start]
    both = mem_artifacts.lineage(f"{start}@latest", direction="both", depth=depth)
    expected = _naive(PARENTS, start, True, depth) | _naive(PARENTS, start, False, depth)
    assert {ref.name for ref in both.nodes} - {start} == expected


def test_edges_distances_and_helpers(
    mem_artifacts: ArtifactStore, graph: dict[str, ArtifactRef]
) -> None:
    lineage = mem_artifacts.lineage(graph["model"], direction="both")
    by_name = {ref.name: ref for ref in lineage.nodes}
    assert (graph["features"].id, graph["model"].id) in lineage.edges
    assert (graph["model"].id, graph["report"].id) in lineage.edges
    assert lineage.distance[graph["raw"].id] == 3
    assert lineage.distance[graph["report"].id] == 1
    assert {r.name for r in lineage.parents(graph["features"])} == {"clean", "labels"}
    assert [r.name for r in lineage.children(graph["model"].id)] == ["report"]
    assert [r.name for r in lineage.children(graph["model"])] == ["report"]
    assert {r.name for r in lineage.ancestors} == {"features", "clean", "labels", "raw"}
    assert {r.name for r in lineage.descendants} == {"report"}
    assert set(by_name) == {"model", "features", "clean", "labels", "raw", "report"}
    mermaid = lineage.to_mermaid()
    assert mermaid.startswith("graph LR") and f"model:{graph['model'].short_id}" in mermaid


def test_diamond_is_reached_once(
    mem_artifacts: ArtifactStore, graph: dict[str, ArtifactRef]
) -> None:
    lineage = mem_artifacts.lineage(graph["merged"])
    names = [ref.name for ref in lineage.nodes]
    assert sorted(names) == ["clean", "merged", "raw", "split-a", "split-b"]
    assert lineage.distance[graph["clean"].id] == 2


def test_bad_arguments(mem_artifacts: ArtifactStore, graph: dict[str, ArtifactRef]) -> None:
    with pytest.raises(InputError):
        mem_artifacts.lineage(graph["raw"], direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        mem_artifacts.lineage(graph["raw"], depth=-1)
