"""Results of ``lineage``, ``verify`` and ``gc``: frozen values, safe to share between threads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from modelyard._internal.reprs import brief
from modelyard.artifacts._refs import ArtifactRef

__all__ = ["GcReport", "Lineage", "Problem", "VerifyReport"]

Direction = Literal["ancestors", "descendants", "both"]


@dataclass(frozen=True)
class Lineage:
    """The lineage graph around one artifact.

    Attributes:
        root: the artifact the walk started from.
        direction: ``"ancestors"`` (what it was made from), ``"descendants"`` (what was made from
            it) or ``"both"``.
        nodes: every artifact reached, the root first, then by distance from the root.
        edges: ``(parent id, child id)`` pairs between reached artifacts.
        distance: hops from the root for each reached id (ancestors and descendants both count
            upwards from 0 at the root).

    >>> from modelyard.artifacts import ArtifactStore
    >>> from modelyard.storage import MemoryStore
    >>> artifacts = ArtifactStore(MemoryStore())
    >>> raw = artifacts.put(b"raw", name="raw")
    >>> clean = artifacts.put(b"clean", name="clean", parents=[raw])
    >>> model = artifacts.put(b"model", name="model", parents=[clean])
    >>> lineage = artifacts.lineage(clean, direction="both")
    >>> [ref.name for ref in lineage.ancestors], [ref.name for ref in lineage.descendants]
    (['raw'], ['model'])
    >>> lineage.distance[raw.id], [ref.name for ref in lineage.parents(clean)]
    (1, ['raw'])
    """

    root: ArtifactRef
    direction: Direction
    nodes: tuple[ArtifactRef, ...]
    edges: tuple[tuple[str, str], ...]
    distance: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def parents(self, ref: ArtifactRef | str) -> tuple[ArtifactRef, ...]:
        """The reached parents of ``ref``."""
        return self._linked(str(ref), child_side=True)

    def children(self, ref: ArtifactRef | str) -> tuple[ArtifactRef, ...]:
        """The reached children of ``ref``."""
        return self._linked(str(ref), child_side=False)

    @property
    def ancestors(self) -> tuple[ArtifactRef, ...]:
        """Reached artifacts the root was (transitively) made from."""
        return self._walk(up=True)

    @property
    def descendants(self) -> tuple[ArtifactRef, ...]:
        """Reached artifacts (transitively) made from the root."""
        return self._walk(up=False)

    def _linked(self, key: str, *, child_side: bool) -> tuple[ArtifactRef, ...]:
        by_id = {node.id: node for node in self.nodes}
        ids = (
            [p for p, c in self.edges if c == key]
            if child_side
            else [c for p, c in self.edges if p == key]
        )
        return tuple(by_id[i] for i in ids if i in by_id)

    def _walk(self, *, up: bool) -> tuple[ArtifactRef, ...]:
        by_id = {node.id: node for node in self.nodes}
        seen: dict[str, None] = {}
        frontier = [self.root.id]
        while frontier:
            following = []
            for current in frontier:
                for parent, child in self.edges:
                    nxt = (
                        parent
                        if up and child == current
                        else child
                        if not up and parent == current
                        else None
                    )
                    if nxt is not None and nxt not in seen and nxt != self.root.id:
                        seen[nxt] = None
                        following.append(nxt)
            frontier = following
        return tuple(by_id[i] for i in seen if i in by_id)

    def to_mermaid(self) -> str:
        """A Mermaid ``graph`` of the lineage (paste into Markdown that renders Mermaid)."""
        lines = ["graph LR"]
        lines.extend(f'    {node.hex[:12]}["{node.spec}"]' for node in self.nodes)
        lines.extend(f"    {p[7:19]} --> {c[7:19]}" for p, c in self.edges)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return brief(
            self, "direction", root=self.root.spec, nodes=len(self.nodes), edges=len(self.edges)
        )


@dataclass(frozen=True)
class Problem:
    """One thing ``verify`` found wrong.

    Attributes:
        kind: ``"blob"`` (content whose bytes do not match its digest), ``"missing-blob"`` (a
            manifest needs a blob that is gone), ``"manifest"`` (manifest bytes that do not match
            the artifact id or do not parse), or ``"name"`` (a name entry whose artifact is gone).
        key: the storage key concerned.
        detail: what was wrong, in words.
        artifacts: ids of the artifacts affected.
    """

    kind: Literal["blob", "missing-blob", "manifest", "name"]
    key: str
    detail: str
    artifacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` checked and what it found.

    Attributes:
        artifacts: how many manifests were checked.
        blobs: how many blobs were re-hashed.
        bytes: how many content bytes were re-hashed.
        problems: everything found wrong; empty when all is well.
        orphans: blobs no manifest refers to (harmless; ``gc`` removes them).

    >>> from modelyard.artifacts import ArtifactStore
    >>> from modelyard.storage import MemoryStore
    >>> store = MemoryStore()
    >>> artifacts = ArtifactStore(store)
    >>> ref = artifacts.put(b"weights", name="model")
    >>> artifacts.verify().ok
    True
    >>> key = f"blobs/sha256/{ref.digest[7:9]}/{ref.digest[9:]}"
    >>> store.write(key, b"weightz")  # a flipped byte
    >>> report = artifacts.verify()
    >>> report.ok, report.corrupt == (ref.id,), report.problems[0].kind
    (False, True, 'blob')
    """

    artifacts: int
    blobs: int
    bytes: int
    problems: tuple[Problem, ...] = ()
    orphans: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is corrupt or missing."""
        return not self.problems

    @property
    def corrupt(self) -> tuple[str, ...]:
        """Ids of every artifact affected by a problem."""
        return tuple(dict.fromkeys(a for p in self.problems for a in p.artifacts))


@dataclass(frozen=True)
class GcReport:
    """What ``gc`` kept and removed (or, with ``dry_run=True``, would remove).

    Attributes:
        dry_run: True if nothing was deleted.
        kept: how many artifacts were kept (reachable from a root).
        artifacts: ids of the artifacts removed.
        blobs: digests of the blobs removed.
        bytes: content bytes freed.
        deferred: True if the sweep was skipped because puts were in flight; run it again later.
        in_flight: how many puts were in flight when the sweep was decided.
        pinned: how many stored artifacts the root sources (the registry) refer to.
        refused: why nothing was swept, if gc could not account for everything it would delete:
            an unreadable manifest or one from a newer modelyard, a root source that could not
            tell what it refers to, or no room for the gc's lease. Empty when gc went ahead.
        unreadable: ids of the manifests gc could not read (each also explained in ``refused``).
        interrupted: True if gc stopped midway because it could not renew its lease in time (it
            was paused, or the store refused the renewals): ``artifacts`` and ``blobs`` then list
            only what was removed before it stopped. Run it again.

    >>> from datetime import timedelta
    >>> from modelyard.artifacts import ArtifactStore
    >>> from modelyard.storage import MemoryStore
    >>> artifacts = ArtifactStore(MemoryStore())
    >>> keep = artifacts.put(b"keep")
    >>> scratch = artifacts.put(b"scratch")
    >>> report = artifacts.gc(roots=[keep], grace=timedelta(0))  # a dry run
    >>> report.artifacts == (scratch.id,), artifacts.exists(scratch)
    (True, True)
    >>> artifacts.gc(roots=[keep], grace=timedelta(0), dry_run=False).blobs == (scratch.digest,)
    True
    >>> artifacts.exists(scratch), artifacts.exists(keep)
    (False, True)
    """

    dry_run: bool
    kept: int
    artifacts: tuple[str, ...] = ()
    blobs: tuple[str, ...] = ()
    bytes: int = 0
    deferred: bool = False
    in_flight: int = 0
    pinned: int = 0
    refused: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        """True if gc did (or, in a dry run, would do) the whole sweep: not deferred, refused
        or interrupted."""
        return not (self.deferred or self.refused or self.interrupted)
