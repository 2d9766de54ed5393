"""A model card: what the yard knows about one version, for a reviewer or an auditor.

The card is assembled from the registry's log and the artifacts' manifests only, so it states
what the yard can show rather than what someone wrote about it: the version's description,
metrics, parameters and tags; its artifact and the artifacts it was made from (data and code);
the environment that produced it; every approval and transition with who, when and why; and the
evidence attached to it. It names the log event it reflects (``head``, ``head_digest``), so a
card can be checked against the verified log later.

Every value on a card came from the store, and whoever can write to the store chose it; the
renderers (``_card_markdown.py``, ``_card_html.py``) escape each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from modelyard.artifacts import ArtifactRef, ArtifactStore, CodeRecord
from modelyard.errors import ModelyardError
from modelyard.lifecycle import Approval
from modelyard.registry._events import Event, Transitioned
from modelyard.registry._records import Evidence, HistoryEntry, ModelVersion
from modelyard.registry._state import ModelState

__all__ = ["ModelCard", "build_card"]


@dataclass(frozen=True)
class ModelCard:
    """What the yard knows about one model version; render it with :meth:`to_markdown` or
    :meth:`to_html` (see :meth:`Registry.card`).

    Attributes:
        version: the version (metrics, params, tags, aliases, state, description, creator).
        model_description: the model's own description.
        model_tags: the model's own tags.
        artifact: the version's artifact.
        codec: the codec that stored it.
        artifact_created_at: when the artifact was stored.
        python: the Python version that produced the artifact.
        packages: the packages (and versions) the codec recorded.
        lineage: the artifacts it was made from (data, code, ...), nearest first; empty when the
            artifact was stored without parents.
        approvals: every approval recorded for this version, oldest first.
        transitions: every transition and rollback that moved this version, oldest first
            (as the version entered or left a state, displacements included).
        evidence: the evidence attached to the version, newest first.
        evidence_artifacts: the attached artifacts by id (missing ids could not be read).
        head: the number of the model's last log event the card reflects.
        head_digest: the digest of that event (None for logs written before the chain).
        artifact_code: the code that stored the artifact, when recorded (the code that
            registered the version is ``version.code``).
    """

    version: ModelVersion
    model_description: str
    model_tags: Mapping[str, str]
    artifact: ArtifactRef
    codec: str
    artifact_created_at: datetime
    python: str
    packages: Mapping[str, str]
    lineage: tuple[ArtifactRef, ...] = ()
    approvals: tuple[Approval, ...] = ()
    transitions: tuple[HistoryEntry, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    evidence_artifacts: Mapping[str, ArtifactRef] = field(
        default_factory=lambda: MappingProxyType({})
    )
    head: int = 0
    head_digest: str | None = None
    artifact_code: CodeRecord | None = None

    @property
    def ref(self) -> str:
        """``"name/3"``."""
        return self.version.ref

    def to_markdown(self) -> str:
        """The card as Markdown (GitHub flavour: tables); every stored value is escaped."""
        from modelyard.registry._card_markdown import render_markdown

        return render_markdown(self)

    def to_html(self) -> str:
        """The card as one self-contained HTML page: no scripts, no external assets, and a
        content security policy that forbids both; every stored value is escaped."""
        from modelyard.registry._card_html import render_html

        return render_html(self)

    def __repr__(self) -> str:
        return (
            f"ModelCard({self.ref!r}, state={self.version.state!r}, "
            f"approvals={len(self.approvals)}, transitions={len(self.transitions)}, "
            f"evidence={len(self.evidence)})"
        )


def build_card(
    state: ModelState,
    version: ModelVersion,
    events: list[Event],
    artifacts: ArtifactStore,
    history: Any,
) -> ModelCard:
    """The card of ``version``; ``events`` is the model's log up to ``state.head`` and
    ``history`` turns an event into a :class:`HistoryEntry`."""
    number = version.version
    manifest = artifacts.manifest(version.artifact)
    artifact = artifacts.resolve(version.artifact)
    lineage = artifacts.lineage(artifact, "ancestors")
    evidence = tuple(e for e in reversed(state.evidence) if e.version == number)
    found: dict[str, ArtifactRef] = {}
    for item in evidence:
        if item.artifact not in found:
            ref = _maybe_ref(artifacts, item.artifact)
            if ref is not None:
                found[item.artifact] = ref
    moves = tuple(
        history(event)
        for event in events
        if isinstance(event, Transitioned) and any(c.version == number for c in event.changes)
    )
    return ModelCard(
        version=version,
        model_description=state.description,
        model_tags=state.tags,
        artifact=artifact,
        codec=manifest.codec,
        artifact_created_at=manifest.created_at,
        python=manifest.environment.python,
        packages=MappingProxyType(dict(manifest.environment.packages)),
        lineage=tuple(node for node in lineage.nodes if node.id != artifact.id),
        approvals=tuple(a for a in state.approvals if a.version == number),
        transitions=moves,
        evidence=evidence,
        evidence_artifacts=MappingProxyType(found),
        head=state.head,
        head_digest=state.head_digest,
        artifact_code=manifest.code,
    )


def _maybe_ref(artifacts: ArtifactStore, artifact_id: str) -> ArtifactRef | None:
    try:
        return artifacts.resolve(artifact_id)
    except ModelyardError:
        return None  # the card still lists the attachment, without what the artifact is
