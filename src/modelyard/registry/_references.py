"""What the registry refers to in the artifact store: gc roots, and the check ``verify`` runs.

Every version ever registered pins its artifact, soft-deleted versions included: a deleted version
stays in the history, and history must stay loadable. Evidence attached to a version is pinned the
same way, for as long as the attachment is in the log. The registry writes nothing to pin: its
logs are the roots, read by :func:`registry_roots`, which the top-level package declares as a root
source of the artifact layer. Versions registered before root sources existed are protected too.

A model whose log cannot be read makes :func:`registry_roots` raise: the registry cannot say what
that model refers to, so a gc deletes nothing until the log is repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelyard.artifacts import ArtifactStore, VerifyReport
from modelyard.errors import InputError, IntegrityError
from modelyard.registry._layout import INDEX, ROOT
from modelyard.registry._log import EventLog
from modelyard.registry._state import ModelState
from modelyard.storage import Store

__all__ = ["ReferenceProblem", "check_references", "model_names", "registry_roots"]


@dataclass(frozen=True)
class ReferenceProblem:
    """A registry version whose artifact (or an attached artifact) is not whole, or a model whose
    log cannot be read.

    Attributes:
        model: the model's name.
        version: the version number (None for ``"unreadable-model"``).
        artifact: the id of the version's artifact (None for ``"unreadable-model"``).
        kind: ``"missing-artifact"`` (no such artifact in the store), ``"missing-blob"`` (its
            manifest is there, a blob it needs is not), ``"corrupt-artifact"`` (its manifest or
            a blob does not match its digest) or ``"unreadable-model"``.
        detail: what was wrong, in words.
        deleted: whether the version was deleted (its artifact is still kept for history).
        evidence: the kind of evidence, when the artifact is one attached to the version rather
            than the version's own (None otherwise).
    """

    model: str
    version: int | None
    artifact: str | None
    kind: Literal["missing-artifact", "missing-blob", "corrupt-artifact", "unreadable-model"]
    detail: str
    deleted: bool = False
    evidence: str | None = None


def model_names(store: Store) -> list[str]:
    """Every model with an index marker or a log, so a lost marker hides no model from gc."""
    names = set(EventLog(store).names())
    prefix = f"{ROOT}/"
    for key in store.list(prefix):
        if key.startswith(INDEX):
            continue
        name, _, rest = key[len(prefix) :].partition("/")
        if rest.startswith("log/"):
            names.add(name)
    return sorted(names)


def _states(store: Store) -> list[ModelState]:
    log = EventLog(store)
    return [log.state(name) for name in model_names(store)]


def registry_roots(store: Store) -> set[str]:
    """The id of the artifact of every version of every model in ``store``'s registry, and of
    every artifact attached to a version as evidence.

    Raises if a model's log cannot be read (see the module doc).

    >>> import modelyard as my
    >>> yard = my.open_yard("memory://registry-roots-doctest")
    >>> mv = yard.registry.register("churn", b"weights", actor="ana")
    >>> registry_roots(yard.store) == {mv.artifact}
    True
    """
    roots = set()
    for state in _states(store):
        for version in state.versions.values():
            roots.add(version.artifact)
        for evidence in state.evidence:
            roots.add(evidence.artifact)
    return roots


def check_references(
    store: Store, artifacts: ArtifactStore, report: VerifyReport
) -> tuple[ReferenceProblem, ...]:
    """Every registry version whose artifact is missing, incomplete or corrupt.

    ``report`` is ``artifacts.verify()`` of the whole store; its problems tell which artifacts
    are incomplete or corrupt. Never raises for damage: an unreadable model log is reported.
    """
    by_artifact: dict[str, list[str]] = {}
    for problem in report.problems:
        for artifact_id in problem.artifacts:
            by_artifact.setdefault(artifact_id, []).append(problem.kind)
    stored: dict[str, bool] = {}
    found: list[ReferenceProblem] = []
    log = EventLog(store)
    for name in model_names(store):
        try:
            state = log.state(name)
        except Exception as exc:
            found.append(
                ReferenceProblem(
                    name, None, None, "unreadable-model", f"the log cannot be read: {exc}"
                )
            )
            continue
        refers: list[tuple[int, str, bool, str | None]] = [
            (n, v.artifact, v.deleted, None) for n, v in sorted(state.versions.items())
        ]
        for item in state.evidence:
            record = state.versions.get(item.version)
            deleted = record is not None and record.deleted
            refers.append((item.version, item.artifact, deleted, item.kind))
        for number, artifact_id, deleted, evidence in refers:
            kinds = by_artifact.get(artifact_id, [])
            if artifact_id not in stored:
                try:
                    stored[artifact_id] = bool(kinds) or artifacts.exists(artifact_id)
                except IntegrityError:
                    stored[artifact_id] = True  # stored but damaged: verify() reported it
                except InputError:
                    stored[artifact_id] = False  # not even an artifact id
            if not stored[artifact_id]:
                kind: Literal["missing-artifact", "missing-blob", "corrupt-artifact"] = (
                    "missing-artifact"
                )
                detail = f"artifact {artifact_id} is not in the store"
            elif "missing-blob" in kinds:
                kind, detail = "missing-blob", f"a blob of artifact {artifact_id} is missing"
            elif kinds:
                kind, detail = "corrupt-artifact", f"artifact {artifact_id} is damaged"
            else:
                continue
            if evidence is not None:
                detail = f"{detail} (attached to version {number} as {evidence!r})"
            found.append(
                ReferenceProblem(
                    name, number, artifact_id, kind, detail, deleted=deleted, evidence=evidence
                )
            )
    return tuple(found)
