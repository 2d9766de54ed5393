"""Walking lineage: parents come from manifests, children from the ``lineage/`` index."""

from __future__ import annotations

from types import MappingProxyType

from modelyard.artifacts._catalog import read_manifest, ref_of
from modelyard.artifacts._layout import LINEAGE, manifest_key
from modelyard.artifacts._refs import ArtifactRef
from modelyard.artifacts._reports import Direction, Lineage
from modelyard.errors import NotFoundError
from modelyard.storage import Store

__all__ = ["children_of", "walk"]


def children_of(store: Store, artifact_id: str) -> list[str]:
    """Ids of the artifacts that name ``artifact_id`` as a parent.

    The index is written before the child's manifest, so an entry whose manifest is absent
    belongs to a put that has not finished (or died): it is skipped.
    """
    prefix = f"{LINEAGE}{artifact_id.split(':', 1)[1]}/"
    children = []
    for key in store.list(prefix):
        child = f"sha256:{key[len(prefix) :]}"
        if store.exists(manifest_key(child)):
            children.append(child)
    return children


def walk(store: Store, root: ArtifactRef, direction: Direction, depth: int | None) -> Lineage:
    nodes: dict[str, ArtifactRef] = {root.id: root}
    distance = {root.id: 0}
    edges: dict[tuple[str, str], None] = {}
    for up in (True, False):
        if (up and direction == "descendants") or (not up and direction == "ancestors"):
            continue
        frontier = [root.id]
        hops = 0
        seen = {root.id}
        while frontier and (depth is None or hops < depth):
            hops += 1
            following = []
            for current in frontier:
                if up:
                    linked = list(read_manifest(store, current).parents)
                else:
                    linked = children_of(store, current)
                for other in linked:
                    edges[(other, current) if up else (current, other)] = None
                    if other in seen:
                        continue
                    seen.add(other)
                    try:
                        nodes.setdefault(other, ref_of(other, read_manifest(store, other)))
                    except NotFoundError:
                        continue  # a parent removed by gc outside the kept set: not reached
                    distance.setdefault(other, hops)
                    following.append(other)
            frontier = following
    kept_edges = tuple(e for e in edges if e[0] in nodes and e[1] in nodes)
    ordered = sorted(nodes.values(), key=lambda ref: (distance[ref.id], ref.id))
    return Lineage(
        root=root,
        direction=direction,
        nodes=tuple(ordered),
        edges=kept_edges,
        distance=MappingProxyType(distance),
    )
