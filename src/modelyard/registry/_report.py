"""What ``Registry.verify()`` returns: a typed report, never an exception for a damaged model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LogProblem", "ModelCheck", "ProblemKind", "RegistryReport"]

ProblemKind = Literal[
    "event",
    "newer",
    "order",
    "chain",
    "foreign",
    "hole",
    "snapshot",
    "stray",
    "name",
    "unsigned",
    "governance",
]


@dataclass(frozen=True)
class LogProblem:
    """One thing ``verify`` found wrong in the registry's stored data.

    Attributes:
        kind: ``"event"`` (an event that does not parse or cannot apply to the model),
            ``"newer"`` (written by a newer modelyard), ``"order"`` (an event stored under
            another number), ``"chain"`` (an event whose predecessor was edited, replaced or
            removed), ``"foreign"`` (an event of another model, e.g. a folder copied by hand),
            ``"hole"`` (a missing event with later events present), ``"snapshot"`` (a snapshot
            that does not match the chain; reads skip it), ``"stray"`` (a file in a log or
            snapshot folder that is neither), ``"name"`` (a name claim or index entry that is
            damaged or missing), ``"unsigned"`` (a change of who holds a protected stage without
            its countersign: written by someone without write access to ``stages/``) or
            ``"governance"`` (the yard's governance log is damaged; its key is named).
        key: the storage key concerned.
        detail: what is wrong, in words.
    """

    kind: ProblemKind
    key: str
    detail: str


@dataclass(frozen=True)
class ModelCheck:
    """What ``verify`` found for one model.

    Attributes:
        name: the model's name.
        events: how many events its log holds.
        head_digest: the sha256 of its last event's stored bytes. Kept somewhere the store's
            writers cannot reach, it detects a log rewritten from an edit to its head, which no
            check inside the store can.
        chained: whether the log has events in the chained format (False for a log written
            entirely before the chain existed, whose events carry no digests to check).
        problems: everything found wrong; empty when the model is sound.
    """

    name: str
    events: int
    head_digest: str | None
    chained: bool
    problems: tuple[LogProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with this model."""
        return not self.problems


@dataclass(frozen=True)
class RegistryReport:
    """What ``Registry.verify()`` checked and found, model by model.

    >>> from modelyard.registry import Registry
    >>> from modelyard.storage import MemoryStore
    >>> store = MemoryStore()
    >>> registry = Registry(store, actor="ana")
    >>> _ = registry.register("churn", b"v1"), registry.register("churn", b"v2")
    >>> registry.verify().ok
    True
    >>> store.delete("models/churn/log/000000000001.json")  # an event removed by hand
    >>> report = registry.verify()
    >>> report.ok, [(p.kind, p.key) for p in report.problems]
    (False, [('hole', 'models/churn/log/000000000001.json')])
    """

    models: tuple[ModelCheck, ...]
    #: Problems of the yard's governance log (stored lifecycles and roles).
    governance: tuple[LogProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no model and not the governance log has a problem."""
        return not self.governance and all(model.ok for model in self.models)

    @property
    def problems(self) -> tuple[LogProblem, ...]:
        """Every problem of the governance log and of every model."""
        return self.governance + tuple(p for model in self.models for p in model.problems)

    def model(self, name: str) -> ModelCheck:
        """The check of model ``name``; ``KeyError`` if it was not checked."""
        for check in self.models:
            if check.name == name:
                return check
        raise KeyError(name)
